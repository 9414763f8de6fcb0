"""Every answer of Google's that the emulator gives without a source showing it exactly, in one place.

Each entry says in one line what is guessed and what was consulted (read 2026-11-29). The code that
gives these answers imports them from here, so that whoever finds Google's real answer corrects it here.
Answers with a source stay with their API.
"""

from __future__ import annotations

from gcp_setup.emulator.core import errors

# Auth key strings: two public samples (anahata-os/anahata-asi#48, NousResearch/hermes-agent#115356) are 53
# characters starting "AQ.Ab8"; that the remaining 47 use the URL-safe base64 alphabet is the guess.
AUTH_KEY_PREFIX = "AQ.Ab8"
AUTH_KEY_BODY_LENGTH = 47

# Guess: in era auth-only models.list/get refuse a standard key too. The one report of listing working while
# generation was refused (google-gemini/gemini-cli#28538) dates from the restricted-standard era.
AUTH_ONLY_REFUSES_MODEL_LISTING = True

# Guess: Vertex AI express mode takes the old standard express keys (restricted to aiplatform) until
# September 2026, then answers them as any API key (401 CREDENTIALS_MISSING, reported in
# googleapis/java-genai#1000); no source dates the change.
EXPRESS_TAKES_STANDARD_KEYS_UNTIL_AUTH_ONLY = True

# Guess: binding a key checks iam.serviceAccounts.actAs on the account (no Google page names the permission;
# actAs is what every "run as this account" feature checks).
BIND_PERMISSION = "iam.serviceAccounts.actAs"

# Google's e-mail quoted in googleapis/python-genai#2391: binding a key restricted to the Gemini API needs no
# org-policy change. Guess: "restricted to the Gemini API" means that it is the key's only API target.
BINDING_EXEMPT_TARGETS = frozenset({"generativelanguage.googleapis.com"})

# Guess: the managed constraint's own default (what `gcloud org-policies reset` restores) is not enforced;
# organizations get it enforced by a policy Google sets at creation ("Restricting service account usage").
API_KEY_BINDING_CONSTRAINT_DEFAULT = False


def access_token_type_unsupported(service: str, method: str) -> errors.Unauthenticated:
    """An unrestricted standard key from 2026-06-19. Status, message and reason from Kilo-Org/kilocode#12162
    and NousResearch/hermes-agent#68285, metadata.method from gemini-cli#28538; the service is guessed."""
    return errors.Unauthenticated(
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
        "other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        reason="ACCESS_TOKEN_TYPE_UNSUPPORTED",
        metadata={"method": method, "service": service},
    )


def bound_account_unusable(service: str, method: str, email: str) -> errors.Unauthenticated:
    """Guess: a key whose account is disabled or deleted fails as an access token of such an account does
    (google/api/error_reason.proto, ACCOUNT_STATE_INVALID); status and message are guessed (401, as ESF's)."""
    return errors.Unauthenticated(
        "Request had invalid authentication credentials. The service account the API key is bound to is "
        "disabled or deleted.",
        reason="ACCOUNT_STATE_INVALID",
        metadata={"service": service, "method": method, "email": email},
    )


def multiple_credentials() -> errors.InvalidArgument:
    """The OpenAI-compatible endpoint given a key twice (Bearer and x-goog-api-key or ?key=): status and
    message from NousResearch/hermes-agent#7893, NVIDIA/NemoClaw#1960, Gitlawb/openclaude#713 (no details).
    Guess: the same key sent twice is refused too (the reports do not say which values were sent)."""
    return errors.InvalidArgument("Multiple authentication credentials received. Please pass only one.")


def bound_account_not_in_project(email: str, project_number: str) -> errors.InvalidArgument:
    """Guess (no source): a key binds only to an account of its own project."""
    return errors.InvalidArgument(
        f"Service account {email} does not belong to project {project_number}; an API key can be bound only "
        "to a service account of its own project.",
        reason="INVALID_ARGUMENT",
        domain="apikeys.googleapis.com",
    )


def api_key_binding_not_allowed(project_number: str, email: str) -> errors.FailedPrecondition:
    """Guess, modelled on Google's documented answer for iam.disableServiceAccountKeyCreation
    (cloud.google.com/iam/docs/troubleshoot-org-policies): the message and subject are guessed."""
    return errors.precondition_failure(
        "Binding an API key to a service account is not allowed in this project: the organization policy "
        "constraint iam.managed.disableServiceAccountApiKeyCreation is enforced.",
        "constraints/iam.managed.disableServiceAccountApiKeyCreation",
        f"projects/{project_number}/serviceAccounts/{email}",
    )


def effective_spec(enforced: bool) -> dict:
    """Guess: getEffectivePolicy answers a boolean constraint with one unconditional rule even where no policy
    is set (the discovery document says only that the answer carries no etag)."""
    return {"rules": [{"enforce": enforced}]}


def express_predict_resource(project_number: str, model: str) -> str:
    """Guess: a bound key whose account holds no Vertex AI role gets the project path's IAM answer
    (aiplatform.endpoints.predict denied), on the key's project in location global."""
    return f"projects/{project_number}/locations/global/publishers/google/models/{model}"


def org_policy_denied(permission: str, resource: str) -> errors.PermissionDenied:
    """Guess: the Org Policy API answers a missing permission (orgpolicy.policy.get, orgpolicy.policies.create
    and so on) the way IAM-checked APIs do."""
    return errors.iam_permission_denied("orgpolicy.googleapis.com", permission, resource)
