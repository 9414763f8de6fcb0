"""What exists independently of any project: Google's services (Service Management v1
`services.get`) and predefined IAM roles (IAM v1 `roles.get`, `roles.list`, `roles.queryGrantableRoles`,
read from core.roles, the snapshot every permission check reads). gcp-setup asks them before its first write,
so that a mistyped --services or --role is refused before a project is created. Only the services Service
Usage's catalogue knows exist here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from gcp_setup.emulator import guesses
from gcp_setup.emulator.billing.models import BillingBackend
from gcp_setup.emulator.core import errors, roles
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, api_method
from gcp_setup.emulator.iam.models import ServiceAccountsBackend
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
from gcp_setup.emulator.serviceusage.models import CATALOGUE


@api_method("servicemanagement.v1", "servicemanagement.services.get")
def get_service(req: ApiRequest) -> dict[str, Any]:
    name = req.params["serviceName"]
    if name not in CATALOGUE:
        # Google's exact answer is not documented; Service Usage answers an unknown service with this
        # 403 and reason, so the most likely shape is the same.
        raise errors.PermissionDenied(
            f"Service '{name}' not found or permission denied.",
            reason="SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED",
            domain="servicemanagement.googleapis.com",
            metadata={"service": name},
        )
    return {"serviceName": name, "producerProjectId": "google.com:api-project"}


@api_method("iam.v1", "iam.roles.get", "iam.projects.roles.get")
def get_role(req: ApiRequest) -> dict[str, Any]:
    name = req.path.removeprefix("/v1/")
    role = roles.find(name)
    if role is None:  # custom roles (projects/P/roles/R) are never emulated
        raise errors.NotFound(f"The role named {name} was not found.")  # gcloud iam roles describe's text
    return role.to_json()


def _view_is_full(req: ApiRequest, value: str | None) -> bool:
    if value not in (None, "", "BASIC", "FULL"):
        raise errors.InvalidArgument(f"Invalid value for view: {value}")
    return value == "FULL"


@api_method("iam.v1", "iam.roles.list")
def list_roles(req: ApiRequest) -> dict[str, Any]:
    """Predefined roles (no `parent`); a project's or organization's custom roles are none here."""
    full = _view_is_full(req, req.query.get("view"))
    found = [] if req.query.get("parent") else roles.predefined()
    items, token = page(found, req.query, default_size=300, max_size=1000)
    return with_next_page({"roles": [r.to_json(full=full) for r in items]} if items else {}, token)


@api_method("iam.v1", "iam.roles.queryGrantableRoles")
def query_grantable_roles(req: ApiRequest) -> dict[str, Any]:
    full = _view_is_full(req, req.body.get("view"))
    grantable = guesses.grantable_roles(_resource_kind(req, req.body.get("fullResourceName") or ""))
    items, token = page(grantable, _paging(req.body), default_size=300, max_size=1000)
    return with_next_page({"roles": [r.to_json(full=full) for r in items]} if items else {}, token)


_RESOURCE_KINDS = {
    "//cloudresourcemanager.googleapis.com/projects/": "project",
    "//iam.googleapis.com/projects/": "serviceAccount",
    "//cloudbilling.googleapis.com/billingAccounts/": "billingAccount",
}


def _resource_kind(req: ApiRequest, full_name: str) -> str:
    """What `fullResourceName` names, if it exists: IAM answers a missing resource as a forbidden one."""
    kind = next((k for prefix, k in _RESOURCE_KINDS.items() if full_name.startswith(prefix)), None)
    if kind is None:
        raise errors.InvalidArgument(f"Invalid resource name: {full_name!r}.")
    relative = full_name.split("/", 3)[3]
    exists: Callable[[], bool] = {
        "project": lambda: req.world.backend(ProjectsBackend).find(relative) is not None,
        "serviceAccount": lambda: req.world.backend(ServiceAccountsBackend).find(relative) is not None,
        "billingAccount": lambda: relative in req.world.backend(BillingBackend).accounts,
    }[kind]
    if not exists():
        raise errors.iam_denied("iam.roles.list")
    return kind


def _paging(body: dict[str, Any]) -> MultiDict[str, str]:
    return MultiDict({k: str(body[k]) for k in ("pageSize", "pageToken") if body.get(k) is not None})
