"""Cloud Resource Manager v1 and v3 through Google's own clients: google-cloud-resource-manager (v3, REST)
and google-api-python-client's v1 discovery client, both against the emulator over real HTTP."""

from __future__ import annotations

import json

import pytest
import requests
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import resourcemanager_v3
from googleapiclient.errors import HttpError

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.resourcemanager.models import OTHER_OWNER, SEEDED_FOREIGN_PROJECT
from gcp_setup.emulator.serviceusage.models import DEFAULT_SERVICES

ACTIVE, DELETE_REQUESTED = (
    resourcemanager_v3.Project.State.ACTIVE,
    resourcemanager_v3.Project.State.DELETE_REQUESTED,
)


@pytest.fixture
def v3(emu: EmulatorControl) -> resourcemanager_v3.ProjectsClient:
    return resourcemanager_v3.ProjectsClient(
        transport="rest", credentials=AnonymousCredentials(), client_options={"api_endpoint": emu.url}
    )


def create(v3: resourcemanager_v3.ProjectsClient, project_id: str, **fields) -> resourcemanager_v3.Project:
    return v3.create_project(project=resourcemanager_v3.Project(project_id=project_id, **fields)).result(
        timeout=10
    )


def error_status(exc: HttpError) -> str:
    return json.loads(exc.content)["error"]["status"]


def test_v3_create_answers_a_project_through_a_long_running_operation(v3) -> None:
    project = create(v3, "gemini-app-1", display_name="Gemini app", labels={"team": "ml"})
    assert project.project_id == "gemini-app-1"
    assert project.name.removeprefix("projects/").isdigit() and len(project.name) == len("projects/") + 12
    assert (project.state, project.display_name, dict(project.labels)) == (
        ACTIVE,
        "Gemini app",
        {"team": "ml"},
    )
    assert v3.get_project(name="projects/gemini-app-1") == v3.get_project(name=project.name)
    assert [p.project_id for p in v3.search_projects(query="id:gemini-*")] == ["gemini-app-1"]
    assert list(v3.search_projects(query="labels.team:other")) == []


def test_v3_create_waits_through_unfinished_polls(v3, emu: EmulatorControl) -> None:
    emu.set_realism(operation_polls=2)
    assert create(v3, "slow-project-1").state == ACTIVE
    polls = [r for r in emu.requests() if r["path"].startswith("/v3/operations/")]
    assert len(polls) == 2


def test_same_project_id_twice_is_already_exists(v3, crm_v1) -> None:
    create(v3, "taken-project")
    with pytest.raises(exceptions.Conflict) as caught:
        create(v3, "taken-project")
    assert caught.value.response.json()["error"]["status"] == "ALREADY_EXISTS"
    with pytest.raises(HttpError) as v1_caught:
        crm_v1.projects().create(body={"projectId": SEEDED_FOREIGN_PROJECT}).execute()
    assert v1_caught.value.resp.status == 409
    assert "Requested entity already exists" in str(v1_caught.value)


@pytest.mark.parametrize(
    "bad_id", ["short", "Upper-case-id", "1starts-with-digit", "ends-with-hyphen-", "x" * 31]
)
def test_project_id_rules_are_googles(v3, bad_id: str) -> None:
    with pytest.raises(exceptions.BadRequest) as caught:
        create(v3, bad_id)
    assert caught.value.details[0]["fieldViolations"][0]["field"] == "project_id"


def test_project_owned_by_someone_else_answers_permission_denied(v3, crm_v1) -> None:
    with pytest.raises(exceptions.Forbidden) as caught:
        v3.get_project(name=f"projects/{SEEDED_FOREIGN_PROJECT}")
    assert "or it may not exist" in caught.value.message
    with pytest.raises(HttpError) as v1_caught:
        crm_v1.projects().get(projectId="no-such-project").execute()
    assert v1_caught.value.resp.status == 403
    assert "The caller does not have permission" in str(v1_caught.value)
    assert SEEDED_FOREIGN_PROJECT not in [p.project_id for p in v3.search_projects()]


def test_v3_update_delete_undelete(v3) -> None:
    project = create(v3, "lifecycle-project", labels={"a": "1"})
    updated = v3.update_project(
        project=resourcemanager_v3.Project(name=project.name, labels={"b": "2"}, display_name="ignored"),
        update_mask={"paths": ["labels"]},
    ).result(timeout=10)
    assert (dict(updated.labels), updated.display_name) == ({"b": "2"}, "lifecycle-project")
    assert updated.etag != project.etag
    assert v3.delete_project(name=project.name).result(timeout=10).state == DELETE_REQUESTED
    assert v3.get_project(name=project.name).state == DELETE_REQUESTED
    with pytest.raises(exceptions.Forbidden, match="has been deleted"):
        v3.set_iam_policy(
            request={"resource": project.name, "policy": v3.get_iam_policy(resource=project.name)}
        )
    assert v3.undelete_project(name=project.name).result(timeout=10).state == ACTIVE


def test_iam_policy_creator_is_owner_and_stale_etag_aborts(v3) -> None:
    project = create(v3, "policy-project")
    policy = v3.get_iam_policy(resource=project.name)
    assert [(b.role, list(b.members)) for b in policy.bindings] == [
        ("roles/owner", ["user:developer@example.com"])
    ]
    policy.bindings.add(role="roles/viewer", members=["user:bob@example.com"])
    changed = v3.set_iam_policy(request={"resource": project.name, "policy": policy})
    assert changed.etag != policy.etag
    with pytest.raises(exceptions.Conflict) as caught:
        v3.set_iam_policy(request={"resource": project.name, "policy": policy})
    assert caught.value.response.json()["error"]["status"] == "ABORTED"
    granted = v3.test_iam_permissions(resource=project.name, permissions=["resourcemanager.projects.delete"])
    assert list(granted.permissions) == ["resourcemanager.projects.delete"]
    with pytest.raises(exceptions.BadRequest, match="not valid"):
        v3.test_iam_permissions(resource=project.name, permissions=["delete"])


def test_v1_create_get_list_update_delete_undelete(crm_v1) -> None:
    projects = crm_v1.projects()
    op = projects.create(
        body={"projectId": "v1-project", "name": "V1 project", "parent": {"type": "folder", "id": "42"}}
    ).execute()
    assert op["name"].startswith("operations/cp.")
    done = crm_v1.operations().get(name=op["name"]).execute()
    assert (
        done["done"]
        and done["response"]["@type"] == "type.googleapis.com/google.cloudresourcemanager.v1.Project"
    )
    project = projects.get(projectId="v1-project").execute()
    assert project["parent"] == {"type": "folder", "id": "42"} and project["lifecycleState"] == "ACTIVE"
    listed = projects.list(filter="parent.type:folder parent.id:42 lifecycleState:ACTIVE").execute()
    assert [p["projectId"] for p in listed["projects"]] == ["v1-project"]
    assert projects.list(filter="name:nothing*").execute() == {}
    updated = projects.update(
        projectId="v1-project", body={**project, "name": "Renamed", "labels": {"x": "y"}}
    ).execute()
    assert (updated["name"], updated["labels"]) == ("Renamed", {"x": "y"})
    assert projects.delete(projectId="v1-project").execute() == {}
    assert projects.get(projectId="v1-project").execute()["lifecycleState"] == "DELETE_REQUESTED"
    projects.undelete(projectId="v1-project", body={}).execute()
    assert projects.get(projectId="v1-project").execute()["lifecycleState"] == "ACTIVE"


def test_v1_and_v3_share_one_state(crm_v1, v3) -> None:
    crm_v1.projects().create(body={"projectId": "shared-project"}).execute()
    assert v3.get_project(name="projects/shared-project").project_id == "shared-project"
    v3.delete_project(name="projects/shared-project").result(timeout=10)
    assert crm_v1.projects().get(projectId="shared-project").execute()["lifecycleState"] == "DELETE_REQUESTED"


def test_list_pages_with_tokens(crm_v1) -> None:
    for i in range(5):
        crm_v1.projects().create(body={"projectId": f"paged-project-{i}"}).execute()
    first = crm_v1.projects().list(pageSize=3).execute()
    second = crm_v1.projects().list(pageSize=3, pageToken=first["nextPageToken"]).execute()
    assert "nextPageToken" not in second
    assert [p["projectId"] for p in first["projects"] + second["projects"]] == [
        f"paged-project-{i}" for i in range(5)
    ]


def test_state_file_round_trips_projects_billing_and_services(world, crm_v1) -> None:
    from gcp_setup.emulator.billing.models import OPEN_ACCOUNT, BillingBackend
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    crm_v1.projects().create(body={"projectId": "saved-project", "labels": {"k": "v"}}).execute()
    project = world.backend(ProjectsBackend).lookup("saved-project")
    world.backend(BillingBackend).link(project, OPEN_ACCOUNT)
    world.backend(ServicesBackend).enable(project, "aiplatform.googleapis.com")
    saved = json.loads(json.dumps(world.to_json()))
    world.reset()
    assert world.backend(ProjectsBackend).find("saved-project") is None
    world.load_json(saved)
    assert world.to_json() == saved
    restored = crm_v1.projects().get(projectId="saved-project").execute()
    assert restored["labels"] == {"k": "v"} and restored["projectNumber"] == project.number
    assert world.backend(BillingBackend).billing_enabled(project)
    assert world.backend(ServicesBackend).is_enabled(project.number, "storage.googleapis.com")
    foreign = world.backend(ProjectsBackend).lookup(SEEDED_FOREIGN_PROJECT)
    assert world.backend(ProjectsBackend).holds(foreign, OTHER_OWNER, "resourcemanager.projects.delete")


def test_state_file_survives_a_restart(tmp_path) -> None:
    from gcp_setup.emulator.server import Emulator

    state = tmp_path / "world.json"
    with Emulator(state_file=state) as first:
        requests.post(f"{first.url}/v1/projects", json={"projectId": "durable-project"}, timeout=10)
        requests.post(
            f"{first.url}/v1/projects/durable-project/services/iam.googleapis.com:enable", timeout=10
        )
    with Emulator(state_file=state) as second:
        project = requests.get(f"{second.url}/v1/projects/durable-project", timeout=10).json()
        services = requests.get(
            f"{second.url}/v1/projects/durable-project/services",
            params={"filter": "state:ENABLED"},
            timeout=10,
        ).json()
    assert project["lifecycleState"] == "ACTIVE"
    names = [s["config"]["name"] for s in services["services"]]
    assert "iam.googleapis.com" in names and set(DEFAULT_SERVICES) <= set(names)
