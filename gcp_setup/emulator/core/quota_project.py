"""Which project a request bills, and Google's checks of it, before any method runs (docs/emulator.md,
"Quota projects", with the sources).

With `x-goog-user-project: Q` (google-auth sends it for every request when the credentials name a quota
project) Google checks, in this order:
- an API key came too: 403 USER_PROJECT_DENIED, "Caller does not have required permission to use
  project Q" (a key is no principal that could hold the permission; googleapis/google-cloud-rust#3244);
- Q does not exist or is deleted: 400 USER_PROJECT_DENIED "Project 'project:Q' not found or deleted."
  (googleapis/google-api-nodejs-client#3241);
- the caller lacks serviceusage.services.use on Q: 403 USER_PROJECT_DENIED (same wording);
- the called API is off in Q: 403 SERVICE_DISABLED, consumer projects/<Q's number>.
Without the header, a client-based API (API Keys, Org Policy) called with a user's token bills the
project of gcloud's OAuth client, 764086051850, where it is off: 403 SERVICE_DISABLED with Google's
"requires a quota project" message (hashicorp/terraform-provider-google#11865). Resource-based APIs bill
the resource's project, as their handlers check. Anonymous callers (gcloud's witness tests, with
auth/disable_credentials) are the emulator's own convenience: Google has none, and no rule binds them
but the header's.
"""

from __future__ import annotations

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.routes import ApiRequest, Route
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

HEADER = "x-goog-user-project"
GCLOUD_CLIENT_PROJECT = "764086051850"
"""The project of gcloud's OAuth client, which user credentials from `gcloud auth application-default
login` bill when nothing else is named."""
CLIENT_BASED = frozenset({"apikeys", "orgpolicy"})
UNCHECKED = frozenset({"oauth2"})
"""The OAuth2 token endpoint takes no quota project."""
USE_PERMISSION = "serviceusage.services.use"


def service_of(route: Route) -> str:
    """apikeys.projects.locations.keys.list -> apikeys.googleapis.com"""
    return route.method_id.split(".", 1)[0] + ".googleapis.com"


def check(req: ApiRequest, route: Route) -> None:
    """Raise Google's answer when the request's quota project (or its lack) is refused."""
    api = route.method_id.split(".", 1)[0]
    if api in UNCHECKED:
        return
    quota_project = (req.headers.get(HEADER) or "").strip()
    if quota_project:
        _check_header(req, route, quota_project)
    elif api in CLIENT_BASED and req.authenticated and req.principal.startswith("user:"):
        raise _needs_quota_project(service_of(route))


def _check_header(req: ApiRequest, route: Route, quota_project: str) -> None:
    service = service_of(route)
    if req.api_key:
        raise _may_not_use(quota_project, service)
    projects = req.world.backend(ProjectsBackend)
    project = projects.find(quota_project)
    if project is None or not project.active:
        raise errors.InvalidArgument(
            f"Project 'project:{quota_project}' not found or deleted.",
            reason="USER_PROJECT_DENIED",
            metadata={"consumer": f"projects/{quota_project}", "service": service},
        )
    if not projects.holds(project, req.principal, USE_PERMISSION):
        raise _may_not_use(quota_project, service)
    services = req.world.backend(ServicesBackend)
    if not services.is_enabled(project.number, service):
        raise errors.service_disabled(service, project.number, services.title(service))


def _may_not_use(quota_project: str, service: str) -> errors.PermissionDenied:
    return errors.PermissionDenied(
        f"Caller does not have required permission to use project {quota_project}. Grant the caller the "
        "roles/serviceusage.serviceUsageConsumer role, or a custom role with the serviceusage.services.use "
        "permission, by visiting https://console.developers.google.com/iam-admin/iam/project?project="
        f"{quota_project} and then retry. Propagation of the new permission may take a few minutes.",
        reason="USER_PROJECT_DENIED",
        metadata={"consumer": f"projects/{quota_project}", "service": service},
    )


def _needs_quota_project(service: str) -> errors.PermissionDenied:
    answer = errors.service_disabled(service, GCLOUD_CLIENT_PROJECT)
    answer.message = (
        "Your application is authenticating by using local Application Default Credentials. The "
        f"{service} API requires a quota project, which is not set by default. To learn how to set your "
        "quota project, see https://cloud.google.com/docs/authentication/adc-troubleshooting/user-creds ."
    )
    return answer
