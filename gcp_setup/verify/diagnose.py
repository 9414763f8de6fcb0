"""A failed Google call, explained in one line that names the fix.

The diagnosis comes from Google's error details (the ErrorInfo reason and its metadata), with the HTTP
status only where Google sends no ErrorInfo (user location, unknown model), the names google/errors.py
gives the two 429s without one (a free tier of limit 0, Vertex AI's shared capacity), the Interactions
API's own string codes, and the message text in two cases only: "Multiple authentication credentials
received", a 400 with no details, and "is no longer available", the 404 of a retired model.
What kind of key was sent (auth or standard, read by verify.keys) turns a generic "invalid key" into
the fix for a retired standard key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gcp_setup import defaults, envvars
from gcp_setup.errors import GoogleApiError
from gcp_setup.google.errors import (
    FREE_TIER_LIMIT_0,
    GCLOUD_CLIENT_PROJECT,
    PREPAY_DEPLETED,
    SHARED_CAPACITY_EXHAUSTED,
    SPEND_RATE_LIMITED,
)
from gcp_setup.verify.models import ModelInfo, close_names

VERTEX_ROLE = defaults.ROLES[0]
AI_STUDIO_PROJECTS = defaults.AI_STUDIO_PROJECTS


@dataclass
class Where:
    """What the failed call was, for the hint: which path, which key variable, which project."""

    check: str
    """gemini-api | interactions | vertex | vertex-express | openai-gemini | openai-vertex"""
    api_key_env: str | None = None
    project: str | None = None
    location: str = "global"
    principal: str | None = None
    model: str | None = None
    models: list[ModelInfo] = field(default_factory=list)
    key_name: str | None = None
    """The API key resource (projects/N/locations/global/keys/ID), when it could be looked up."""
    stray_key_env: str | None = None
    """A Gemini API key variable that google-genai sends to Vertex AI instead of ADC."""
    key_kind: str | None = None
    """"auth" or "standard" (verify.keys), when known."""
    key_account: str = ""
    """The service account an auth key is bound to, when known."""
    overriding_env: str | None = None
    """GOOGLE_API_KEY, when that key was sent although GEMINI_API_KEY holds another one."""
    still_propagating: str = ""
    models_command: str = "gcp-setup models"
    """The `gcp-setup models` that reads the key verify used (VerifyContext.models_command)."""
    """The hint for an IAM refusal right after the run changed IAM (credentials.propagation_hint)."""

    @property
    def vertex(self) -> bool:
        return self.check in ("vertex", "vertex-express", "openai-vertex")


MULTIPLE_CREDENTIALS = "Multiple authentication credentials received"
RETIRED = "is no longer available"
"""Google's 404 for a shut-down model, and for one closed to new projects ("... to new users")."""
AUTHENTICATION = "AUTHENTICATION"
"""The Interactions API's own code for a missing or invalid key (ai.google.dev/gemini-api/docs/api-errors)."""


def _migrate(error: GoogleApiError, where: Where) -> str:
    """The apply that replaces a standard key with an auth key (and the .env's value), then deletes the
    old key; with the project, so that it runs as printed."""
    return f"gcp-setup apply --project {_project(error, where)} --api-key-type auth --env-file .env"


def diagnose(error: GoogleApiError, where: Where) -> str:
    hint = _by_key(error, where)
    for rule in (_by_reason, _by_status):
        hint = hint or rule(error, where)
    hint = hint or f"{error.status or error.code}: see the message above"
    if where.overriding_env and error.reason in ("API_KEY_INVALID", "ACCESS_TOKEN_TYPE_UNSUPPORTED"):
        hint = (
            f"${where.overriding_env} (exported in your shell) is the key sent: google-genai prefers it over "
            f"{envvars.GEMINI_API_KEY} (e.g. the .env's); unset {where.overriding_env}, or: {hint}"
        )
    return hint


def _by_key(error: GoogleApiError, where: Where) -> str | None:
    """Failures explained by the kind of key that was sent."""
    reason = error.reason
    if MULTIPLE_CREDENTIALS in str(error):
        return (
            "the request carried the key twice (Authorization: Bearer and x-goog-api-key or ?key=): pass it "
            "once, as the openai library's api_key, and drop any default_headers/default_query holding it"
        )
    if where.key_kind == "standard" and reason in ("API_KEY_INVALID", "ACCESS_TOKEN_TYPE_UNSUPPORTED"):
        return (
            f"{_key(where)} is a standard API key: the Gemini API rejects these since September 2026; "
            f"replace it with an auth key bound to a service account: {_migrate(error, where)}"
        )
    if reason == "ACCOUNT_STATE_INVALID":
        account = error.metadata.get("email") or where.key_account or "the service account"
        return (
            f"{_key(where)} is bound to {account}, which is disabled or deleted: re-enable it "
            f"(gcloud iam service-accounts enable {account}), or let `{_migrate(error, where)}` make "
            "a new key"
        )
    if reason == "CREDENTIALS_MISSING" and where.key_kind == "auth" and not where.stray_key_env:
        return (
            "an auth key works on the Gemini API and in Vertex AI express mode only; Vertex AI's project "
            "endpoints take OAuth2 access tokens: use ADC there"
        )
    return None


def _project(error: GoogleApiError, where: Where) -> str:
    consumer = error.metadata.get("consumer", "").removeprefix("projects/")
    return where.project or consumer or "PROJECT"


def _key(where: Where) -> str:
    return f"the API key in ${where.api_key_env}" if where.api_key_env else "the API key"


def _by_reason(error: GoogleApiError, where: Where) -> str | None:
    reason, meta = error.reason, error.metadata
    service = meta.get("service") or (
        defaults.VERTEX_AI_API if where.vertex else defaults.GENERATIVE_LANGUAGE_API
    )
    if reason in ("CREDENTIALS_MISSING", "API_KEY_SERVICE_BLOCKED") and where.stray_key_env:
        return (
            f"${where.stray_key_env} is set, so google-genai with vertexai=True sends that API key "
            f"instead of ADC and Vertex AI rejects it: unset {where.stray_key_env}, or export "
            "GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION so ADC is used"
        )
    if reason == "SERVICE_DISABLED":
        # The consumer is the project the request billed: with an API key the key's, with ADC their
        # quota project, or gcloud's own when user credentials name none.
        consumer = error.metadata.get("consumer", "").removeprefix("projects/")
        if consumer == GCLOUD_CLIENT_PROJECT:
            return (
                f"the request billed gcloud's own project ({consumer}), as user credentials do when no "
                f"quota project is set: run `gcloud auth application-default set-quota-project "
                f"{where.project or 'PROJECT'}`, or pass --billing-project"
            )
        project = consumer or _project(error, where)
        return (
            f"enable {service} in project {project}: gcloud services enable {service} --project {project} "
            "(after enabling, allow a few minutes to propagate)"
        )
    if reason == "API_KEY_INVALID" or error.status == AUTHENTICATION:
        return (
            f"{_key(where)} is not a valid key (deleted, or mistyped): create one with `gcp-setup apply "
            f"--project {_project(error, where)} --create --env-file .env` (or export yours as "
            f"{where.api_key_env or envvars.GEMINI_API_KEY})"
        )
    if reason == "API_KEY_SERVICE_BLOCKED":
        key = where.key_name or "KEY_ID"
        return (
            f"{_key(where)} is restricted to other APIs (note: 'Gemini for Google Cloud' is not the Gemini "
            f"API); allow {service}: gcloud services api-keys update {key} --api-target=service={service}"
        )
    if reason == "CREDENTIALS_MISSING":
        return (
            "Vertex AI takes OAuth2 credentials, not a Gemini API key: use ADC "
            "(gcloud auth application-default login, or a service account) and no api_key"
        )
    if reason == "IAM_PERMISSION_DENIED" or (where.vertex and error.code == 403 and not reason):
        if where.still_propagating:
            return where.still_propagating
        member = where.principal or "YOUR_PRINCIPAL"
        permission = meta.get("permission", "aiplatform.endpoints.predict")
        return (
            f"{member} lacks {permission} on project {_project(error, where)}: gcloud projects "
            f"add-iam-policy-binding {_project(error, where)} --member={member} --role={VERTEX_ROLE}"
        )
    if reason == "BILLING_DISABLED":
        project = _project(error, where)
        return (
            f"{defaults.VERTEX_AI} needs billing on project {project}: gcloud billing projects link "
            f"{project} --billing-account=ACCOUNT_ID (list accounts: gcloud billing accounts list)"
        )
    if reason in ("ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_TYPE_UNSUPPORTED") or (
        reason == "" and error.code == 401
    ):
        return (
            "the access token was refused (expired or revoked): refresh ADC with "
            "gcloud auth application-default login, or check the service account key"
        )
    if reason == FREE_TIER_LIMIT_0:
        return (
            f"{where.model or 'the model'} has no free tier for the project of {_key(where)} (quota limit "
            f"0), so no wait helps: link a paid billing account (gcloud billing projects link "
            f"{_project(error, where)} --billing-account=ACCOUNT_ID; Cloud free-trial credits do not pay for "
            f"the Gemini API) and prepay credits at {AI_STUDIO_PROJECTS}, or choose a model with a free tier "
            f"({where.models_command})"
        )
    if reason == PREPAY_DEPLETED:
        return (
            f"the Gemini API's prepaid credits for the project of {_key(where)} are used up (or were never "
            f"bought: linking billing alone is not enough), so no wait helps: buy credits (at least $10) at "
            f"{AI_STUDIO_PROJECTS}, or call Gemini through {defaults.VERTEX_AI}, which bills the Cloud "
            "account"
        )
    if reason == SPEND_RATE_LIMITED:
        after = f"retry in {error.retry_after_s:g} s" if error.retry_after_s else "retry in 10 minutes"
        return (
            f"the project of {_key(where)} spent its usage tier's limit for 10 minutes (a spend-based "
            f"rate limit, not a credit problem): {after}, spread the calls out, or move up a tier "
            f"({AI_STUDIO_PROJECTS})"
        )
    if reason == SHARED_CAPACITY_EXHAUSTED:
        return _shared_capacity(where)
    if reason in ("RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"):
        return _exhausted(error, where)
    return None


def _by_status(error: GoogleApiError, where: Where) -> str | None:
    if error.code == 429 or error.status == "RESOURCE_EXHAUSTED":
        return _exhausted(error, where)
    if error.status == "FAILED_PRECONDITION" and not where.vertex:
        return (
            "Google refuses calls from your network location for this API: it is where the request comes "
            "from (IP address, VPN, proxy, cloud region), not a project setting; call from a supported "
            "country, or use Vertex AI"
        )
    if (error.code == 404 or error.status == "NOT_FOUND") and RETIRED in str(error):
        return (
            f"model {where.model or 'the model'} is retired ({RETIRED} to this project): choose a current "
            f"one with --model (see: {where.models_command} --method generateContent)"
        )
    if error.code == 404 or error.status == "NOT_FOUND":
        model = where.model or "the model"
        close = close_names(model, where.models) if where.models else []
        suggestion = f"; close names: {', '.join(close)}" if close else ""
        return (
            f"model {model} was not found{suggestion} (see: {where.models_command} --method generateContent)"
        )
    return None


def _shared_capacity(where: Where) -> str:
    if where.location != "global":
        return (
            f"Vertex AI's shared capacity in {where.location} is exhausted (429, also when retried): use the "
            "global endpoint (--location global, GOOGLE_CLOUD_LOCATION=global), or retry later"
        )
    return (
        "Vertex AI's shared capacity is exhausted (429, also when retried): retry later, or reserve "
        "capacity with Provisioned Throughput"
    )


def _exhausted(error: GoogleApiError, where: Where) -> str:
    if where.vertex and where.location != "global":
        return _shared_capacity(where)
    after = (
        f"Google asks to retry in {error.retry_after_s:g} s"
        if error.retry_after_s
        else "retry after a minute"
    )
    return f"a quota is exhausted (429): {after}, or request a higher quota for the project"
