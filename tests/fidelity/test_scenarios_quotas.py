"""Quotas with Google's documented limits and error shapes, each set through the realism control; rates per
minute of the emulator's clock (advanced, never slept through). Emulator only: on Google they would spend a
real project's quota."""

from __future__ import annotations

import pytest

from fidelity.kit import from_api_core, from_gcloud, from_http_error, scenario
from fidelity.target import Answer, Target
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT


def _keys(t: Target, project: str, count: int) -> list[Answer]:
    path = f"v2/projects/{project}/locations/global/keys"
    return [t.call("POST", "apikeys", path, {"displayName": f"k{i}"}) for i in range(count)]


@scenario("http", "6.api-keys")
def test_the_301st_api_key_is_refused(t: Target, snapshot) -> None:
    t.emulator_only()
    project = t.new_project(("apikeys.googleapis.com",))
    made = _keys(t, project, 300)
    assert all(a.status == 200 for a in made)
    answer = _keys(t, project, 1)[0]
    assert answer.status == 429 and answer.error["status"] == "RESOURCE_EXHAUSTED"
    assert answer.error["details"][0]["metadata"]["quota_limit_value"] == "300"
    snapshot.match("answer", answer.shape())


@scenario("http", "6.api-keys")
def test_the_api_key_limit_is_a_realism_switch_and_deleted_keys_free_room(t: Target) -> None:
    t.emulator_only()
    t.control.set_realism(api_keys_per_project=2)
    project = t.new_project(("apikeys.googleapis.com",))
    first, _ = _keys(t, project, 2)
    assert _keys(t, project, 1)[0].status == 429
    t.call("DELETE", "apikeys", f"v2/{first.body['response']['name']}")
    assert _keys(t, project, 1)[0].status == 200


@scenario("gcloud", "6.api-keys")
def test_gcloud_api_keys_create_past_the_limit(t: Target, snapshot) -> None:
    t.emulator_only()
    t.control.set_realism(api_keys_per_project=1)
    project = t.new_project(("apikeys.googleapis.com",))
    _keys(t, project, 1)
    result = t.gcloud("services", "api-keys", "create", f"--project={project}", "--display-name=extra")
    printed = from_gcloud(result)
    assert printed["exit"] != 0 and "Quota exceeded" in result.stderr
    snapshot.match("gcloud", printed)


def _accounts(t: Target, project: str, start: int, count: int) -> list[Answer]:
    path = f"v1/projects/{project}/serviceAccounts"
    return [
        t.call("POST", "iam", path, {"accountId": f"account-{i:04d}"}) for i in range(start, start + count)
    ]


@scenario("http", "6.service-accounts")
def test_the_101st_service_account_is_refused(t: Target, snapshot) -> None:
    t.emulator_only()
    project = t.new_project(("iam.googleapis.com",))
    assert all(a.status == 200 for a in _accounts(t, project, 0, 100))
    answer = _accounts(t, project, 100, 1)[0]
    assert (
        answer.status == 429
        and answer.error["message"] == "Maximum number of service accounts on project reached."
    )
    assert answer.error["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "86401s"}
    ]
    snapshot.match("answer", answer.shape())


@scenario("discovery", "6.service-accounts")
def test_discovery_service_account_limit_from_realism(t: Target, snapshot) -> None:
    from googleapiclient.errors import HttpError

    t.emulator_only()
    t.control.set_realism(service_accounts_per_project=1)
    project = t.new_project(("iam.googleapis.com",))
    accounts = t.discovery("iam", "v1").projects().serviceAccounts()
    accounts.create(name=f"projects/{project}", body={"accountId": "first-one"}).execute()
    with pytest.raises(HttpError) as refused:
        accounts.create(name=f"projects/{project}", body={"accountId": "second-one"}).execute()
    answer = from_http_error(refused.value)
    assert answer.status == 429
    snapshot.match("answer", answer.shape())


def _link(t: Target, project: str, account: str = OPEN_ACCOUNT) -> Answer:
    return t.call(
        "PUT", "cloudbilling", f"v1/projects/{project}/billingInfo", {"billingAccountName": account}
    )


@scenario("http", "6.billing-projects")
def test_the_sixth_project_on_a_new_billing_account_is_refused(t: Target, snapshot) -> None:
    t.emulator_only()
    t.control.set_realism(billing_account_quotas={})  # the seeded account as a new one: Google's default 5
    projects = [t.new_project() for _ in range(6)]
    assert all(_link(t, p).status == 200 for p in projects[:5])
    answer = _link(t, projects[5])
    assert answer.status == 400 and answer.error["status"] == "FAILED_PRECONDITION"
    violation = answer.error["details"][0]["violations"][0]
    assert violation["subject"] == OPEN_ACCOUNT and "Cloud billing quota exceeded" in violation["description"]
    assert _link(t, projects[0]).status == 200  # relinking a linked project takes no more quota
    snapshot.match("answer", answer.shape())


@scenario("gcloud", "6.billing-projects")
def test_gcloud_billing_projects_link_over_the_quota(t: Target, snapshot) -> None:
    t.emulator_only()
    t.control.set_realism(billing_account_quotas={OPEN_ACCOUNT: 1})
    first, second = t.new_project(), t.new_project()
    assert _link(t, first).status == 200
    account = OPEN_ACCOUNT.removeprefix("billingAccounts/")
    result = t.gcloud("billing", "projects", "link", second, f"--billing-account={account}")
    printed = from_gcloud(result)
    assert printed["exit"] != 0 and printed["status"] == "FAILED_PRECONDITION"
    snapshot.match("gcloud", printed)


@scenario("http", "6.billing-projects")
def test_the_seeded_account_takes_a_fleet(t: Target) -> None:
    t.emulator_only()
    assert all(_link(t, t.new_project()).status == 200 for _ in range(12))


# -- rates -----------------------------------------------------------------------------------------------
def _create(t: Target, project: str) -> Answer:
    return t.call("POST", "cloudresourcemanager", "v1/projects", {"projectId": project})


@scenario("http", "6.rates")
def test_project_creation_at_googles_rate(t: Target, snapshot) -> None:
    t.emulator_only()
    t.control.freeze_clock()
    t.control.set_realism(project_creates_per_minute=60)  # Google: 600 writes a minute, a create costs 10
    assert all(_create(t, f"rate-test-{i:03d}").status == 200 for i in range(60))
    answer = _create(t, "rate-test-060")
    assert answer.status == 429 and answer.reason == "RATE_LIMIT_EXCEEDED"
    assert answer.error["details"][0]["metadata"]["quota_limit_value"] == "60"
    t.control.advance_clock(60)
    assert _create(t, "rate-test-061").status == 200
    snapshot.match("answer", answer.shape())


@scenario("cloud-client", "6.rates")
def test_cloud_client_create_project_rate(t: Target, snapshot) -> None:
    from google.api_core import exceptions
    from google.cloud import resourcemanager_v3

    t.emulator_only()
    t.control.freeze_clock()
    t.control.set_realism(project_creates_per_minute=1)
    client = resourcemanager_v3.ProjectsClient(**t.cloud_client_options())
    client.create_project(project={"project_id": "rate-client-1"}).result()
    with pytest.raises(exceptions.TooManyRequests) as refused:
        client.create_project(project={"project_id": "rate-client-2"})
    snapshot.match("answer", from_api_core(refused.value).shape())


def _enable(t: Target, project: str, *services: str) -> Answer:
    if len(services) == 1:
        return t.call("POST", "serviceusage", f"v1/projects/{project}/services/{services[0]}:enable", {})
    body = {"serviceIds": list(services)}
    return t.call("POST", "serviceusage", f"v1/projects/{project}/services:batchEnable", body)


@scenario("http", "6.rates")
def test_service_usage_writes_at_googles_rate_batch_enable_counts_five(t: Target, snapshot) -> None:
    t.emulator_only()
    t.control.freeze_clock()
    t.control.set_realism(service_usage_writes_per_minute=60)
    project = t.new_project()
    pair = ("iam.googleapis.com", "apikeys.googleapis.com")
    assert all(_enable(t, project, *pair).status == 200 for _ in range(12))  # 12 x 5 = 60
    answer = _enable(t, project, "iam.googleapis.com")
    assert answer.status == 429 and answer.reason == "RATE_LIMIT_EXCEEDED"
    t.control.advance_clock(60)
    assert _enable(t, project, "iam.googleapis.com").status == 200
    snapshot.match("answer", answer.shape())


@scenario("gcloud", "6.rates")
def test_gcloud_services_enable_over_the_rate(t: Target, snapshot) -> None:
    t.emulator_only()
    t.control.freeze_clock()
    t.control.set_realism(service_usage_writes_per_minute=4)
    project = t.new_project()
    result = t.gcloud(
        "services", "enable", "iam.googleapis.com", "apikeys.googleapis.com", f"--project={project}"
    )
    printed = from_gcloud(result)
    assert printed["exit"] != 0 and "Quota exceeded" in result.stderr
    snapshot.match("gcloud", printed)


@scenario("http", "6.rates")
@pytest.mark.parametrize("resource", ["project", "service-account"])
def test_iam_policy_writes_at_googles_rate(t: Target, snapshot, resource: str) -> None:
    t.emulator_only()
    t.control.freeze_clock()
    t.control.set_realism(iam_policy_writes_per_minute=600)
    project = t.new_project(("iam.googleapis.com",))
    if resource == "project":
        api, path = "cloudresourcemanager", f"v1/projects/{project}"
    else:
        body = {"accountId": "policy-target"}
        api, path = (
            "iam",
            "v1/" + t.call("POST", "iam", f"v1/projects/{project}/serviceAccounts", body).body["name"],
        )
    policy = t.call("POST", api, f"{path}:getIamPolicy", {}).body
    policy.pop("etag")
    answers = [t.call("POST", api, f"{path}:setIamPolicy", {"policy": policy}) for _ in range(601)]
    assert all(a.status == 200 for a in answers[:600])
    assert answers[600].status == 429 and answers[600].reason == "RATE_LIMIT_EXCEEDED"
    snapshot.match("answer", answers[600].shape())


@scenario("http", "6.rates")
def test_a_quota_project_header_names_the_consumer(t: Target) -> None:
    """The header names the consumer whose minute a create spends; Google checks it first: the project
    exists and serves Resource Manager (core/quota_project.py)."""
    t.emulator_only()
    billing_host = t.new_project(("cloudresourcemanager.googleapis.com",))
    t.control.freeze_clock()
    t.control.advance_clock(61)  # the billing host's own creation is in a minute of its own
    t.control.set_realism(project_creates_per_minute=1)
    assert _create(t, "header-test-1").status == 200
    answer = t.call(
        "POST",
        "cloudresourcemanager",
        "v1/projects",
        {"projectId": "header-test-2"},
        headers={"X-Goog-User-Project": billing_host},
    )
    assert answer.status == 200  # another consumer's minute
    refused = t.call(
        "POST",
        "cloudresourcemanager",
        "v1/projects",
        {"projectId": "header-test-3"},
        headers={"X-Goog-User-Project": billing_host},
    )
    assert refused.error["details"][0]["metadata"]["consumer"] == f"projects/{billing_host}"


# -- projects per creator: pending deletion counts --------------------------------------------------------
@scenario("http", "6.rates")
def test_projects_pending_deletion_count_against_the_project_quota(t: Target, snapshot) -> None:
    t.emulator_only()
    t.control.set_realism(projects_per_creator=3)
    first = t.new_project()
    t.new_project()
    t.new_project()
    assert t.call("DELETE", "cloudresourcemanager", f"v1/projects/{first}").status == 200
    answer = _create(t, "one-too-many")
    assert answer.status == 200 and answer.body["done"] is True
    assert answer.body["error"]["code"] == 8 and "allotted project quota" in answer.body["error"]["message"]
    assert t.call("GET", "cloudresourcemanager", "v1/projects/one-too-many").status == 403
    snapshot.match("operation", answer.shape())


@scenario("gcloud", "6.rates")
def test_gcloud_projects_create_past_the_project_quota(t: Target, snapshot) -> None:
    t.emulator_only()
    t.control.set_realism(projects_per_creator=0)
    result = t.gcloud("projects", "create", "quota-gcloud-1")
    printed = from_gcloud(result)
    assert printed["exit"] != 0 and "allotted project quota" in result.stderr
    snapshot.match("gcloud", printed)
