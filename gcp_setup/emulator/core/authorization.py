"""Who may act on what, checked once for every API: the project a caller may act on, and the service
account a caller may act on. Google answers a missing resource and a forbidden one alike, each API in its
own words (`denied`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from gcp_setup.emulator.core import errors, roles
from gcp_setup.emulator.core.routes import ApiRequest
from gcp_setup.emulator.iam.models import ServiceAccount, member_forms
from gcp_setup.emulator.oauth.models import OAuthBackend
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

WhenDeleted = Literal["allow", "refuse", "deny"]
"""A project pending deletion: served ("allow"), refused as deleted ("refuse": 403 CONSUMER_INVALID, after
the permission check), or answered as missing ("deny")."""


def project_caller_may_act_on(
    req: ApiRequest,
    ref: str,
    *,
    allowed: Callable[[Project], bool],
    denied: Callable[[], errors.ApiError],
    when_deleted: WhenDeleted = "allow",
    service: str | None = None,
) -> Project:
    """The project `ref` (ID or number, with or without "projects/") if `allowed(project)` holds for the
    caller, else `denied()`. `service`: the API must be enabled there (SERVICE_DISABLED)."""
    project = req.world.backend(ProjectsBackend).find(ref)
    if project is None or (when_deleted == "deny" and not project.active) or not allowed(project):
        raise denied()
    if when_deleted == "refuse" and not project.active:
        raise errors.project_deleted(project.number)
    if service is not None:
        req.world.backend(ServicesBackend).require_enabled(project, service)
    return project


def holds_permission(req: ApiRequest, permission: str) -> Callable[[Project], bool]:
    """For `allowed`: a role bound to the caller on the project carries `permission` (core.roles)."""
    return lambda project: req.world.backend(ProjectsBackend).holds(project, req.principal, permission)


def sees(req: ApiRequest) -> Callable[[Project], bool]:
    """For `allowed`: the caller holds any role on the project."""
    return lambda project: req.world.backend(ProjectsBackend).can_see(project, req.principal)


def may_act_on_service_account(
    req: ApiRequest, project: Project | None, account: ServiceAccount | None, permission: str
) -> bool:
    """Whether the caller holds `permission` on `account`: through a role on the account's own policy or on
    its project's. A federated caller counts through its principal sets."""
    attributes = req.world.backend(OAuthBackend).federated_attributes.get(req.principal)
    members = member_forms(req.principal, attributes)
    policies = [p.policy for p in (account, project) if p is not None]
    now, propagation_s = req.world.now(), req.world.realism.role_grant_propagation_s
    return any(
        roles.holds(policy.roles_of(m, now, propagation_s), permission)
        for policy in policies
        for m in members
    )
