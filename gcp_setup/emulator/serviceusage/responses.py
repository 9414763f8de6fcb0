"""Service Usage v1 handlers. Its operations share the path /v1/operations/X with Resource Manager v1's,
and the one store of operations answers both."""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator.core import errors, quotas
from gcp_setup.emulator.core.authorization import holds_permission, project_caller_may_act_on
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, api_method
from gcp_setup.emulator.resourcemanager.models import Project
from gcp_setup.emulator.serviceusage.models import CATALOGUE, MAX_BATCH, ServicesBackend

API = "serviceusage.v1"
M = "serviceusage.services."
TYPE = "type.googleapis.com/google.api.serviceusage.v1."
MAX_BATCH_GET = 30


def _services(req: ApiRequest) -> ServicesBackend:
    return req.world.backend(ServicesBackend)


def _denied(message: str, permission: str, **metadata: str) -> errors.PermissionDenied:
    return errors.PermissionDenied(
        message,
        reason="AUTH_PERMISSION_DENIED",
        domain="serviceusage.googleapis.com",
        metadata={"permission": permission, **metadata},
    )


def _consumer(req: ApiRequest, permission: str, denial: str, *, active: bool = False) -> Project:
    """The project named in the path (`projects/ID` or `projects/NUMBER`) if the caller holds `permission`."""
    if req.params["v1Id"] != "projects":
        raise errors.InvalidArgument("Request contains an invalid argument: only projects can be consumers.")
    return project_caller_may_act_on(
        req,
        req.params["v1Id1"],
        allowed=holds_permission(req, permission),
        denied=lambda: _denied(denial, permission),
        when_deleted="refuse" if active else "allow",
    )


def _charge(req: ApiRequest, project: Project, cost: int = 1) -> None:
    consumer = quotas.consumer_of(req.headers, f"projects/{project.number}")
    quotas.charge(req.world, quotas.SERVICE_USAGE_WRITES, consumer, cost)


def service_json(req: ApiRequest, project: Project, service: str) -> dict[str, Any]:
    enabled = _services(req).is_enabled(project.number, service)
    return {
        "name": f"projects/{project.number}/services/{service}",
        "parent": f"projects/{project.number}",
        "config": {"name": service, "title": _services(req).title(service)},
        "state": "ENABLED" if enabled else "DISABLED",
    }


def _operation(
    req: ApiRequest, project: Project, response: dict[str, Any], services: list[str]
) -> dict[str, Any]:
    metadata = {
        "@type": TYPE + "OperationMetadata",
        "resourceNames": [f"services/{s}/projectSettings/{project.number}" for s in services],
    }
    op = req.world.operations.start(
        f"operations/acf.p2-{project.number}-", response=response, metadata=metadata
    )
    return op.to_json()


@api_method(API, M + "get")
def get_service(req: ApiRequest) -> dict[str, Any]:
    service = req.params["servicesId"]
    project = _consumer(req, "serviceusage.services.get", f"Permission denied to get service [{service}]")
    _services(req).check_known([service])
    return service_json(req, project, service)


@api_method(API, M + "list")
def list_services(req: ApiRequest) -> dict[str, Any]:
    project = _consumer(
        req,
        "serviceusage.services.list",
        f"Permission denied to list services for consumer container [projects/{req.params['v1Id1']}]",
    )
    wanted = req.query.get("filter", "").replace(" ", "")
    if wanted not in ("", "state:ENABLED", "state:DISABLED"):
        raise errors.InvalidArgument(f"Invalid filter: '{wanted}'. Allowed: state:ENABLED, state:DISABLED.")
    enabled = _services(req).enabled_services(project.number)
    if wanted == "state:ENABLED":
        names = enabled
    elif wanted == "state:DISABLED":
        names = sorted(set(CATALOGUE) - set(enabled))
    else:
        names = sorted(set(CATALOGUE) | set(enabled))
    items, token = page(names, req.query, default_size=50, max_size=200)
    body = {"services": [service_json(req, project, s) for s in items]} if items else {}
    return with_next_page(body, token)


@api_method(API, M + "batchGet")
def batch_get(req: ApiRequest) -> dict[str, Any]:
    project = _consumer(req, "serviceusage.services.get", "Permission denied to get services")
    names = req.query.getlist("names")
    if not names or len(names) > MAX_BATCH_GET:
        raise errors.InvalidArgument(
            f"Request contains an invalid argument: between 1 and {MAX_BATCH_GET} names."
        )
    services = [n.rsplit("/", 1)[-1] for n in names]
    _services(req).check_known(services)
    return {"services": [service_json(req, project, s) for s in services]}


@api_method(API, M + "enable")
def enable(req: ApiRequest) -> dict[str, Any]:
    service = req.params["servicesId"]
    project = _consumer(
        req, "serviceusage.services.enable", f"Permission denied to enable service [{service}]", active=True
    )
    _charge(req, project)
    _services(req).enable(project, service)
    response = {"@type": TYPE + "EnableServiceResponse", "service": service_json(req, project, service)}
    return _operation(req, project, response, [service])


@api_method(API, M + "batchEnable")
def batch_enable(req: ApiRequest) -> dict[str, Any]:
    service_ids = list(req.body.get("serviceIds") or [])
    project = _consumer(
        req,
        "serviceusage.services.enable",
        f"Permission denied to enable service [{','.join(service_ids)}]",
        active=True,
    )
    if not service_ids:
        raise errors.InvalidArgument("Request contains an invalid argument: serviceIds must not be empty.")
    if len(service_ids) > MAX_BATCH:
        raise errors.InvalidArgument(
            f"Number of services must not exceed the maximum batch size ({MAX_BATCH})."
        )
    _charge(req, project, quotas.BATCH_ENABLE_COST)
    _services(req).enable_many(project, service_ids)
    response = {
        "@type": TYPE + "BatchEnableServicesResponse",
        "services": [service_json(req, project, s) for s in service_ids],
    }
    return _operation(req, project, response, service_ids)


@api_method(API, M + "disable")
def disable(req: ApiRequest) -> dict[str, Any]:
    service = req.params["servicesId"]
    project = _consumer(
        req, "serviceusage.services.disable", f"Permission denied to disable service [{service}]", active=True
    )
    _services(req).check_known([service])
    _charge(req, project)
    _services(req).disable(
        project, service, disable_dependents=bool(req.body.get("disableDependentServices"))
    )
    response = {"@type": TYPE + "DisableServiceResponse", "service": service_json(req, project, service)}
    return _operation(req, project, response, [service])


@api_method(API, "serviceusage.operations.get")
def get_operation(req: ApiRequest) -> dict[str, Any]:
    return req.world.operations.answer(f"operations/{req.params['operationsId']}")
