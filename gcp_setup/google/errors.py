"""Google API errors, from whichever client raised them, turned into one line a person can act on.

google-api-core raises `GoogleAPICallError` (with `.reason` from ErrorInfo), google-api-python-client
`HttpError` (a JSON body), requests/urllib3 connection errors. All are mapped here, in one place.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gcp_setup.errors import GoogleApiError


def _error_info(details: list[Any]) -> tuple[str, dict[str, str]]:
    for d in details or []:
        if isinstance(d, dict) and d.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return d.get("reason", ""), d.get("metadata", {}) or {}
    return "", {}


NOT_A_GOOGLE_API = "NOT_A_GOOGLE_API"
"""The reason given to an answer that is a web page, not a Google error (the endpoint is something else)."""
_WEB_PAGE = "with a web page, not a Google API error"
_REQUEST_PREFIX = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+: ")
MAX_MESSAGE = 300


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
    reason, metadata = _error_info(error.get("details", []))
    message = readable(str(error.get("message", exc)), code)
    return GoogleApiError(
        message,
        status=error.get("status", ""),
        code=error.get("code", code),
        reason=NOT_A_GOOGLE_API if _WEB_PAGE in message else reason,
        metadata=metadata,
    )


def from_api_core(exc: Exception) -> GoogleApiError:
    """A google.api_core.exceptions.GoogleAPICallError as GoogleApiError."""
    status = getattr(exc, "grpc_status_code", None)
    code = int(getattr(exc, "code", 0) or 0)
    message = readable(str(getattr(exc, "message", exc)), code)
    return GoogleApiError(
        message,
        status=getattr(status, "name", "") or "",
        code=code,
        reason=NOT_A_GOOGLE_API if _WEB_PAGE in message else getattr(exc, "reason", "") or "",
        metadata=dict(getattr(exc, "metadata", None) or {}),
    )


def as_google_api_error(exc: Exception) -> GoogleApiError | None:
    """Recognise an exception from any Google client; None when it is something else."""
    if isinstance(exc, GoogleApiError):
        return exc
    module = type(exc).__module__
    if module.startswith("googleapiclient"):
        return from_http_error(exc) if hasattr(exc, "resp") else None
    if module.startswith("google.api_core") and hasattr(exc, "code"):
        return from_api_core(exc)
    return None


def explain(exc: Exception) -> str:
    """One line for an exception the CLI did not expect."""
    api_error = as_google_api_error(exc)
    if api_error is not None:
        label = api_error.reason or api_error.status or str(api_error.code)
        return f"{label}: {api_error}"
    if "ConnectionError" in type(exc).__name__ or isinstance(exc, ConnectionError):
        reason = _connection_reason(exc)
        return f"cannot reach the API endpoint ({reason}); check your network or the emulator address"
    return f"{type(exc).__name__}: {exc} (rerun with --verbosity debug for the traceback)"


def hint_for(error: GoogleApiError) -> str | None:
    """The fix a person can act on for a Google error, from its ErrorInfo reason, status or code."""
    consumer = error.metadata.get("consumer", "").removeprefix("projects/")
    service = error.metadata.get("service") or error.metadata.get("services", "")
    if error.reason == "SERVICE_DISABLED" and service:
        return f"enable it: gcloud services enable {service} --project {consumer or 'PROJECT'}"
    if error.reason == "UREQ_PROJECT_BILLING_NOT_FOUND":
        return "link a billing account: pass --billing-account, or `gcloud billing projects link`"
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
    reason, metadata = _error_info(error.get("details", []))
    return GoogleApiError(
        str(error.get("message") or fallback or f"HTTP {code}"),
        status=str(error.get("status") or ""),
        code=int(error.get("code") or code or 0),
        reason=reason,
        metadata=metadata,
    )


def from_genai_error(exc: Exception) -> GoogleApiError:
    """A google.genai.errors.APIError (its `details` is the parsed error body) as GoogleApiError."""
    return from_error_body(int(getattr(exc, "code", 0) or 0), getattr(exc, "details", None), str(exc))


def from_openai_error(exc: Exception) -> GoogleApiError:
    """An openai.APIStatusError (its `body` is the parsed error body) as GoogleApiError."""
    return from_error_body(int(getattr(exc, "status_code", 0) or 0), getattr(exc, "body", None), str(exc))


def _connection_reason(exc: BaseException) -> str:
    """ "host:port: Connection refused" out of urllib3's nested, repetitive message."""
    text = str(exc)
    host = re.search(r"host='([^']+)', port=(\d+)", text)
    errno = re.findall(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if host and errno:
        return f"{host.group(1)}:{host.group(2)}: {errno[-1].strip()}"
    return text
