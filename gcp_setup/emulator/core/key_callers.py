"""Who an API key speaks for on a data-plane call (the Gemini API, Vertex AI express mode), checked as
Google does: the key must exist, its API restrictions must allow the service, and a key bound to a service
account acts as that account, which must still exist and be enabled.
"""

from __future__ import annotations

from dataclasses import dataclass

from gcp_setup.emulator import guesses
from gcp_setup.emulator.apikeys.models import ApiKeysBackend, Key
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.key_restrictions import check_application
from gcp_setup.emulator.core.routes import ApiRequest
from gcp_setup.emulator.iam.models import ServiceAccount, ServiceAccountsBackend
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend


def api_key_invalid(service: str) -> errors.InvalidArgument:
    """A key string Google does not know: mistyped, deleted, or of a deleted project."""
    message = "API key not valid. Please pass a valid API key."
    return errors.InvalidArgument(
        message,
        reason="API_KEY_INVALID",
        metadata={"service": service},
        extra_details=[errors.localized(message)],
    )


def api_key_service_blocked(service: str, method: str, project_number: str) -> errors.PermissionDenied:
    return errors.key_blocked(
        "API_KEY_SERVICE_BLOCKED",
        f"Requests to this API {service} method {method} are blocked.",
        service,
        project_number,
        apiName=service,
        methodName=method,
    )


@dataclass(frozen=True)
class KeyCaller:
    key: Key
    project: Project
    """The key's project: it is billed, and its services must be enabled."""


def key_caller(req: ApiRequest, service: str) -> KeyCaller:
    """The key the request carries and its project, or API_KEY_INVALID."""
    key = req.world.backend(ApiKeysBackend).by_key_string(req.api_key or "")
    project = req.world.backend(ProjectsBackend).find(key.project_number) if key else None
    if key is None or key.deleted or project is None or not project.active:
        raise api_key_invalid(service)
    return KeyCaller(key, project)


def require_allowed(req: ApiRequest, caller: KeyCaller, service: str, method: str) -> None:
    """API_KEY_SERVICE_BLOCKED unless the key's API restrictions (if any) name `service`; then the key's
    application restrictions (referrer, IP address, Android or iOS app) must allow the caller."""
    if not caller.key.allows_service(service):
        raise api_key_service_blocked(service, method, caller.project.number)
    check_application(caller.key.restrictions, req.headers, req.remote_addr, service, caller.project.number)


def act_as_bound_account(req: ApiRequest, key: Key, service: str, method: str) -> ServiceAccount:
    """The account a bound key acts as, now the request's principal; refused if disabled or deleted."""
    account = req.world.backend(ServiceAccountsBackend).find(key.service_account_uid)
    if account is None or account.disabled:
        raise guesses.bound_account_unusable(service, method, key.service_account_email)
    req.principal = account.member
    return account
