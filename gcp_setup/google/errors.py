"""Google API errors, from whichever client raised them, turned into one line a person can act on.

google-api-core raises `GoogleAPICallError` (with `.reason` from ErrorInfo), google-api-python-client
`HttpError` (a JSON body), google-genai `APIError`, its Interactions client's `APIStatusError` and openai
`APIStatusError` (the parsed body; the Interactions API's own errors carry a string code, "not_found"),
requests/urllib3 connection errors. All are mapped here, in one place, to GoogleApiError: the ErrorInfo
reason and metadata, and the delay a RetryInfo asks for.

Two 429 answers carry no ErrorInfo, so gcp-setup names them (the names are ours, not Google's):
FREE_TIER_LIMIT_0 and SHARED_CAPACITY_EXHAUSTED below. retry.py decides what each is worth.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from gcp_setup.errors import GoogleApiError

FREE_TIER_LIMIT_0 = "FREE_TIER_LIMIT_0"
"""The Gemini API's 429 for a model that has no free tier for the project: RESOURCE_EXHAUSTED "Quota
exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0",
with a QuotaFailure (quotaId ...-FreeTier) and a RetryInfo, no ErrorInfo (answers quoted in
UKGovernmentBEIS/inspect_ai#3215 and continuedev/continue#10085). No wait helps: billing does."""
SHARED_CAPACITY_EXHAUSTED = "SHARED_CAPACITY_EXHAUSTED"
"""Vertex AI's pay-as-you-go 429 when the shared capacity of a region runs out: "Resource exhausted. Please
try again later." with no details (cloud.google.com/vertex-ai/generative-ai/docs/error-code-429, which
advises truncated exponential backoff, and the global endpoint)."""
GCLOUD_CLIENT_PROJECT = "764086051850"
"""The project of gcloud's OAuth client: what user credentials bill when they name no quota project."""
PREPAY_DEPLETED = "PREPAY_DEPLETED"
"""The Gemini API's 429 when a paid tier's prepaid credits are spent: "Your prepayment credits are
depleted. Please go to AI Studio at https://ai.studio/projects ...", no details (discuss.ai.google.dev
threads 169215, 170539). No wait helps: buying credits does."""
SPEND_RATE_LIMITED = "SPEND_RATE_LIMITED"
"""The Gemini API's 429 past the tier's spend-based rate limit (dollars per rolling 10 minutes), told by a
QuotaFailure whose quota names spend."""
NOT_A_GOOGLE_API = "NOT_A_GOOGLE_API"
"""The reason given to an answer that is a web page, not a Google error (the endpoint is something else)."""

_WEB_PAGE = "with a web page, not a Google API error"
_REQUEST_PREFIX = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+: ")
MAX_MESSAGE = 300
_ERROR_INFO = "google.rpc.ErrorInfo"
_RETRY_INFO = "google.rpc.RetryInfo"
_QUOTA_FAILURE = "google.rpc.QuotaFailure"
_PREPAY_DEPLETED = "Your prepayment credits are depleted"
_LIMIT_0 = re.compile(r"\blimit: 0\b")
_SHARED_CAPACITY = re.compile(
    r"^(?:Resource exhausted[.,] [Pp]lease try again later"
    # the same answer as Vertex AI's gRPC front end words it (googleapis/google-cloud-java#11195, #11054)
    r"|Unable to submit request because the service is temporarily out of capacity)"
)


@dataclass(frozen=True)
class _Details:
    """What gcp-setup reads from a google.rpc.Status's details."""

    reason: str = ""
    metadata: dict[str, str] | None = None
    retry_after_s: float | None = None
    free_tier: bool = False
    limit_0: bool = False
    spend: bool = False


def _details(details: list[Any] | None, message: str) -> _Details:
    """`message` is the whole message (a "limit: 0" may come past what one line shows)."""
    metadata: dict[str, str] = {}
    reason, retry_after, free_tier, spend = "", None, False, False
    limit_0 = bool(_LIMIT_0.search(message))
    for d in details or []:
        if not isinstance(d, dict):
            continue
        kind = d.get("@type", "")
        if kind.endswith(_ERROR_INFO) and not reason:
            reason, metadata = d.get("reason", ""), d.get("metadata", {}) or {}
        elif kind.endswith(_RETRY_INFO):
            retry_after = _seconds(d.get("retryDelay"))
        elif kind.endswith(_QUOTA_FAILURE):
            for violation in d.get("violations", []) or []:
                quota = f"{violation.get('quotaMetric', '')} {violation.get('quotaId', '')}".lower()
                free_tier = free_tier or "free_tier" in quota or "freetier" in quota
                spend = spend or "spend" in quota
                limit_0 = limit_0 or str(violation.get("quotaValue", "")) == "0"
    return _Details(reason, metadata, retry_after, free_tier, limit_0, spend)


def _seconds(duration: Any) -> float | None:
    """A google.protobuf.Duration in its JSON form ("38s", "0.5s"), in seconds."""
    try:
        return float(str(duration).removesuffix("s"))
    except ValueError:
        return None


def _api_error(message: str, code: int, status: str, details: _Details) -> GoogleApiError:
    """The GoogleApiError for an answer; the two 429s without an ErrorInfo get gcp-setup's names."""
    reason = details.reason
    if _WEB_PAGE in message:
        reason = NOT_A_GOOGLE_API
    elif not reason and code == 429:
        if details.free_tier and details.limit_0:
            reason = FREE_TIER_LIMIT_0
        elif _PREPAY_DEPLETED in message:
            reason = PREPAY_DEPLETED
        elif details.spend:
            reason = SPEND_RATE_LIMITED
        elif _SHARED_CAPACITY.match(message):
            reason = SHARED_CAPACITY_EXHAUSTED
    return GoogleApiError(
        message,
        status=status,
        code=code,
        reason=reason,
        metadata=dict(details.metadata or {}),
        retry_after_s=details.retry_after_s,
    )


def is_quota_limit_0(error: GoogleApiError) -> bool:
    """A quota whose limit is 0 (a model without a free tier, or a quota set to 0 in a region), or prepaid
    credits spent: waiting frees nothing."""
    return (
        error.reason in (FREE_TIER_LIMIT_0, PREPAY_DEPLETED) or error.metadata.get("quota_limit_value") == "0"
    )


def readable(message: str, code: int) -> str:
    """A Google error message fit for one line: without the request URL google-api-core puts in front
    (hundreds of characters for a batch call), and no HTML page an endpoint that is not a Google API
    (a plain web server) answers with."""
    message = _REQUEST_PREFIX.sub("", message.strip())
    if re.search(r"<(?:!doctype|html|body|head|title)\b", message, re.IGNORECASE):
        return (
            f"the endpoint answered HTTP {code} {_WEB_PAGE}; "
            "check that the address (--emulator-host) is a Google API or gcp-setup's emulator"
        )
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


def from_http_error(exc: Exception) -> GoogleApiError:
    """A googleapiclient.errors.HttpError as GoogleApiError."""
    code = int(getattr(getattr(exc, "resp", None), "status", 0) or 0)
    try:
        error = json.loads(exc.content.decode())["error"]  # type: ignore[attr-defined]
    except (ValueError, KeyError, AttributeError, TypeError):
        content = getattr(exc, "content", b"")
        error = {"message": readable(content.decode(errors="replace") if content else str(exc), code)}
    raw = str(error.get("message", exc))
    details = _details(error.get("details"), raw)
    return _api_error(readable(raw, code), int(error.get("code") or code), error.get("status", ""), details)


def from_api_core(exc: Exception) -> GoogleApiError:
    """A google.api_core.exceptions.GoogleAPICallError as GoogleApiError."""
    status = getattr(exc, "grpc_status_code", None)
    code = int(getattr(exc, "code", 0) or 0)
    raw = str(getattr(exc, "message", exc))
    details = replace(  # over REST, `details` is the answer's list of dicts
        _details(getattr(exc, "details", None), raw),
        reason=getattr(exc, "reason", "") or "",
        metadata=dict(getattr(exc, "metadata", None) or {}),
    )
    return _api_error(readable(raw, code), code, getattr(status, "name", "") or "", details)


def as_google_api_error(exc: BaseException) -> GoogleApiError | None:
    """Recognise an error answer from any client (the Google ones, google-genai, openai); None when the
    exception is something else (no answer at all, a bug)."""
    if isinstance(exc, GoogleApiError):
        return exc
    if not isinstance(exc, Exception):
        return None
    module = type(exc).__module__
    if module.startswith("googleapiclient"):
        return from_http_error(exc) if hasattr(exc, "resp") else None
    if module.startswith("google.api_core") and hasattr(exc, "code"):
        return from_api_core(exc)
    if module.startswith("google.genai") and hasattr(exc, "code") and hasattr(exc, "details"):
        return from_genai_error(exc)
    if module.startswith(("openai", "google.genai._interactions")) and hasattr(exc, "status_code"):
        return from_status_error(exc)
    return None


def explain(exc: BaseException) -> str:
    """One line for an exception the CLI did not expect."""
    api_error = as_google_api_error(exc)
    if api_error is not None:
        label = api_error.reason or api_error.status or str(api_error.code)
        return f"{label}: {api_error}"
    # google-auth's TransportError: the token endpoint could not be reached (the run's first request)
    if "ConnectionError" in type(exc).__name__ or isinstance(exc, ConnectionError) or _auth_transport(exc):
        reason = _connection_reason(exc)
        local = re.match(r"(127\.[\d.]+|localhost|\[::1\]):(\d+): ", reason)
        if local and is_refused(exc):
            return (
                f"nothing listens at {local[1]}:{local[2]} ({reason}); start the emulator there: "
                f"gcp-setup emulator --port {local[2]}"
            )
        return f"cannot reach the API endpoint ({reason}); check your network or the emulator address"
    return f"{type(exc).__name__}: {exc} (rerun with --verbosity debug for the traceback)"


def _auth_transport(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("google.auth") and type(exc).__name__ == "TransportError"


def hint_for(error: GoogleApiError) -> str | None:
    """The fix a person can act on for a Google error, from its ErrorInfo reason, status or code."""
    consumer = error.metadata.get("consumer", "").removeprefix("projects/")
    service = error.metadata.get("service") or error.metadata.get("services", "")
    if error.reason == "SERVICE_DISABLED" and consumer == GCLOUD_CLIENT_PROJECT:
        return (
            f"your user credentials billed gcloud's own project ({consumer}), where {service} is off: "
            "pass --billing-project PROJECT (a project of yours where it is on)"
        )
    if error.reason == "SERVICE_DISABLED" and service:
        return f"enable it: gcloud services enable {service} --project {consumer or 'PROJECT'}"
    if error.reason == "USER_PROJECT_DENIED":
        return (
            f"the quota project {consumer or '(x-goog-user-project)'} was refused: it must exist, you need "
            "serviceusage.services.use on it, and the API must be on there; choose another with "
            "--billing-project, or unset GOOGLE_CLOUD_QUOTA_PROJECT"
        )
    if error.reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
        return "your credentials lack the cloud-platform scope: gcloud auth application-default login"
    if error.reason == "UREQ_PROJECT_BILLING_NOT_FOUND":
        link = "gcloud billing projects link PROJECT_ID --billing-account=ACCOUNT_ID"
        return f"link a billing account: pass --billing-account, or `{link}`"
    if error.reason == "BILLING_ACCOUNT_CLOSED":
        return "choose an open billing account: `gcloud billing accounts list --filter=open=true`"
    if error.code == 401 or error.status == "UNAUTHENTICATED":
        return "log in again: gcloud auth application-default login"
    if error.code == 403 or error.status == "PERMISSION_DENIED":
        return "check the project ID and that your account may use it: gcloud auth list"
    if error.code == 429 or error.status == "RESOURCE_EXHAUSTED":
        return "a quota is exhausted; wait a minute and run again"
    return None


def with_hint(error: GoogleApiError) -> GoogleApiError:
    """The same error, with hint_for() filled in when it had no hint."""
    if error.hint is None:
        error.hint = hint_for(error)
    return error


def from_error_body(code: int, body: Any, fallback: str = "") -> GoogleApiError:
    """A Google error body as GoogleApiError: `{"error": {...}}`, or the one-element list around it that
    the Gemini API's OpenAI-compatible endpoints send."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    error = body.get("error", body) if isinstance(body, dict) else {}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    message = str(error.get("message") or fallback or f"HTTP {code}")
    given = error.get("code")
    if isinstance(given, str) and not given.isdigit():  # the Interactions API's codes: "not_found"
        quoted = replace(_details(None, message), free_tier="free_tier" in message)  # no QuotaFailure
        return _api_error(message, code, given.upper(), quoted)
    return _api_error(
        message,
        int(given or code or 0),
        str(error.get("status") or ""),
        _details(error.get("details"), message),
    )


def from_genai_error(exc: Exception) -> GoogleApiError:
    """A google.genai.errors.APIError (its `details` is the parsed error body) as GoogleApiError."""
    return from_error_body(int(getattr(exc, "code", 0) or 0), getattr(exc, "details", None), str(exc))


def from_status_error(exc: Exception) -> GoogleApiError:
    """An openai.APIStatusError, or an error of google-genai's Interactions client (both carry the parsed
    error body in `body`), as GoogleApiError."""
    return from_error_body(int(getattr(exc, "status_code", 0) or 0), getattr(exc, "body", None), str(exc))


def is_refused(exc: BaseException) -> bool:
    """The connection was refused (nothing listens there): in `exc`, or in what it wraps (requests,
    urllib3 and httpx2 each wrap the OSError their socket raised)."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError):
            return True
        pending += [error.__cause__, error.__context__, getattr(error, "reason", None), *error.args]
    return "Connection refused" in str(exc)


def _connection_reason(exc: BaseException) -> str:
    """ "host:port: Connection refused" out of urllib3's nested, repetitive message."""
    text = str(exc)
    host = re.search(r"host='([^']+)', port=(\d+)", text)
    errno = re.findall(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if host and errno:
        return f"{host.group(1)}:{host.group(2)}: {errno[-1].strip()}"
    return text
