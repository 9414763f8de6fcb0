"""Before the first write, one question to Google: does the caller hold every permission the planned
writes need? `plan` and `apply` ask it with one projects.testIamPermissions on the project and name the
missing permissions, instead of failing half-way after some writes.

The permissions are Google's for the methods each action calls (IAM's "permissions reference").
Asked on the project, so a permission granted only on the service account itself (Token Creator's
setIamPolicy, a key admin's keys.create) is reported missing: a guess that suits the people who run a
setup, project owners and editors. A project this run creates is not asked about: its creator owns it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gcp_setup.engine import RunResult
from gcp_setup.errors import GcpSetupError
from gcp_setup.google.resourcemanager import ResourceManagerClient
from gcp_setup.steps.base import Action

if TYPE_CHECKING:
    from gcp_setup.google.session import GoogleSession

_BY_STEP_AND_KIND: dict[tuple[str, str], tuple[str, ...]] = {
    ("billing", "update"): ("resourcemanager.projects.createBillingAssignment",),
    ("services", "create"): ("serviceusage.services.enable",),
    ("service_account", "create"): ("iam.serviceAccounts.create",),
    ("service_account", "update"): ("iam.serviceAccounts.enable",),
    ("service_account", "delete"): ("iam.serviceAccounts.delete",),
    ("roles", "update"): ("resourcemanager.projects.setIamPolicy",),
    ("api_key", "create"): ("apikeys.keys.create",),
    ("api_key", "update"): ("apikeys.keys.update",),
    ("api_key", "delete"): ("apikeys.keys.delete",),
    ("express_key", "create"): ("apikeys.keys.create",),
    ("express_key", "update"): ("apikeys.keys.update",),
    ("workload_identity", "create"): ("iam.googleapis.com/workloadIdentityPools.create",),
    ("workload_identity", "update"): ("iam.googleapis.com/workloadIdentityPools.update",),
    ("workload_identity", "delete"): ("iam.googleapis.com/workloadIdentityPools.delete",),
    ("gitlab_identity", "create"): ("iam.googleapis.com/workloadIdentityPools.create",),
    ("gitlab_identity", "update"): ("iam.googleapis.com/workloadIdentityPools.update",),
    ("gitlab_identity", "delete"): ("iam.googleapis.com/workloadIdentityPools.delete",),
    ("project", "delete"): ("resourcemanager.projects.delete",),
}
BIND_API_KEY = "iam.serviceAccountApiKeyBindings.create"
"""Held by roles/owner, editor, iam.admin, iam.serviceAccountAdmin and iam.serviceAccountApiKeyBindingAdmin
(Google's role list, gcp_setup/emulator/data/iam-roles.json.xz)."""
_BY_WHAT: dict[str, tuple[str, ...]] = {
    "grant": ("iam.serviceAccounts.setIamPolicy",),
    "key-file": ("iam.serviceAccountKeys.create",),
    "interrupted_key": ("iam.serviceAccountKeys.delete",),
}


def needed(step: str, action: Action) -> tuple[str, ...]:
    """The project permissions one planned action needs (local files need none)."""
    if action.data.get("bound_to"):  # an auth key: binding it to the account is a permission of its own
        return (*_BY_STEP_AND_KIND.get((step, action.kind), ()), BIND_API_KEY)
    if "what" in action.data:
        return _BY_WHAT.get(action.data["what"], ())
    return _BY_STEP_AND_KIND.get((step, action.kind), ())


class MissingPermissions(GcpSetupError):
    """The caller lacks permissions the planned writes need; nothing was changed."""


def check(session: GoogleSession, project: str, planned: RunResult) -> None:
    """Raise MissingPermissions naming what the caller lacks on `project` for the planned writes."""
    if any(a.kind == "create" for r in planned.results if r.name == "project" for a in r.actions):
        return
    wanted: dict[str, list[str]] = {}
    for result in planned.results:
        for action in result.actions:
            for permission in needed(result.name, action):
                wanted.setdefault(permission, []).append(action.summary)
    if not wanted:
        return
    held = ResourceManagerClient(session).held_permissions(project, wanted)
    lacking = [p for p in sorted(wanted) if p not in held]
    if lacking:
        raise MissingPermissions(
            f"your account lacks {', '.join(lacking)} on project {project}, which the plan needs "
            f"(to {wanted[lacking[0]][0]}); nothing was changed",
            hint="ask a project owner for a role that has them (roles/owner, or e.g. roles/editor plus "
            "roles/resourcemanager.projectIamAdmin), or run as an account that holds them",
        )
