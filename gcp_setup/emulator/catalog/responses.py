"""What exists independently of any project: Google's services (Service Management v1
`services.get`) and predefined IAM roles (IAM v1 `roles.get`, `projects.roles.get`). gcp-setup asks
them before its first write, so that a mistyped --services or --role is refused before a project is
created. Only the services Service Usage's catalogue knows and the roles below exist here.
"""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.routes import ApiRequest, api_method
from gcp_setup.emulator.serviceusage.models import CATALOGUE

PREDEFINED_ROLES = frozenset(
    {
        "roles/owner",
        "roles/editor",
        "roles/viewer",
        "roles/browser",
        "roles/aiplatform.user",
        "roles/aiplatform.admin",
        "roles/aiplatform.viewer",
        "roles/aiplatform.expressUser",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountCreator",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountViewer",
        "roles/iam.workloadIdentityUser",
        "roles/iam.workloadIdentityPoolAdmin",
        "roles/iam.securityAdmin",
        "roles/resourcemanager.projectIamAdmin",
        "roles/billing.projectManager",
        "roles/billing.user",
        "roles/serviceusage.serviceUsageAdmin",
        "roles/serviceusage.serviceUsageConsumer",
        "roles/serviceusage.apiKeysAdmin",
        "roles/serviceusage.apiKeysViewer",
        "roles/storage.objectViewer",
        "roles/storage.objectAdmin",
        "roles/logging.logWriter",
        "roles/monitoring.metricWriter",
    }
)


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
    if name not in PREDEFINED_ROLES:  # custom roles (projects/P/roles/R) are never emulated
        raise errors.NotFound(f"The role named {name} was not found.")  # gcloud iam roles describe's text
    return {"name": name, "title": name.rsplit(".", 1)[-1], "stage": "GA", "etag": "BwYAAAAAAAA="}
