"""Which roles carry which permissions, coarsely: basic roles by verb, predefined roles by prefix or by a
table of the permissions checked on service accounts. Every permission check in the emulator reads this."""

from __future__ import annotations

from collections.abc import Iterable

OWNER = "roles/owner"
EDITOR = "roles/editor"
VIEWER = "roles/viewer"
BROWSER = "roles/browser"
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"

# Roles that roles/editor does not imply: changing who may do what (and who pays) stays with owners.
NOT_IMPLIED_BY_EDITOR = frozenset(
    {
        OWNER,
        "roles/resourcemanager.projectIamAdmin",
        "roles/iam.securityAdmin",
        "roles/billing.projectManager",
    }
)

_READ_VERBS = frozenset({"get", "list", "getIamPolicy"})
_OWNER_ONLY_VERBS = frozenset(
    {"setIamPolicy", "delete", "undelete", "createBillingAssignment", "deleteBillingAssignment"}
)
_ROLE_PERMISSION_PREFIXES = {
    "roles/resourcemanager.projectIamAdmin": (
        "resourcemanager.projects.getIamPolicy",
        "resourcemanager.projects.setIamPolicy",
    ),
    "roles/billing.projectManager": (
        "resourcemanager.projects.createBillingAssignment",
        "resourcemanager.projects.deleteBillingAssignment",
    ),
    "roles/serviceusage.serviceUsageAdmin": ("serviceusage.services.",),
    "roles/serviceusage.serviceUsageConsumer": (
        "serviceusage.services.use",
        "serviceusage.services.get",
        "serviceusage.services.list",
    ),
}


def role_grants(role: str, permission: str) -> bool:
    verb = permission.rsplit(".", 1)[-1]
    if role == OWNER:
        return True
    if role == EDITOR:
        return verb not in _OWNER_ONLY_VERBS
    if role in (VIEWER, BROWSER):
        return verb in _READ_VERBS
    service, _, kind = role.removeprefix("roles/").partition(".")
    prefixes = _ROLE_PERMISSION_PREFIXES.get(role, (f"{service}.",) if kind == "admin" else ())
    return permission.startswith(prefixes)


def implies_one_of(held: Iterable[str], roles: set[str] | frozenset[str]) -> bool:
    """Whether the roles `held` include one of `roles`, directly or through a basic role that implies it:
    roles/owner implies every role; roles/editor every role except IAM administration."""
    held = set(held)
    if OWNER in held or held & set(roles):
        return True
    if EDITOR in held and set(roles) - NOT_IMPLIED_BY_EDITOR:
        return True
    return VIEWER in held and BROWSER in roles


# The permissions checked on service accounts, and the predefined roles that carry each.
SA_ADMINS = frozenset({"roles/iam.serviceAccountAdmin"})
SA_CREATORS = SA_ADMINS | {"roles/iam.serviceAccountCreator"}
SA_READERS = SA_ADMINS | {"roles/iam.serviceAccountViewer", VIEWER, "roles/iam.serviceAccountKeyAdmin"}
SA_KEY_ADMINS = frozenset({"roles/iam.serviceAccountKeyAdmin"})
SA_POLICY_ADMINS = frozenset({"roles/iam.serviceAccountAdmin", "roles/iam.securityAdmin"})
SERVICE_ACCOUNT_PERMISSIONS = {
    "iam.serviceAccounts.create": SA_CREATORS,
    "iam.serviceAccounts.get": SA_READERS,
    "iam.serviceAccounts.list": SA_READERS,
    "iam.serviceAccounts.getIamPolicy": SA_READERS,
    "iam.serviceAccounts.setIamPolicy": SA_POLICY_ADMINS,
    "iam.serviceAccounts.delete": SA_ADMINS,
    "iam.serviceAccounts.undelete": SA_ADMINS,
    "iam.serviceAccounts.update": SA_ADMINS,
    "iam.serviceAccounts.disable": SA_ADMINS,
    "iam.serviceAccounts.enable": SA_ADMINS,
    "iam.serviceAccountKeys.create": SA_KEY_ADMINS,
    "iam.serviceAccountKeys.list": SA_KEY_ADMINS | SA_READERS,
    "iam.serviceAccountKeys.delete": SA_KEY_ADMINS,
    "iam.serviceAccountKeys.disable": SA_KEY_ADMINS,
    "iam.serviceAccountKeys.enable": SA_KEY_ADMINS,
    "iam.serviceAccounts.actAs": frozenset({"roles/iam.serviceAccountUser"}),
    "iam.serviceAccounts.getAccessToken": frozenset({TOKEN_CREATOR, WORKLOAD_IDENTITY_USER}),
    "iam.serviceAccounts.signBlob": frozenset({TOKEN_CREATOR}),
    "iam.serviceAccounts.signJwt": frozenset({TOKEN_CREATOR}),
}
# Basic roles (owner, editor) do not carry these: even a project owner needs Token Creator to impersonate.
TOKEN_PERMISSIONS = frozenset(
    {"iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signBlob", "iam.serviceAccounts.signJwt"}
)
