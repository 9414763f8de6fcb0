"""What held up before issue 15 and must keep holding: stale etags, taken project IDs, soft delete and
billing preconditions, through gcloud, the google-cloud clients and the discovery clients."""

from __future__ import annotations

import json

import pytest

from fidelity.kit import (
    from_api_core,
    from_gcloud,
    from_http_error,
    get_policy,
    scenario,
    set_policy,
    with_binding,
)
from fidelity.target import Answer, Target
from gcp_setup.emulator.billing.models import CLOSED_ACCOUNT
from gcp_setup.emulator.resourcemanager.models import SEEDED_FOREIGN_PROJECT


@scenario("http", "0.control-plane")
@pytest.mark.parametrize("api", ["v1", "v3"])
def test_a_stale_policy_etag_is_aborted(t: Target, snapshot, api: str) -> None:
    project = t.new_project()
    policy = get_policy(t, project).body
    binding = {"role": "roles/browser", "members": [t.other_user]}
    assert set_policy(t, project, with_binding(policy, binding), api=api).status == 200
    answer = set_policy(t, project, with_binding(policy, binding), api=api)
    assert answer.status == 409 and answer.error["status"] == "ABORTED"
    snapshot.match("answer", answer.shape())


@scenario("discovery", "0.control-plane")
def test_a_taken_project_id(t: Target, snapshot) -> None:
    from googleapiclient.errors import HttpError

    t.emulator_only()  # the seeded project of another owner
    crm = t.discovery("cloudresourcemanager", "v1")
    with pytest.raises(HttpError) as taken:
        crm.projects().create(body={"projectId": SEEDED_FOREIGN_PROJECT}).execute()
    answer = from_http_error(taken.value)
    assert answer.status == 409
    snapshot.match("answer", answer.shape())


@scenario("cloud-client", "0.control-plane")
def test_cloud_client_soft_delete_and_undelete(t: Target) -> None:
    from google.cloud import resourcemanager_v3

    project = t.new_project()
    client = resourcemanager_v3.ProjectsClient(**t.cloud_client_options())
    deleted = client.delete_project(name=f"projects/{project}").result()
    assert deleted.state == resourcemanager_v3.Project.State.DELETE_REQUESTED
    restored = client.undelete_project(name=f"projects/{project}").result()
    assert restored.state == resourcemanager_v3.Project.State.ACTIVE


@scenario("cloud-client", "0.control-plane")
def test_cloud_client_get_a_project_of_someone_else(t: Target, snapshot) -> None:
    from google.api_core import exceptions
    from google.cloud import resourcemanager_v3

    t.emulator_only()
    client = resourcemanager_v3.ProjectsClient(**t.cloud_client_options())
    with pytest.raises(exceptions.Forbidden) as denied:
        client.get_project(name=f"projects/{SEEDED_FOREIGN_PROJECT}")
    snapshot.match("answer", from_api_core(denied.value).shape())


@scenario("http", "0.control-plane")
def test_enabling_vertex_without_billing_is_refused(t: Target, snapshot) -> None:
    project = t.new_project()
    answer = t.call(
        "POST", "serviceusage", f"v1/projects/{project}/services/aiplatform.googleapis.com:enable", {}
    )
    assert answer.status == 400 and answer.reason == "UREQ_PROJECT_BILLING_NOT_FOUND"
    snapshot.match("answer", answer.shape())


@scenario("http", "0.control-plane")
def test_a_closed_billing_account_leaves_billing_off(t: Target) -> None:
    t.emulator_only()
    project = t.new_project()
    body = {"billingAccountName": CLOSED_ACCOUNT}
    answer = t.call("PUT", "cloudbilling", f"v1/projects/{project}/billingInfo", body)
    assert answer.status == 200 and "billingEnabled" not in answer.body


@scenario("cloud-client", "0.control-plane")
def test_cloud_client_service_usage_batch_enable(t: Target) -> None:
    from google.cloud import service_usage_v1

    project = t.new_project()
    client = service_usage_v1.ServiceUsageClient(**t.cloud_client_options())
    done = client.batch_enable_services(
        request={
            "parent": f"projects/{project}",
            "service_ids": ["iam.googleapis.com", "apikeys.googleapis.com"],
        }
    ).result()
    assert {s.config.name for s in done.services} == {"iam.googleapis.com", "apikeys.googleapis.com"}


# -- gcloud, one command each ---------------------------------------------------------------------------
@scenario("gcloud", "0.control-plane")
def test_gcloud_projects_create_describe_delete(t: Target, snapshot) -> None:
    t.emulator_only()  # it creates a project of its own
    created = t.gcloud("projects", "create", "gcloud-fidelity-1")
    assert created.returncode == 0, created.stderr
    described = json.loads(t.gcloud("projects", "describe", "gcloud-fidelity-1").stdout)
    assert described["lifecycleState"] == "ACTIVE"
    deleted = t.gcloud("projects", "delete", "gcloud-fidelity-1")
    assert deleted.returncode == 0, deleted.stderr
    snapshot.match("describe", Answer(200, described).shape())


@scenario("gcloud", "0.control-plane")
def test_gcloud_services_enable_and_list(t: Target) -> None:
    project = t.new_project()
    assert t.gcloud("services", "enable", "iam.googleapis.com", f"--project={project}").returncode == 0
    listed = json.loads(t.gcloud("services", "list", "--enabled", f"--project={project}").stdout)
    assert "iam.googleapis.com" in {s["config"]["name"] for s in listed}


@scenario("gcloud", "0.control-plane")
def test_gcloud_service_account_and_key(t: Target) -> None:
    project = t.new_project(("iam.googleapis.com",))
    created = t.gcloud("iam", "service-accounts", "create", "gcloud-sa", f"--project={project}")
    assert created.returncode == 0, created.stderr
    listed = json.loads(t.gcloud("iam", "service-accounts", "list", f"--project={project}").stdout)
    assert [a["email"].split("@")[0] for a in listed] == ["gcloud-sa"]


@scenario("gcloud", "0.control-plane")
def test_gcloud_api_keys_create_and_list(t: Target) -> None:
    project = t.new_project(("apikeys.googleapis.com",))
    created = t.gcloud("services", "api-keys", "create", f"--project={project}", "--display-name=fidelity")
    assert created.returncode == 0, created.stderr
    listed = json.loads(t.gcloud("services", "api-keys", "list", f"--project={project}").stdout)
    assert [k["displayName"] for k in listed] == ["fidelity"]


@scenario("gcloud", "0.control-plane")
def test_gcloud_taken_project_id(t: Target, snapshot) -> None:
    t.emulator_only()
    result = t.gcloud("projects", "create", SEEDED_FOREIGN_PROJECT)
    printed = from_gcloud(result)
    assert printed["exit"] != 0
    snapshot.match("gcloud", printed)
