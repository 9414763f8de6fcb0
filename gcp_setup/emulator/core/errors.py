"""Errors in Google's wire shape: a google.rpc.Status with an ErrorInfo detail.

    {"error": {"code": 404, "message": "...", "status": "NOT_FOUND",
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": ..., ...}]}}

Handlers raise these; the server serialises them in one place.
"""

from __future__ import annotations

from typing import Any

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
HELP = "type.googleapis.com/google.rpc.Help"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
LOCALIZED_MESSAGE = "type.googleapis.com/google.rpc.LocalizedMessage"


class ApiError(Exception):
    code = 500
    status = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        domain: str = "googleapis.com",
        metadata: dict[str, str] | None = None,
        extra_details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata = metadata or {}
        self.extra_details = extra_details or []
        self.headers = headers or {}

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        details = []
        if self.reason:
            info: dict[str, Any] = {"@type": ERROR_INFO, "reason": self.reason, "domain": self.domain}
            if self.metadata:
                info["metadata"] = self.metadata
            details.append(info)
        details.extend(self.extra_details)
        if details:
            error["details"] = details
        return {"error": error}


class InvalidArgument(ApiError):
    code, status = 400, "INVALID_ARGUMENT"


class FailedPrecondition(ApiError):
    code, status = 400, "FAILED_PRECONDITION"


class Unauthenticated(ApiError):
    code, status = 401, "UNAUTHENTICATED"


class PermissionDenied(ApiError):
    code, status = 403, "PERMISSION_DENIED"


class NotFound(ApiError):
    code, status = 404, "NOT_FOUND"


class AlreadyExists(ApiError):
    code, status = 409, "ALREADY_EXISTS"


class Aborted(ApiError):
    code, status = 409, "ABORTED"


class ResourceExhausted(ApiError):
    code, status = 429, "RESOURCE_EXHAUSTED"


class Internal(ApiError):
    code, status = 500, "INTERNAL"


class Unimplemented(ApiError):
    code, status = 501, "UNIMPLEMENTED"


class Unavailable(ApiError):
    code, status = 503, "UNAVAILABLE"


def iam_permission_denied(service: str, permission: str, resource: str) -> PermissionDenied:
    """What an IAM-checked Google API answers when the caller lacks `permission` on `resource` (or the
    resource does not exist: the same answer)."""
    return PermissionDenied(
        f"Permission '{permission}' denied on resource '//{service}/{resource}' (or it may not exist).",
        reason="IAM_PERMISSION_DENIED",
        domain=service,
        metadata={"permission": permission, "resource": resource},
    )


def iam_denied(permission: str) -> PermissionDenied:
    """IAM v1's answer when the caller lacks `permission` (or the resource does not exist: the same answer);
    unlike iam_permission_denied it names no resource."""
    return PermissionDenied(
        f"Permission '{permission}' denied on resource (or it may not exist).",
        reason="IAM_PERMISSION_DENIED",
        domain="iam.googleapis.com",
        metadata={"permission": permission},
    )


def project_deleted(project_number: str) -> PermissionDenied:
    """What Google APIs answer for a project pending deletion (DELETE_REQUESTED)."""
    return PermissionDenied(f"Project #{project_number} has been deleted.", reason="CONSUMER_INVALID")


PRECONDITION_FAILURE = "type.googleapis.com/google.rpc.PreconditionFailure"


def precondition_failure(message: str, violation_type: str, subject: str) -> FailedPrecondition:
    """FAILED_PRECONDITION naming what failed (e.g. an org policy constraint) in a PreconditionFailure."""
    violation = {"type": violation_type, "subject": subject, "description": message}
    return FailedPrecondition(
        message, extra_details=[{"@type": PRECONDITION_FAILURE, "violations": [violation]}]
    )


def service_disabled(service: str, project_number: str, title: str | None = None) -> PermissionDenied:
    """What every Google API answers when it is not enabled in the consumer project."""
    title = title or service
    activation = f"https://console.developers.google.com/apis/api/{service}/overview?project={project_number}"
    return PermissionDenied(
        f"{title} has not been used in project {project_number} before or it is disabled. "
        f"Enable it by visiting {activation} then retry. If you enabled this API recently, "
        "wait a few minutes for the action to propagate to our systems and retry.",
        reason="SERVICE_DISABLED",
        metadata={
            "service": service,
            "consumer": f"projects/{project_number}",
            "activationUrl": activation,
            "containerInfo": project_number,
            "serviceTitle": title,
        },
        extra_details=[
            {
                "@type": HELP,
                "links": [{"description": "Google developers console API activation", "url": activation}],
            }
        ],
    )


def fault(status_code: int) -> ApiError:
    """An injected transient fault, shaped as the real front end sends it."""
    if status_code == 429:
        return ResourceExhausted(
            "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute'.",
            reason="RATE_LIMIT_EXCEEDED",
            extra_details=[{"@type": RETRY_INFO, "retryDelay": "1s"}],
        )
    if status_code == 503:
        return Unavailable("The service is currently unavailable.")
    return Internal("Internal error encountered.")


def localized(message: str) -> dict[str, str]:
    """A google.rpc.LocalizedMessage detail (Google's API-key answers repeat their message in one)."""
    return {"@type": LOCALIZED_MESSAGE, "locale": "en-US", "message": message}


def key_blocked(
    reason: str, message: str, service: str, project_number: str, **metadata: str
) -> PermissionDenied:
    """An API key refused for where the call came from or what it calls (API_KEY_*_BLOCKED)."""
    return PermissionDenied(
        message,
        reason=reason,
        metadata={"consumer": f"projects/{project_number}", "service": service, **metadata},
        extra_details=[localized(message)],
    )


INTERACTIONS_CODES = {
    "INVALID_ARGUMENT": "invalid_request",
    "FAILED_PRECONDITION": "failed_precondition",
    "UNAUTHENTICATED": "authentication",
    "PERMISSION_DENIED": "permission_denied",
    "NOT_FOUND": "not_found",
    "ALREADY_EXISTS": "already_exists",
    "ABORTED": "aborted",
    "RESOURCE_EXHAUSTED": "quota_exceeded",
    "INTERNAL": "api_error",
    "UNIMPLEMENTED": "unimplemented",
    "UNAVAILABLE": "service_unavailable",
}
"""The Interactions API's string codes by google.rpc status, from its table of codes per HTTP status
(ai.google.dev/gemini-api/docs/api-errors, read 2026-12-07)."""


class InteractionsError(ApiError):
    """An error in the Interactions API's own shape, `{"error": {"code": "not_found", "message": "..."}}`: a
    string code and a message, no status and no details (the api-errors page; bodies quoted in
    allenhutchison/gemini-cli-deep-research#73 and googleapis/python-genai#2985)."""

    def __init__(self, http_status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message, headers=headers)
        self.code = http_status
        self.interactions_code = code

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.interactions_code, "message": self.message}}

    @classmethod
    def from_status(cls, error: ApiError, code: str | None = None) -> InteractionsError:
        """The same answer as the Interactions API words it: `code`, else the one for its status."""
        named = code or INTERACTIONS_CODES.get(error.status, error.status.lower())
        return cls(error.code, named, error.message, error.headers)
