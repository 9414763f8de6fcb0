"""Service Usage state: which services are enabled in which project, and since when. No HTTP here.

Enablement is keyed by project number, as the API itself names consumers (`projects/123/services/x`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.emulator.billing.models import BillingBackend
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.world import Backend, World, backend
from gcp_setup.emulator.resourcemanager.models import Project


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    title: str
    dependencies: tuple[str, ...] = ()
    """Services Google enables along with this one (and refuses to disable while this one is on)."""
    bundle: tuple[str, ...] = ()
    """Services enabled along with this one that stay independent of it (cloudapis' default set)."""
    requires_billing: bool = False
    """Enabling it needs a project linked to an open billing account."""


def _catalogue(*entries: ServiceInfo) -> dict[str, ServiceInfo]:
    return {e.name: e for e in entries}


# The services a new project starts with: Google's "Services enabled by default" list
# (cloud.google.com/service-usage/docs/enabled-service, read 2026-12-07), which `gcloud projects create`
# also turns on through cloudapis.googleapis.com. Resource Manager, Cloud Billing, IAM, API Keys and Org
# Policy are not among them.
DEFAULT_SERVICES = (
    "analyticshub.googleapis.com",
    "bigquery.googleapis.com",
    "bigqueryconnection.googleapis.com",
    "bigquerydatapolicy.googleapis.com",
    "bigquerymigration.googleapis.com",
    "bigqueryreservation.googleapis.com",
    "bigquerystorage.googleapis.com",
    "cloudapis.googleapis.com",
    "cloudtrace.googleapis.com",
    "dataform.googleapis.com",
    "dataplex.googleapis.com",
    "datastore.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "servicemanagement.googleapis.com",
    "serviceusage.googleapis.com",
    "sql-component.googleapis.com",
    "storage.googleapis.com",
    "storage-api.googleapis.com",
    "storage-component.googleapis.com",
)

# The services gcp-setup and its users touch. Dependencies are kept modest: only those Google is known to
# pull in (Compute Engine brings OS Login; Vertex AI brings Cloud Storage for its artifacts). Compute and
# Vertex AI refuse activation without billing (UREQ_PROJECT_BILLING_NOT_FOUND); the Gemini API does not.
CATALOGUE: dict[str, ServiceInfo] = _catalogue(
    ServiceInfo("generativelanguage.googleapis.com", "Generative Language API"),
    ServiceInfo(
        "aiplatform.googleapis.com", "Vertex AI API", ("storage.googleapis.com",), requires_billing=True
    ),
    ServiceInfo("cloudresourcemanager.googleapis.com", "Cloud Resource Manager API"),
    ServiceInfo("serviceusage.googleapis.com", "Service Usage API"),
    ServiceInfo("iam.googleapis.com", "Identity and Access Management (IAM) API"),
    ServiceInfo("iamcredentials.googleapis.com", "IAM Service Account Credentials API"),
    ServiceInfo("apikeys.googleapis.com", "API Keys API"),
    ServiceInfo("cloudbilling.googleapis.com", "Cloud Billing API"),
    ServiceInfo(
        "cloudapis.googleapis.com",
        "Google Cloud APIs",
        bundle=tuple(s for s in DEFAULT_SERVICES if s != "cloudapis.googleapis.com"),
    ),
    ServiceInfo(
        "compute.googleapis.com", "Compute Engine API", ("oslogin.googleapis.com",), requires_billing=True
    ),
    ServiceInfo("oslogin.googleapis.com", "Cloud OS Login API"),
    ServiceInfo("sts.googleapis.com", "Security Token Service API"),
    ServiceInfo("logging.googleapis.com", "Cloud Logging API"),
    ServiceInfo("monitoring.googleapis.com", "Cloud Monitoring API"),
    ServiceInfo("servicemanagement.googleapis.com", "Service Management API"),
    ServiceInfo("analyticshub.googleapis.com", "Analytics Hub API"),
    ServiceInfo("bigquery.googleapis.com", "BigQuery API"),
    ServiceInfo("bigqueryconnection.googleapis.com", "BigQuery Connection API"),
    ServiceInfo("bigquerydatapolicy.googleapis.com", "BigQuery Data Policy API"),
    ServiceInfo("bigquerymigration.googleapis.com", "BigQuery Migration API"),
    ServiceInfo("bigqueryreservation.googleapis.com", "BigQuery Reservation API"),
    ServiceInfo("dataform.googleapis.com", "Dataform API"),
    ServiceInfo("dataplex.googleapis.com", "Cloud Dataplex API"),
    ServiceInfo("orgpolicy.googleapis.com", "Organization Policy API"),
    ServiceInfo("bigquerystorage.googleapis.com", "BigQuery Storage API"),
    ServiceInfo("cloudtrace.googleapis.com", "Cloud Trace API"),
    ServiceInfo("datastore.googleapis.com", "Cloud Datastore API"),
    ServiceInfo("sql-component.googleapis.com", "Cloud SQL"),
    ServiceInfo("storage.googleapis.com", "Cloud Storage API"),
    ServiceInfo("storage-api.googleapis.com", "Google Cloud Storage JSON API"),
    ServiceInfo("storage-component.googleapis.com", "Cloud Storage"),
)

MAX_BATCH = 20
"""services:batchEnable and services:batchGet take at most this many services per call."""


def unknown_service(services: list[str]) -> errors.PermissionDenied:
    """What Service Usage answers when asked to enable a service it does not know (or may not share)."""
    listed = ", ".join(services)
    return errors.PermissionDenied(
        f"Not found or permission denied for service(s): {listed}.",
        reason="SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED",
        domain="serviceusage.googleapis.com",
        metadata={"services": ",".join(services)},
    )


def billing_required(project: Project, services: list[str]) -> errors.FailedPrecondition:
    """Service Usage's answer when a service that costs money is enabled in a project without billing."""
    listed = ",".join(services)
    query = "&".join([f"?error_code=390001&project={project.number}", *(f"services={s}" for s in services)])
    return errors.FailedPrecondition(
        f"Billing account for project '{project.number}' is not found. Billing must be enabled for "
        f"activation of service(s) '{listed}' to proceed.",
        reason="UREQ_PROJECT_BILLING_NOT_FOUND",
        domain="serviceusage.googleapis.com/billing-enabled",
        metadata={"project": project.number, "services": listed},
        extra_details=[
            {
                "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
                "violations": [{"subject": query, "type": "googleapis.com/billing-enabled"}],
            }
        ],
    )


@backend
class ServicesBackend(Backend):
    name = "services"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.enabled: dict[str, dict[str, float]] = {}
        """project number -> service -> when it was enabled (world clock)."""

    def title(self, service: str) -> str:
        info = CATALOGUE.get(service)
        return info.title if info else service

    def is_enabled(self, project_number: str, service: str) -> bool:
        return service in self.enabled.get(project_number, {})

    def enabled_services(self, project_number: str) -> list[str]:
        return sorted(self.enabled.get(project_number, {}))

    def require_enabled(self, project: Project, service: str) -> None:
        """Data-plane APIs call this: SERVICE_DISABLED when the service is off, or when it was turned on
        less than `service_enable_propagation_s` ago (Google's enablement takes a while to propagate)."""
        if not project.active:
            raise errors.project_deleted(project.number)
        since = self.enabled.get(project.number, {}).get(service)
        propagation = self.world.realism.service_enable_propagation_s
        if since is None or self.world.now() - since < propagation:
            raise errors.service_disabled(service, project.number, self.title(service))

    def check_known(self, services: list[str]) -> None:
        unknown = [s for s in services if s not in CATALOGUE]
        if unknown:
            raise unknown_service(unknown)

    def enable(self, project: Project, service: str) -> list[str]:
        """Enable `service` and what comes with it; returns the services that were turned on."""
        return self.enable_many(project, [service])

    def enable_many(self, project: Project, services: list[str]) -> list[str]:
        """All or nothing, as services:batchEnable: unknown services or missing billing enable none."""
        self.check_known(services)
        self._check_billing(project, services)
        turned_on = []
        for service in services:
            info = CATALOGUE[service]
            for name in (service, *info.dependencies, *info.bundle):
                if not self.is_enabled(project.number, name):
                    self.enabled.setdefault(project.number, {})[name] = self.world.now()
                    turned_on.append(name)
        return turned_on

    def _check_billing(self, project: Project, services: list[str]) -> None:
        needing = [
            s for s in services if CATALOGUE[s].requires_billing and not self.is_enabled(project.number, s)
        ]
        if needing and not self.world.backend(BillingBackend).billing_enabled(project):
            raise billing_required(project, needing)

    def dependents(self, project: Project, service: str) -> list[str]:
        """Enabled services that depend on `service`."""
        return [
            name
            for name in self.enabled_services(project.number)
            if service in CATALOGUE.get(name, ServiceInfo(name, name)).dependencies
        ]

    def disable(self, project: Project, service: str, *, disable_dependents: bool = False) -> list[str]:
        """Disable `service`; refuses while enabled services depend on it, unless told to take them too."""
        dependents = self.dependents(project, service)
        if dependents and not disable_dependents:
            raise errors.FailedPrecondition(
                f"The service {service} is depended on by the following active service(s): "
                f"{','.join(dependents)}; Please specify disable_dependent_services=true if you want "
                "to proceed with disabling all services.",
                reason="COMMON_SU_SERVICE_HAS_DEPENDENT_SERVICES",
                domain="serviceusage.googleapis.com",
                metadata={"service": service, "dependentServices": ",".join(dependents)},
            )
        turned_off = [service, *dependents] if self.is_enabled(project.number, service) else dependents
        for name in turned_off:
            self.enabled.get(project.number, {}).pop(name, None)
        return turned_off

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled}

    def load_json(self, data: dict[str, Any]) -> None:
        self.enabled = {number: dict(services) for number, services in data.get("enabled", {}).items()}
