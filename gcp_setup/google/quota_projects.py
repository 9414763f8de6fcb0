"""Which project a request bills: gcp-setup's quota-project policy, one function for single runs, fleets,
`reap`, `export` and `verify` (docs/credentials.md has the table).

Google checks `x-goog-user-project` before the method runs: the project must exist, the caller must hold
serviceusage.services.use on it, and the called API must be enabled there. So a header is sent only where
Google needs one, as gcloud and Terraform do:
- Resource-based APIs (Resource Manager, Cloud Billing, Service Usage, IAM and its Credentials, STS, and
  Vertex AI on projects/P paths) bill the resource's project: no header, which also lets a run create
  the project it would bill.
- Client-based APIs (API Keys, Org Policy) called with a user's credentials bill gcloud's own OAuth
  client's project unless told otherwise, where they are off: they get the target project (API Keys, a
  step that runs once the services step enabled it there), or `--billing-project` /
  GOOGLE_CLOUD_QUOTA_PROJECT when given (Org Policy, which may be read before the project exists).
- Service-account and federated credentials bill their own project: nothing is forced on them, unless
  the user asked for a billing project.
"""

from __future__ import annotations

from typing import Any

CLIENT_BASED = frozenset({"apikeys", "orgpolicy"})
"""APIs that bill the caller's project, not the resource's."""
HEADER = "x-goog-user-project"


def is_user(credentials: Any) -> bool:
    """A person's credentials (gcloud's login, or a federated user's): they name no project of their own."""
    module = type(credentials).__module__
    return module.startswith(("google.oauth2.credentials", "google.auth.external_account_authorized_user"))


def quota_project(api: str, *, user: bool, project: str | None, billing_project: str | None) -> str | None:
    """The project `api`'s requests bill (their x-goog-user-project), or None for no header.

    `user`: the credentials are a person's (is_user); `project`: the run's target project;
    `billing_project`: --billing-project / GOOGLE_CLOUD_QUOTA_PROJECT."""
    if api not in CLIENT_BASED:
        return None
    if billing_project:
        return billing_project
    return project if user else None


def needs_quota_project(api: str, *, user: bool) -> bool:
    """Google refuses `api` without a quota project for these credentials (SERVICE_DISABLED in gcloud's
    own project, 764086051850)."""
    return user and api in CLIENT_BASED
