"""Every answer of Google's that the emulator gives without a source showing it exactly, in one place
(this package; the Interactions API's in interactions.py).

Each entry says in one line what is guessed and what was consulted (read 2026-11-29). The code that
gives these answers imports them from here, so that whoever finds Google's real answer corrects it here.
Answers with a source stay with their API.
"""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator.core import errors, roles
from gcp_setup.emulator.guesses.interactions import (  # the Interactions API's, read as guesses.NAME too
    BACKGROUND_INTERACTION_SECONDS as BACKGROUND_INTERACTION_SECONDS,
)
from gcp_setup.emulator.guesses.interactions import (
    INTERACTIONS_SERVICE as INTERACTIONS_SERVICE,
)
from gcp_setup.emulator.guesses.interactions import (
    background_needs_store as background_needs_store,
)
from gcp_setup.emulator.guesses.interactions import (
    interaction_not_cancellable as interaction_not_cancellable,
)
from gcp_setup.emulator.guesses.interactions import (
    interactions_field_type as interactions_field_type,
)
from gcp_setup.emulator.guesses.interactions import (
    interactions_input_required as interactions_input_required,
)
from gcp_setup.emulator.guesses.interactions import (
    model_or_agent_required as model_or_agent_required,
)
from gcp_setup.emulator.guesses.interactions import (
    previous_interaction_not_completed as previous_interaction_not_completed,
)

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

# Binding a key checks iam.serviceAccountApiKeyBindings.create: Google's role list has it in roles/owner,
# editor, iam.admin, iam.serviceAccountAdmin and the dedicated iam.serviceAccountApiKeyBindingAdmin
# (data/iam-roles.json.xz). Guess: it is checked on the account (inherited from its project), as the
# name says, not on the key's project.
BIND_PERMISSION = "iam.serviceAccountApiKeyBindings.create"

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


def effective_spec(enforced: bool) -> dict[str, Any]:
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


# -- the data plane (issue 15) ---------------------------------------------------------------------------
# Guess: the catalogue snapshot's version, sampling and token-limit fields, other than the documented limits
# of the 3.x Flash and embedding models (data/gemini-models.json says which), follow 2025 answers' shape.
# Vertex AI no longer serves the models the Gemini API closed to new projects (gemini-2.5-*, 2.0-flash) to new
# projects either: 2.0 Flash was discontinued on 2026-06-01 (GoogleCloudPlatform/generative-ai#2603) and the
# 2.5 models entered Extended Lifecycle Access, for existing users, on 2026-10-20 (dimagi/open-chat-studio
# #4080). Every emulated project is new.
VERTEX_SERVES_CLOSED_MODELS = False


# Guess: gemini-4-argon ($2/$10 per million tokens at launch, as resellers quote Google's price) has no free
# tier on the Gemini API, as the Pro models have not since 2026: a free-tier project gets "limit: 0".
NO_FREE_TIER_MODELS = frozenset({"gemini-4-argon"})


def vertex_model_closed_to_new_users(resource: str) -> errors.NotFound:
    """Guess: Vertex AI's 404 for a model closed to new projects says what the Gemini API's does (its words,
    quoted in docs/emulator.md), naming the publisher model as Vertex AI's 404s do."""
    return errors.NotFound(
        f"Publisher Model `{resource}` is no longer available to new users. Please update your code to use "
        "a newer model for the latest features and improvements."
    )


# Guess: models.get of a retired model answers what generation answers for it (the sources show generation).
# Guess: a PublisherModel's versionId ("001"), and its launchStage and versionState read from "preview" in the
# model's name (the basic view's fields are from the aiplatform discovery document).

# Fields google-genai 3.6.1 sends on the Gemini API that the protos of google-ai-generativelanguage 0.12.1
# lack (ThinkingConfig.thinkingLevel is documented for Gemini 3); tools/gemini_discovery.py adds them.
GEMINI_FIELDS_NEWER_THAN_PROTOS = {
    "ThinkingConfig": {
        "thinkingLevel": {
            "type": "string",
            "enum": ["THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"],
        }
    },
}


def invalid_policy_name(name: str) -> errors.InvalidArgument:
    """Org Policy v2 for a policy name that names no constraint ("", "x"); Google's text not seen."""
    return errors.InvalidArgument(
        f"Invalid policy name {name!r}: expected projects/PROJECT/policies/CONSTRAINT, where CONSTRAINT is a "
        "constraint name such as iam.managed.disableServiceAccountApiKeyCreation."
    )


IAM_POLICY_MESSAGES = frozenset({"Policy", "Binding", "Expr", "AuditConfig", "AuditLogConfig"})


def proto_type_url(api_version: str, schema: str) -> str:
    """The message type Google names in "Invalid value at ..." errors, derived from the discovery schema name
    (the form is from real answers; the derivation for Vertex AI's prefixed schema names is guessed)."""
    name, version = api_version.split(".", 1)
    if name == "generativelanguage":
        return f"type.googleapis.com/google.ai.generativelanguage.{version}.{schema}"
    if schema in IAM_POLICY_MESSAGES:
        return f"type.googleapis.com/google.iam.v1.{schema}"
    if name != "aiplatform":
        return f"type.googleapis.com/google.{name}.{version}.{schema}"
    prefix = f"GoogleCloudAiplatform{version[0].upper()}{version[1:]}"
    return f"type.googleapis.com/google.cloud.aiplatform.{version}.{schema.removeprefix(prefix)}"


def output_dimensionality_out_of_range(requested: int, smallest: int, largest: int) -> errors.InvalidArgument:
    """Guess: the docs give the range (128-3072 for gemini-embedding-001) but not the answer outside it."""
    return errors.InvalidArgument(
        f"Output dimensionality {requested} is out of range: it must be between {smallest} and {largest}."
    )


def unknown_vertex_location(resource: str) -> errors.NotFound:
    """A Vertex AI location Google does not serve Gemini in. Real clients never reach Google with one: they
    build the host {location}-aiplatform.googleapis.com, which does not resolve. With the host overridden, the
    nearest evidence is the answer for a model not served in a location (genkit#4688): that is the guess."""
    return errors.NotFound(
        f"Publisher Model `{resource}` was not found or your project does not have access to it. Please "
        "ensure you are using a valid model version. For more information, see: "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"
    )


def vertex_openai_models_not_found(path: str) -> errors.NotFound:
    """Guess: Vertex AI's OpenAI-compatible endpoint has no models listing (none in the aiplatform discovery
    documents), so Google's front end answers 404; the emulator gives it in google.rpc shape."""
    return errors.NotFound(f"The requested URL {path} was not found on this server.")


def openai_embedding_input_invalid() -> errors.InvalidArgument:
    """Guess: the OpenAI-compatible embeddings endpoint given no input, or input that is not text."""
    return errors.InvalidArgument("Invalid input: `input` must be a string or a non-empty list of strings.")


def vertex_empty_contents() -> errors.InvalidArgument:
    """Guess: Vertex AI's generateContent without contents (the Gemini API's answer is known and differs)."""
    return errors.InvalidArgument("Unable to submit request because it has an empty contents field.")


BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


# -- the control plane (issue 15) ------------------------------------------------------------------------
def grantable_roles(kind: str) -> list[roles.Role]:
    """queryGrantableRoles: which predefined roles a resource of `kind` takes. Guess (Google's rule is per
    permission and resource type, not published as data): a project takes every role that carries a
    permission; a service account, those carrying an iam.serviceAccounts or iam.serviceAccountKeys
    permission; a billing account, those carrying a billing permission."""
    prefixes = {
        "project": ("",),
        "serviceAccount": ("iam.serviceAccounts.", "iam.serviceAccountKeys."),
        "billingAccount": ("billing.",),
    }[kind]
    return [r for r in roles.predefined() if any(p.startswith(prefixes) for p in r.permissions)]


def _bad_request(message: str, field: str, description: str) -> errors.InvalidArgument:
    violation = {"field": field, "description": description}
    return errors.InvalidArgument(
        message,
        extra_details=[
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}
        ],
    )


def conditional_binding_needs_version_3(version: int) -> errors.InvalidArgument:
    """A conditional binding written with a version other than 3. The rule is the discovery document's
    (Policy.version); the answer is not seen: Google's generic message, the field named (guess)."""
    return _bad_request(
        "Request contains an invalid argument.",
        "policy.version",
        f"Policy version {version} cannot contain conditional role bindings: specify version 3.",
    )


def invalid_condition(field: str, description: str) -> errors.InvalidArgument:
    """A condition without a title, or whose expression is not CEL. gcloud's own hint is known ("run gcloud
    alpha iam policies lint-condition"); the server's answer is not seen (guess: the generic message)."""
    return _bad_request("Request contains an invalid argument.", field, description)


def last_owner_removed(owners: list[str]) -> errors.InvalidArgument:
    """Removing the last owner who accepted the Terms of Service from a project outside an organization:
    the rule is the discovery document's; the answer is not seen. Guess: shaped as the known
    SOLO_MUST_INVITE_OWNERS answer, with an invented type."""
    return errors.InvalidArgument(
        "Request contains an invalid argument.",
        extra_details=[
            {
                "@type": "type.googleapis.com/google.cloudresourcemanager.v1.ProjectIamPolicyError",
                "type": "SOLO_REQUIRE_TOS_ACCEPTOR",
                "member": owner,
                "role": roles.OWNER,
            }
            for owner in owners
        ],
    )


def invalid_policy_version(value: object) -> errors.InvalidArgument:
    """Policy.version other than 0, 1 or 3: "Requests that specify an invalid value are rejected" (discovery);
    the text is a guess."""
    return errors.InvalidArgument(f"Invalid policy version {value}: valid values are 0, 1 and 3.")


def invalid_requested_policy_version(value: object) -> errors.InvalidArgument:
    """options.requestedPolicyVersion other than 0, 1 or 3: rejected (discovery document); text guessed."""
    return errors.InvalidArgument(f"Invalid requested policy version {value}: valid values are 0, 1 and 3.")


def api_key_ip_blocked(address: str, service: str, project_number: str) -> errors.PermissionDenied:
    """serverKeyRestrictions: reason and message from Google's answers (the message from a 2019 report); the
    metadata key `callerIp` is read by third-party code only (guess)."""
    return errors.key_blocked(
        "API_KEY_IP_ADDRESS_BLOCKED",
        "The provided API key has an IP address restriction. The originating IP address of the call "
        f"({address}) violates this restriction.",
        service,
        project_number,
        callerIp=address,
    )


def api_key_ios_blocked(bundle: str, service: str, project_number: str) -> errors.PermissionDenied:
    """iosKeyRestrictions: reason and message seen; the metadata key `iosBundleId` is a guess (Android's is
    `androidPackage`)."""
    return errors.key_blocked(
        "API_KEY_IOS_APP_BLOCKED",
        f"Requests from this iOS client application {bundle} are blocked.",
        service,
        project_number,
        iosBundleId=bundle,
    )


def stale_key_etag(etag: str, name: str) -> errors.Aborted:
    """API Keys v2 update or delete with an etag that is no longer the key's. The discovery document says the
    etag "may be sent on update and delete requests to ensure the client has an up-to-date value"; the answer
    is a guess (409 ABORTED, as IAM answers a stale policy etag)."""
    return errors.Aborted(f"The etag {etag} does not match the current etag of key {name}.")


def too_many_api_keys(project_number: str, limit: int) -> errors.ResourceExhausted:
    """Past Google's documented 300 keys per project. The answer is not seen: guess, Google's quota form with
    reason RESOURCE_QUOTA_EXCEEDED (google/api/error_reason.proto); keys pending deletion are not counted."""
    return errors.ResourceExhausted(
        "Quota exceeded for quota metric 'Keys' and limit 'Keys per project' of service "
        f"'apikeys.googleapis.com' for consumer 'project_number:{project_number}'.",
        reason="RESOURCE_QUOTA_EXCEEDED",
        metadata={
            "service": "apikeys.googleapis.com",
            "consumer": f"projects/{project_number}",
            "quota_metric": "apikeys.googleapis.com/keys",
            "quota_limit": "KeysPerProject",
            "quota_limit_value": str(limit),
        },
    )


def basic_role_with_condition() -> errors.InvalidArgument:
    """A condition on roles/owner, editor or viewer. gcloud refuses it before sending, in these words; that
    the server refuses it too, and in the same words, is the guess."""
    return errors.InvalidArgument(
        "Binding with a condition and a basic role is not allowed. "
        "Basic roles are `roles/editor`, `roles/owner`, and `roles/viewer`."
    )


# -- the Gemini API's billing (issue 24) -----------------------------------------------------------------
# Guess: one generation costs a flat $0.001, whatever its tokens (Google prices per token and model; a flat
# price keeps the emulator's ledger reproducible, and tests set balances and limits around it).
GEMINI_PRICE_PER_GENERATION_USD = 0.001


def spend_rate_limited(tier: str, limit_usd: float, retry_s: float) -> errors.ResourceExhausted:
    """Google's rate-limits page says a project past its tier's spend in 10 minutes (rolling) gets 429
    RESOURCE_EXHAUSTED, and a Google reply on discuss.ai.google.dev (thread 189883) that every 429 now
    describes its cause. Guess: the message, the quota metric and id (shaped as the free tier's), and a
    RetryInfo for when enough of the window has passed."""
    metric = "generativelanguage.googleapis.com/spend_based_rate_limit"
    return errors.ResourceExhausted(
        f"You exceeded your spend-based rate limit of ${limit_usd:g} per 10 minutes for your usage tier "
        f"({tier}). For more information on this error, head to: "
        "https://ai.google.dev/gemini-api/docs/rate-limits#spend-based-rate-limits.",
        extra_details=[
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaMetric": metric, "quotaId": f"SpendPerTenMinutesPerProject-{tier}"}],
            },
            {"@type": errors.RETRY_INFO, "retryDelay": f"{max(1, round(retry_s))}s"},
        ],
    )
