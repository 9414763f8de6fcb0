"""Service Usage v1 through google-cloud-service-usage (REST) against the emulator over real HTTP."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import service_usage_v1

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.serviceusage.models import DEFAULT_SERVICES

ENABLED, DISABLED = service_usage_v1.State.ENABLED, service_usage_v1.State.DISABLED


@pytest.fixture
def su(emu: EmulatorControl) -> service_usage_v1.ServiceUsageClient:
    return service_usage_v1.ServiceUsageClient(
        transport="rest", credentials=AnonymousCredentials(), client_options={"api_endpoint": emu.url}
    )


@pytest.fixture
def project(crm_v1) -> str:
    """A new project of the default caller, as "projects/NUMBER"."""
    op = crm_v1.projects().create(body={"projectId": "services-project"}).execute()
    return f"projects/{op['response']['projectNumber']}"


def enabled(su, project: str) -> list[str]:
    """The services enabled beyond those a new project starts with."""
    listed = su.list_services(request={"parent": project, "filter": "state:ENABLED"})
    return [s.config.name for s in listed if s.config.name not in DEFAULT_SERVICES]


def test_a_new_project_starts_with_googles_default_services(su, project: str) -> None:
    listed = su.list_services(request={"parent": project, "filter": "state:ENABLED"})
    assert sorted(s.config.name for s in listed) == sorted(DEFAULT_SERVICES)
    assert not {"cloudresourcemanager", "cloudbilling", "iam", "apikeys", "orgpolicy"} & {
        name.split(".")[0] for name in DEFAULT_SERVICES
    }


def test_batch_enable_then_list_get_and_batch_get(su, project: str) -> None:
    op = su.batch_enable_services(
        request={
            "parent": project,
            "service_ids": ["iam.googleapis.com", "generativelanguage.googleapis.com"],
        }
    )
    result = op.result(timeout=10)
    assert [(s.name, s.state) for s in result.services] == [
        (f"{project}/services/iam.googleapis.com", ENABLED),
        (f"{project}/services/generativelanguage.googleapis.com", ENABLED),
    ]
    assert enabled(su, project) == ["generativelanguage.googleapis.com", "iam.googleapis.com"]
    got = su.get_service(request={"name": f"{project}/services/iam.googleapis.com"})
    assert (got.config.title, got.parent) == ("Identity and Access Management (IAM) API", project)
    both = su.batch_get_services(
        request={
            "parent": project,
            "names": [f"{project}/services/iam.googleapis.com", f"{project}/services/apikeys.googleapis.com"],
        }
    )
    assert [s.state for s in both.services] == [ENABLED, DISABLED]


def test_project_id_in_the_path_answers_names_with_the_number(su, project: str) -> None:
    su.enable_service(request={"name": "projects/services-project/services/apikeys.googleapis.com"}).result(
        timeout=10
    )
    assert enabled(su, project) == ["apikeys.googleapis.com"]


def test_list_pages(su, project: str) -> None:
    services = ["iam.googleapis.com", "apikeys.googleapis.com", "sts.googleapis.com"]
    su.batch_enable_services(request={"parent": project, "service_ids": services}).result(timeout=10)
    pages = su.list_services(request={"parent": project, "filter": "state:ENABLED", "page_size": 2}).pages
    total = len(DEFAULT_SERVICES) + len(services)
    assert [len(p.services) for p in pages] == [2] * (total // 2) + [1] * (total % 2)


def test_batch_enable_takes_at_most_twenty(su, project: str) -> None:
    with pytest.raises(exceptions.BadRequest, match=r"maximum batch size \(20\)"):
        su.batch_enable_services(
            request={"parent": project, "service_ids": [f"s{i}.googleapis.com" for i in range(21)]}
        )


def test_unknown_service_is_refused_as_google_does(su, project: str) -> None:
    with pytest.raises(exceptions.Forbidden) as caught:
        su.batch_enable_services(
            request={"parent": project, "service_ids": ["iam.googleapis.com", "nope.googleapis.com"]}
        )
    assert caught.value.reason == "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED"
    assert enabled(su, project) == []


def test_services_that_cost_money_need_billing(su, project: str) -> None:
    with pytest.raises(exceptions.BadRequest) as caught:
        su.enable_service(request={"name": f"{project}/services/aiplatform.googleapis.com"})
    assert caught.value.reason == "UREQ_PROJECT_BILLING_NOT_FOUND"


def test_disable_refuses_while_dependents_are_on_unless_asked(su, project: str, world) -> None:
    from gcp_setup.emulator.billing.models import OPEN_ACCOUNT, BillingBackend
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    target = world.backend(ProjectsBackend).lookup(project)
    world.backend(BillingBackend).link(target, OPEN_ACCOUNT)
    world.backend(ServicesBackend).enable(target, "compute.googleapis.com")
    oslogin = f"{project}/services/oslogin.googleapis.com"
    with pytest.raises(exceptions.BadRequest) as caught:
        su.disable_service(request={"name": oslogin})
    assert caught.value.reason == "COMMON_SU_SERVICE_HAS_DEPENDENT_SERVICES"
    result = su.disable_service(request={"name": oslogin, "disable_dependent_services": True}).result(
        timeout=10
    )
    assert result.service.state == DISABLED
    assert enabled(su, project) == []


def test_others_projects_are_forbidden(su) -> None:
    with pytest.raises(exceptions.Forbidden, match="Permission denied to enable service"):
        su.enable_service(request={"name": "projects/someone-elses-project/services/iam.googleapis.com"})


def test_newly_enabled_service_is_disabled_for_the_propagation_time(
    emu: EmulatorControl, project: str, world
) -> None:
    from gcp_setup.emulator.core import errors
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    emu.set_realism(service_enable_propagation_s=60)
    services = world.backend(ServicesBackend)
    target = world.backend(ProjectsBackend).lookup(project)
    services.enable(target, "generativelanguage.googleapis.com")
    with pytest.raises(errors.PermissionDenied) as caught:
        services.require_enabled(target, "generativelanguage.googleapis.com")
    assert caught.value.reason == "SERVICE_DISABLED"
    emu.advance_clock(60)
    services.require_enabled(target, "generativelanguage.googleapis.com")
