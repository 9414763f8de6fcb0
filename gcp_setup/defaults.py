"""What gcp-setup sets up when nothing says otherwise. The Terraform module's defaults equal these
(tests/test_terraform_parity.py holds the two together)."""

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

SERVICE_ACCOUNT_ID = "gemini-client"
SERVICE_ACCOUNT_DISPLAY_NAME = "Gemini client (gcp-setup)"
ROLES: tuple[str, ...] = ("roles/aiplatform.user",)

API_KEY_ID = "gemini-api-key"
API_KEY_DISPLAY_NAME = "Gemini API key (gcp-setup)"
API_KEY_TARGETS: tuple[str, ...] = (GENERATIVE_LANGUAGE_API,)

LOCATION = "global"
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
