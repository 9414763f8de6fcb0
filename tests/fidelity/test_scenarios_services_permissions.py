"""Services that must be on, permissions read from the real role lists, roles served, billing account IAM,
service account key certificates and API key etags."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from fidelity.kit import from_gcloud, from_http_error, get_policy, scenario, set_policy, with_binding
from fidelity.target import Answer, Target
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT

IAM_API = "iam.googleapis.com"


# -- SERVICE_DISABLED -----------------------------------------------------------------------------------
def _account(t: Target, project: str) -> Answer:
    return t.call("POST", "iam", f"v1/projects/{project}/serviceAccounts", {"accountId": "fidelity-sa"})


@scenario("http", "5.service-disabled")
def test_creating_a_service_account_with_iam_off(t: Target, snapshot) -> None:
    project = t.new_project()
    answer = _account(t, project)
    assert answer.status == 403 and answer.reason == "SERVICE_DISABLED"
    assert answer.error["details"][0]["metadata"]["service"] == IAM_API
    snapshot.match("answer", answer.shape())


@scenario("http", "5.service-disabled")
def test_creating_a_key_with_iam_turned_off(t: Target, snapshot) -> None:
    project = t.new_project((IAM_API,))
    name = _account(t, project).body["name"]
    off = t.call("POST", "serviceusage", f"v1/projects/{project}/services/{IAM_API}:disable", {})
    assert off.status == 200
    answer = t.call("POST", "iam", f"v1/{name}/keys", {})
    assert answer.status == 403 and answer.reason == "SERVICE_DISABLED"
    snapshot.match("answer", answer.shape())


@scenario("http", "5.service-disabled")
@pytest.mark.parametrize("verb", ["list", "get"])
def test_reading_service_accounts_with_iam_off(t: Target, snapshot, verb: str) -> None:
    project = t.new_project((IAM_API,))
    name = _account(t, project).body["name"]
    t.call("POST", "serviceusage", f"v1/projects/{project}/services/{IAM_API}:disable", {})
    path = f"v1/projects/{project}/serviceAccounts" if verb == "list" else f"v1/{name}"
    answer = t.call("GET", "iam", path)
    assert answer.status == 403 and answer.reason == "SERVICE_DISABLED"
    snapshot.match("answer", answer.shape())


@scenario("discovery", "5.service-disabled")
def test_discovery_client_create_with_iam_off(t: Target, snapshot) -> None:
    from googleapiclient.errors import HttpError

    project = t.new_project()
    iam = t.discovery("iam", "v1")
    with pytest.raises(HttpError) as refused:
        body = {"accountId": "fidelity-sa"}
        iam.projects().serviceAccounts().create(name=f"projects/{project}", body=body).execute()
    answer = from_http_error(refused.value)
    assert answer.reason == "SERVICE_DISABLED"
    snapshot.match("answer", answer.shape())


@scenario("gcloud", "5.service-disabled")
def test_gcloud_service_accounts_create_with_iam_off(t: Target, snapshot) -> None:
    project = t.new_project()
    result = t.gcloud("iam", "service-accounts", "create", "fidelity-sa", f"--project={project}")
    printed = from_gcloud(result)
    assert printed["exit"] != 0 and "has not been used in project" in result.stderr
    snapshot.match("gcloud", printed)


@scenario("http", "5.service-disabled")
def test_api_keys_with_their_api_off(t: Target, snapshot) -> None:
    project = t.new_project()
    answer = t.call("GET", "apikeys", f"v2/projects/{project}/locations/global/keys")
    assert answer.status == 403 and answer.reason == "SERVICE_DISABLED"
    snapshot.match("answer", answer.shape())


# -- roles/aiplatform.user -------------------------------------------------------------------------------
def _as_account_with(t: Target, role: str) -> tuple[str, str]:
    """(project, access token of a service account that holds `role` there and nothing else)."""
    t.emulator_only()  # a token of the account: the emulator issues one directly
    project = t.new_project((IAM_API,))
    email = _account(t, project).body["email"]
    policy = get_policy(t, project).body
    assert (
        set_policy(
            t, project, with_binding(policy, {"role": role, "members": [f"serviceAccount:{email}"]})
        ).status
        == 200
    )
    token, _ = t.world.tokens.issue(f"serviceAccount:{email}")
    return project, token


@scenario("http", "5.aiplatform-user")
@pytest.mark.parametrize("api", ["v1", "v3"])
def test_an_agent_platform_user_describes_the_project(t: Target, snapshot, api: str) -> None:
    project, token = _as_account_with(t, "roles/aiplatform.user")
    answer = t.call(
        "GET",
        "cloudresourcemanager",
        f"{api}/projects/{project}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status == 200 and answer.body["projectId"] == project
    snapshot.match("answer", answer.shape())


@scenario("http", "5.aiplatform-user")
@pytest.mark.parametrize("path", ["v1/projects", "v3/projects:search"])
def test_an_agent_platform_user_lists_the_project(t: Target, path: str) -> None:
    project, token = _as_account_with(t, "roles/aiplatform.user")
    answer = t.call("GET", "cloudresourcemanager", path, headers={"Authorization": f"Bearer {token}"})
    assert [p["projectId"] for p in answer.body["projects"]] == [project]


@scenario("http", "5.aiplatform-user")
def test_an_express_user_neither_lists_nor_describes(t: Target, snapshot) -> None:
    """roles/aiplatform.expressUser carries no resourcemanager permission (its real list)."""
    project, token = _as_account_with(t, "roles/aiplatform.expressUser")
    headers = {"Authorization": f"Bearer {token}"}
    assert t.call("GET", "cloudresourcemanager", "v1/projects", headers=headers).body == {}
    answer = t.call("GET", "cloudresourcemanager", f"v1/projects/{project}", headers=headers)
    assert answer.status == 403
    snapshot.match("answer", answer.shape())


@scenario("http", "5.aiplatform-user")
def test_test_iam_permissions_reads_the_real_list(t: Target) -> None:
    project, token = _as_account_with(t, "roles/aiplatform.user")
    asked = [
        "resourcemanager.projects.get",
        "aiplatform.endpoints.predict",
        "resourcemanager.projects.delete",
    ]
    answer = t.call(
        "POST",
        "cloudresourcemanager",
        f"v1/projects/{project}:testIamPermissions",
        {"permissions": asked},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.body == {"permissions": asked[:2]}


# -- roles -------------------------------------------------------------------------------------------------
@scenario("gcloud", "5.roles")
@pytest.mark.parametrize(
    "role", ["roles/aiplatform.user", "roles/aiplatform.expressUser", "roles/serviceusage.apiKeysAdmin"]
)
def test_gcloud_iam_roles_describe(t: Target, snapshot, role: str) -> None:
    result = t.gcloud("iam", "roles", "describe", role)
    described = json.loads(result.stdout)
    assert described["name"] == role and described["includedPermissions"]
    if role == "roles/aiplatform.user":
        assert len(described["includedPermissions"]) == 446
        assert "resourcemanager.projects.get" in described["includedPermissions"]
    snapshot.match("gcloud", {"fields": sorted(described), "stage": described["stage"]})


@scenario("discovery", "5.roles")
@pytest.mark.parametrize("view", ["BASIC", "FULL"])
def test_discovery_roles_list(t: Target, snapshot, view: str) -> None:
    iam = t.discovery("iam", "v1")
    answer = iam.roles().list(view=view, pageSize=50).execute()
    assert len(answer["roles"]) == 50 and answer["nextPageToken"]
    assert ("includedPermissions" in answer["roles"][0]) == (view == "FULL")
    snapshot.match("answer", Answer(200, answer).shape())


@scenario("gcloud", "5.roles")
def test_gcloud_iam_roles_list(t: Target) -> None:
    result = t.gcloud("iam", "roles", "list", "--limit=400")
    names = [r["name"] for r in json.loads(result.stdout)]
    assert len(names) == 400 and "roles/aiplatform.user" in names


@scenario("http", "5.roles")
@pytest.mark.parametrize("kind", ["project", "serviceAccount", "billingAccount"])
def test_query_grantable_roles(t: Target, snapshot, kind: str) -> None:
    project = t.new_project((IAM_API,))
    names = {
        "project": f"//cloudresourcemanager.googleapis.com/projects/{project}",
        "serviceAccount": f"//iam.googleapis.com/{_account(t, project).body['name']}",
        "billingAccount": f"//cloudbilling.googleapis.com/{OPEN_ACCOUNT}",
    }
    answer = t.call(
        "POST", "iam", "v1/roles:queryGrantableRoles", {"fullResourceName": names[kind], "pageSize": 1000}
    )
    granted = {r["name"] for r in answer.body["roles"]}
    expected = {
        "project": "roles/aiplatform.user",
        "serviceAccount": "roles/iam.serviceAccountTokenCreator",
        "billingAccount": "roles/billing.user",
    }[kind]
    assert answer.status == 200 and expected in granted
    snapshot.match("answer", answer.shape())


@scenario("gcloud", "5.roles")
def test_gcloud_iam_list_grantable_roles(t: Target) -> None:
    project = t.new_project()
    result = t.gcloud(
        "iam",
        "list-grantable-roles",
        f"//cloudresourcemanager.googleapis.com/projects/{project}",
        "--page-size=1000",
    )
    assert result.returncode == 0, result.stderr
    assert "roles/aiplatform.expressUser" in {r["name"] for r in json.loads(result.stdout)}


@scenario("http", "5.roles")
def test_an_unknown_role_is_not_found(t: Target, snapshot) -> None:
    answer = t.call("GET", "iam", "v1/roles/notarole")
    assert answer.status == 404
    snapshot.match("answer", answer.shape())


# -- billing account IAM -------------------------------------------------------------------------------
def _billing(t: Target) -> str:
    t.emulator_only()  # on Google the account is the maintainer's: recording its policy is not wanted
    return OPEN_ACCOUNT


@scenario("http", "5.billing-iam")
def test_billing_account_get_iam_policy(t: Target, snapshot) -> None:
    answer = t.call("GET", "cloudbilling", f"v1/{_billing(t)}:getIamPolicy")
    assert answer.status == 200 and answer.body["bindings"][0]["role"] == "roles/billing.admin"
    snapshot.match("answer", answer.shape())


@scenario("http", "5.billing-iam")
def test_billing_account_test_iam_permissions(t: Target, snapshot) -> None:
    asked = ["billing.accounts.get", "billing.resourceAssociations.create", "billing.accounts.close"]
    answer = t.call("POST", "cloudbilling", f"v1/{_billing(t)}:testIamPermissions", {"permissions": asked})
    assert answer.status == 200 and answer.body["permissions"] == asked
    snapshot.match("answer", answer.shape())


@scenario("discovery", "5.billing-iam")
def test_discovery_billing_account_policy_round_trip(t: Target, snapshot) -> None:
    billing = t.discovery("cloudbilling", "v1")
    account = _billing(t)
    policy = billing.billingAccounts().getIamPolicy(resource=account).execute()
    policy["bindings"].append({"role": "roles/billing.user", "members": [t.other_user]})
    written = billing.billingAccounts().setIamPolicy(resource=account, body={"policy": policy}).execute()
    assert {"role": "roles/billing.user", "members": [t.other_user]} in written["bindings"]
    snapshot.match("answer", Answer(200, written).shape())


@scenario("gcloud", "5.billing-iam")
def test_gcloud_billing_accounts_get_iam_policy(t: Target) -> None:
    result = t.gcloud("billing", "accounts", "get-iam-policy", _billing(t).removeprefix("billingAccounts/"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bindings"][0]["role"] == "roles/billing.admin"


@scenario("http", "5.billing-iam")
def test_a_stranger_may_not_read_the_billing_policy(t: Target, snapshot) -> None:
    account = _billing(t)
    token, _ = t.world.tokens.issue("user:stranger@example.com")
    answer = t.call(
        "GET", "cloudbilling", f"v1/{account}:getIamPolicy", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 403 and answer.reason == "IAM_PERMISSION_DENIED"
    snapshot.match("answer", answer.shape())


# -- service account key certificates -----------------------------------------------------------------
def _key(t: Target) -> str:
    project = t.new_project((IAM_API,))
    name = _account(t, project).body["name"]
    created = t.call("POST", "iam", f"v1/{name}/keys", {})
    assert created.status == 200
    return created.body["name"]


@scenario("http", "5.x509")
@pytest.mark.parametrize(
    ("kind", "begins"),
    [
        ("TYPE_X509_PEM_FILE", "-----BEGIN CERTIFICATE-----"),
        ("TYPE_RAW_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----"),
    ],
)
def test_keys_get_returns_the_public_key(t: Target, snapshot, kind: str, begins: str) -> None:
    answer = t.call("GET", "iam", f"v1/{_key(t)}", params={"publicKeyType": kind})
    assert base64.b64decode(answer.body["publicKeyData"]).decode().startswith(begins)
    snapshot.match("answer", answer.shape())


@scenario("discovery", "5.x509")
def test_discovery_keys_get_certificate_loads(t: Target) -> None:
    from cryptography import x509

    iam = t.discovery("iam", "v1")
    key = (
        iam.projects()
        .serviceAccounts()
        .keys()
        .get(name=_key(t), publicKeyType="TYPE_X509_PEM_FILE")
        .execute()
    )
    certificate = x509.load_pem_x509_certificate(base64.b64decode(key["publicKeyData"]))
    assert certificate.not_valid_after_utc.year == 9999


@scenario("http", "5.x509")
def test_keys_get_without_a_type_has_no_public_key(t: Target) -> None:
    answer = t.call("GET", "iam", f"v1/{_key(t)}")
    assert answer.status == 200 and "publicKeyData" not in answer.body


# -- API key etags ---------------------------------------------------------------------------------------
def _api_key(t: Target) -> dict[str, Any]:
    project = t.new_project(("apikeys.googleapis.com",))
    created = t.call(
        "POST", "apikeys", f"v2/projects/{project}/locations/global/keys", {"displayName": "one"}
    )
    return created.body["response"]


@scenario("http", "5.key-etag")
def test_patch_with_a_stale_etag_fails(t: Target, snapshot) -> None:
    key = _api_key(t)
    first = t.call(
        "PATCH",
        "apikeys",
        f"v2/{key['name']}",
        {"displayName": "two", "etag": key["etag"]},
        params={"updateMask": "displayName"},
    )
    assert first.status == 200
    answer = t.call(
        "PATCH",
        "apikeys",
        f"v2/{key['name']}",
        {"displayName": "three", "etag": key["etag"]},
        params={"updateMask": "displayName"},
    )
    assert answer.status == 409 and answer.error["status"] == "ABORTED"
    assert t.call("GET", "apikeys", f"v2/{key['name']}").body["displayName"] == "two"
    snapshot.match("answer", answer.shape())


@scenario("http", "5.key-etag")
def test_delete_with_a_stale_etag_fails(t: Target, snapshot) -> None:
    key = _api_key(t)
    t.call(
        "PATCH", "apikeys", f"v2/{key['name']}", {"displayName": "two"}, params={"updateMask": "displayName"}
    )
    answer = t.call("DELETE", "apikeys", f"v2/{key['name']}", params={"etag": key["etag"]})
    assert answer.status == 409
    snapshot.match("answer", answer.shape())


@scenario("discovery", "5.key-etag")
def test_discovery_patch_with_the_current_etag_works(t: Target) -> None:
    key = _api_key(t)
    apikeys = t.discovery("apikeys", "v2")
    body = {"displayName": "renamed", "etag": key["etag"]}
    operation = (
        apikeys.projects()
        .locations()
        .keys()
        .patch(name=key["name"], updateMask="displayName", body=body)
        .execute()
    )
    assert operation["response"]["displayName"] == "renamed"
