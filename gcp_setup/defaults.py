"""What gcp-setup sets up when nothing says otherwise. The Terraform module's defaults equal these
(tests/terraform/test_parity.py holds the two together)."""

GENERATIVE_LANGUAGE_API = "generativelanguage.googleapis.com"
VERTEX_AI_API = "aiplatform.googleapis.com"

# The APIs the product needs, plus what provisioning itself calls (Resource Manager, Service Usage,
# IAM, API Keys) and what impersonation needs (IAM Credentials).
SERVICES: tuple[str, ...] = (
    GENERATIVE_LANGUAGE_API,
    VERTEX_AI_API,
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "apikeys.googleapis.com",
)

TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
"""What --credentials impersonate grants the impersonator on the service account."""
EMULATOR_CALLER = "user:developer@example.com"
"""Who an anonymous request to the emulator acts as (gcloud with auth/disable_credentials, anonymous
clients): the owner of the projects it creates, and so the default impersonator there."""

SERVICE_ACCOUNT_ID = "gemini-client"
SERVICE_ACCOUNT_DISPLAY_NAME = "Gemini client (gcp-setup)"
ROLES: tuple[str, ...] = ("roles/aiplatform.expressUser",)
"""The smallest predefined role (by Google's role data, the emulator's iam-roles registry) that grants what
every Agent Platform (Vertex AI) check needs, aiplatform.endpoints.predict (38 permissions, where
roles/aiplatform.user has 446); Google's bound-key pages use it. The Gemini API key needs no role."""
FORMER_ROLES: tuple[str, ...] = ("roles/aiplatform.user",)
"""gcp-setup's default before: on a project it set up then, apply's plan replaces it with ROLES (a `~`)."""

# The Gemini API key. An auth key (the default) is bound to the service account and gets a numbered ID,
# gemini-key-1, gemini-key-2, ...: a replacement (a rotation, a migration, a repair) takes the next
# number, because a deleted key keeps its ID for 30 days. A standard key (--api-key-type standard, which
# the Gemini API rejects since September 2026) keeps the fixed ID gcp-setup always gave it.
API_KEY_TYPES: tuple[str, ...] = ("auth", "standard")
API_KEY_TYPE = "auth"
API_KEY_ID_PREFIX = "gemini-key-"
API_KEY_ID = "gemini-api-key"
"""The standard key's ID (the only ID gcp-setup used before auth keys: the migration replaces it)."""
API_KEY_DISPLAY_NAME = "Gemini API key (gcp-setup)"
API_KEY_TARGETS: tuple[str, ...] = (GENERATIVE_LANGUAGE_API,)

# Vertex AI express mode (--vertex-express): a second auth key, restricted to Vertex AI, on the same
# account, which then also holds the express role.
EXPRESS_KEY_ID_PREFIX = "vertex-express-key-"
EXPRESS_KEY_DISPLAY_NAME = "Vertex AI express mode key (gcp-setup)"
EXPRESS_KEY_TARGETS: tuple[str, ...] = (VERTEX_AI_API,)
EXPRESS_ROLE = "roles/aiplatform.expressUser"

# Binding a key to a service account is what this managed constraint forbids; Google enforces it by
# default in organizations.
KEY_BINDING_CONSTRAINT = "iam.managed.disableServiceAccountApiKeyCreation"

LOCATION = "global"
TIMEOUT_S = 30.0
"""The deadline of each network call, to connect and to read (--timeout, GCP_SETUP_TIMEOUT)."""
VERTEX_AI = "Agent Platform (Vertex AI)"
"""Google's name for Vertex AI since April 2026 (Gemini Enterprise Agent Platform; its "Vertex AI name
changes" page), the old one kept in brackets so that both find it. Service aiplatform.googleapis.com, its
endpoints and roles/aiplatform.* keep their names."""
AI_STUDIO_PROJECTS = "https://ai.studio/projects"
"""Where Google sells the Gemini API's prepaid credits and shows a project's tier (no API exposes either)."""
GEMINI_OPENAI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"

# Workload Identity Federation for GitHub Actions (--github-repo OWNER/REPO); the Terraform module's
# google_iam_workload_identity_pool(_provider) "github" resources use the same IDs, mapping and condition.
WORKLOAD_IDENTITY_POOL_ID = "github"
WORKLOAD_IDENTITY_POOL_DISPLAY_NAME = "GitHub Actions"
WORKLOAD_IDENTITY_PROVIDER_ID = "github-actions"
WORKLOAD_IDENTITY_PROVIDER_DISPLAY_NAME = "GitHub Actions OIDC"
GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_ATTRIBUTE_MAPPING: dict[str, str] = {
    "google.subject": "assertion.sub",
    "attribute.repository": "assertion.repository",
    "attribute.repository_owner": "assertion.repository_owner",
    "attribute.ref": "assertion.ref",
}
WORKLOAD_IDENTITY_SERVICES: tuple[str, ...] = ("sts.googleapis.com",)
"""Enabled as well when --github-repo is set: the Security Token Service exchanges GitHub's OIDC token
(IAM and IAM Credentials, which federation also needs, are in SERVICES)."""


def github_attribute_condition(repository: str) -> str:
    """Only that repository's workflows may exchange tokens: GitHub's issuer is shared by every repository,
    and Google refuses its providers without a condition."""
    return f'assertion.repository == "{repository}"'


EXPIRES_LABEL = "gcp-setup-expires"
"""The label of a project created with --ttl: when it expires, in Unix seconds (label values allow only
lowercase letters, digits, _ and -). `gcp-setup reap` deletes it after that, if gcp-setup created it."""


# Workload Identity Federation for GitLab CI (--gitlab-project GROUP/PROJECT): a pool of its own, so that
# each CI system's identities stay apart; the Terraform module's "gitlab" resources use the same values.
GITLAB_POOL_ID = "gitlab"
GITLAB_POOL_DISPLAY_NAME = "GitLab CI"
GITLAB_PROVIDER_ID = "gitlab-ci"
GITLAB_PROVIDER_DISPLAY_NAME = "GitLab CI OIDC"
GITLAB_OIDC_ISSUER = "https://gitlab.com"
"""GitLab.com's issuer (--gitlab-issuer for a self-managed instance): the `iss` of its CI ID tokens."""
GITLAB_ATTRIBUTE_MAPPING: dict[str, str] = {
    "google.subject": "assertion.sub",
    "attribute.project_path": "assertion.project_path",
    "attribute.namespace_path": "assertion.namespace_path",
    "attribute.ref": "assertion.ref",
    "attribute.ref_type": "assertion.ref_type",
}
"""A subset of the mapping Google's deployment-pipelines guide gives for GitLab (its user_email and ID
attributes are left out: the project path is what the binding pins). Claims per GitLab's ID token docs."""


def gitlab_attribute_condition(project_path: str) -> str:
    """Only that project's jobs may exchange tokens: gitlab.com's issuer is shared by every project."""
    return f'assertion.project_path == "{project_path}"'
