"""IAM v1 on the emulator, through google-api-python-client's discovery client over real HTTP."""

from __future__ import annotations

import base64
import json

import httplib2
import pytest
import requests
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.core.world import World
from gcp_setup.emulator.iam.models import ServiceAccountKey, ServiceAccountsBackend, member_exists

PROJECT = "iam-test-project"


def build_iam(emu: EmulatorControl, token: str | None = None):
    http = httplib2.Http()
    if token:
        from google.oauth2.credentials import Credentials
        from google_auth_httplib2 import AuthorizedHttp

        http = AuthorizedHttp(Credentials(token=token), http=http)
    return discovery.build(
        "iam", "v1", static_discovery=True, http=http, client_options={"api_endpoint": emu.url + "/"}
    )


def error_of(exc: HttpError) -> dict:
    return json.loads(exc.content)["error"]


@pytest.fixture
def iam(emu: EmulatorControl, make_project):
    make_project(PROJECT, services=("iam.googleapis.com",))
    return build_iam(emu)


def create_sa(iam, account_id: str = "gemini-client", **details) -> dict:
    body = {"accountId": account_id, "serviceAccount": details}
    return iam.projects().serviceAccounts().create(name=f"projects/{PROJECT}", body=body).execute()


def test_create_get_list_delete(iam) -> None:
    sa = create_sa(iam, displayName="Gemini client", description="for tests")
    email = f"gemini-client@{PROJECT}.iam.gserviceaccount.com"
    assert sa["email"] == email
    assert sa["name"] == f"projects/{PROJECT}/serviceAccounts/{email}"
    assert sa["projectId"] == PROJECT and sa["displayName"] == "Gemini client"
    assert len(sa["uniqueId"]) == 21 and sa["oauth2ClientId"] == sa["uniqueId"]
    accounts = iam.projects().serviceAccounts()
    assert accounts.get(name=f"projects/-/serviceAccounts/{email}").execute() == sa
    assert accounts.get(name=f"projects/-/serviceAccounts/{sa['uniqueId']}").execute() == sa
    assert accounts.list(name=f"projects/{PROJECT}").execute()["accounts"] == [sa]
    assert accounts.delete(name=f"projects/-/serviceAccounts/{email}").execute() == {}
    with pytest.raises(HttpError) as exc:
        accounts.get(name=f"projects/-/serviceAccounts/{email}").execute()
    assert error_of(exc.value) == {"code": 404, "message": "Unknown service account", "status": "NOT_FOUND"}
    assert accounts.list(name=f"projects/{PROJECT}").execute() == {}


def test_deleted_account_can_be_undeleted_by_unique_id(iam, emu: EmulatorControl) -> None:
    sa = create_sa(iam)
    accounts = iam.projects().serviceAccounts()
    project_policy = f"{emu.url}/v1/projects/{PROJECT}"
    policy = requests.post(f"{project_policy}:getIamPolicy", json={}, timeout=10).json()
    policy["bindings"].append({"role": "roles/aiplatform.user", "members": [f"serviceAccount:{sa['email']}"]})
    requests.post(f"{project_policy}:setIamPolicy", json={"policy": policy}, timeout=10).raise_for_status()
    accounts.delete(name=sa["name"]).execute()
    # Google renames the bindings of a deleted account, so a new one of the same email gets none of them.
    after_delete = requests.post(f"{project_policy}:getIamPolicy", json={}, timeout=10).json()
    deleted = f"deleted:serviceAccount:{sa['email']}?uid={sa['uniqueId']}"
    assert {"role": "roles/aiplatform.user", "members": [deleted]} in after_delete["bindings"]
    restored = accounts.undelete(name=f"projects/-/serviceAccounts/{sa['uniqueId']}", body={}).execute()
    assert restored == {"restoredAccount": sa}
    assert accounts.get(name=sa["name"]).execute() == sa
    after_undelete = requests.post(f"{project_policy}:getIamPolicy", json={}, timeout=10).json()
    assert after_undelete["bindings"] == policy["bindings"]


def test_list_paginates(iam) -> None:
    for i in range(5):
        create_sa(iam, f"account-{i}")
    accounts = iam.projects().serviceAccounts()
    request = accounts.list(name=f"projects/{PROJECT}", pageSize=2)
    pages = []
    while request is not None:
        response = request.execute()
        pages.append([a["email"].split("@")[0] for a in response["accounts"]])
        request = accounts.list_next(request, response)
    assert pages == [["account-0", "account-1"], ["account-2", "account-3"], ["account-4"]]


def test_same_create_twice_answers_already_exists(iam) -> None:
    create_sa(iam)
    with pytest.raises(HttpError) as exc:
        create_sa(iam)
    error = error_of(exc.value)
    assert exc.value.status_code == 409 and error["status"] == "ALREADY_EXISTS"
    assert (
        error["message"] == f"Service account gemini-client already exists within project projects/{PROJECT}."
    )
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.ResourceInfo"


@pytest.mark.parametrize(
    ("account_id", "message"),
    [
        ("short", 'The account ID "short" does not have a length between 6 and 30.'),
        ("Bad_Account", "Bad_Account does not match [a-z][a-z\\d\\-]*[a-z\\d]."),
    ],
)
def test_invalid_account_id(iam, account_id: str, message: str) -> None:
    with pytest.raises(HttpError) as exc:
        create_sa(iam, account_id)
    error = error_of(exc.value)
    assert (exc.value.status_code, error["status"], error["message"]) == (400, "INVALID_ARGUMENT", message)


def test_unknown_project_answers_permission_denied(iam) -> None:
    with pytest.raises(HttpError) as exc:
        iam.projects().serviceAccounts().list(name="projects/no-such-project").execute()
    error = error_of(exc.value)  # the same answer as for a project the caller may not see
    assert (exc.value.status_code, error["details"][0]["reason"]) == (403, "IAM_PERMISSION_DENIED")
    assert (
        error["message"] == "Permission 'iam.serviceAccounts.list' denied on resource (or it may not exist)."
    )


def test_patch_disable_enable(iam) -> None:
    sa = create_sa(iam)
    accounts = iam.projects().serviceAccounts()
    patched = accounts.patch(
        name=sa["name"], body={"serviceAccount": {"displayName": "Renamed"}, "updateMask": "displayName"}
    ).execute()
    assert patched["displayName"] == "Renamed"
    accounts.disable(name=sa["name"], body={}).execute()
    assert accounts.get(name=sa["name"]).execute()["disabled"] is True
    accounts.enable(name=sa["name"], body={}).execute()
    assert "disabled" not in accounts.get(name=sa["name"]).execute()


def test_key_create_list_get_delete(iam, emu: EmulatorControl) -> None:
    sa = create_sa(iam)
    keys = iam.projects().serviceAccounts().keys()
    created = keys.create(name=sa["name"], body={"privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE"}).execute()
    key_file = json.loads(base64.b64decode(created["privateKeyData"]))
    key_id = created["name"].rsplit("/", 1)[-1]
    assert len(key_id) == 40
    assert key_file["type"] == "service_account" and key_file["private_key_id"] == key_id
    assert key_file["client_email"] == sa["email"] and key_file["token_uri"] == emu.url + "/token"
    assert key_file["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    listed = keys.list(name=sa["name"]).execute()["keys"]
    assert [k["name"] for k in listed] == [created["name"]]
    assert "privateKeyData" not in listed[0] and listed[0]["keyType"] == "USER_MANAGED"
    assert keys.get(name=created["name"]).execute() == listed[0]
    keys.delete(name=created["name"]).execute()
    assert keys.list(name=sa["name"]).execute() == {}
    with pytest.raises(HttpError) as exc:
        keys.get(name=created["name"]).execute()
    assert exc.value.status_code == 404


def test_an_account_holds_at_most_ten_keys(world: World, iam) -> None:
    sa = create_sa(iam)
    keys = iam.projects().serviceAccounts().keys()
    account = world.backend(ServiceAccountsBackend).get(sa["email"])
    with world.lock:  # ten keys without paying for ten RSA key generations
        account.keys.update({f"{i:040x}": ServiceAccountKey(f"{i:040x}", "", 0.0) for i in range(10)})
    with pytest.raises(HttpError) as exc:
        keys.create(name=sa["name"], body={}).execute()
    assert (exc.value.status_code, error_of(exc.value)["status"]) == (400, "FAILED_PRECONDITION")


def test_key_creation_under_org_policy(iam, emu: EmulatorControl) -> None:
    sa = create_sa(iam)
    emu.set_org_policies(disable_service_account_key_creation=True)
    with pytest.raises(HttpError) as exc:
        iam.projects().serviceAccounts().keys().create(name=sa["name"], body={}).execute()
    error = error_of(exc.value)
    assert (exc.value.status_code, error["status"]) == (400, "FAILED_PRECONDITION")
    assert error["message"] == "Key creation is not allowed on this service account."
    (detail,) = error["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.PreconditionFailure"
    assert detail["violations"][0]["type"] == "constraints/iam.disableServiceAccountKeyCreation"
    assert detail["violations"][0]["subject"].startswith(sa["name"] + "?configvalue=")


def test_service_account_iam_policy_round_trip(iam) -> None:
    sa = create_sa(iam)
    accounts = iam.projects().serviceAccounts()
    policy = accounts.getIamPolicy(resource=sa["name"]).execute()
    policy["bindings"] = [
        {"role": "roles/iam.serviceAccountTokenCreator", "members": ["user:dev@example.com"]}
    ]
    updated = accounts.setIamPolicy(resource=sa["name"], body={"policy": policy}).execute()
    assert updated["bindings"] == policy["bindings"] and updated["etag"] != policy["etag"]
    assert accounts.getIamPolicy(resource=sa["name"]).execute() == updated
    with pytest.raises(HttpError) as exc:  # the etag read before is stale now
        accounts.setIamPolicy(resource=sa["name"], body={"policy": policy}).execute()
    assert error_of(exc.value)["status"] == "ABORTED"
    # Owners may do everything but mint tokens: that takes Token Creator, even for them.
    allowed = accounts.testIamPermissions(
        resource=sa["name"],
        body={"permissions": ["iam.serviceAccounts.get", "iam.serviceAccounts.getAccessToken"]},
    ).execute()
    assert allowed == {"permissions": ["iam.serviceAccounts.get"]}


def test_new_account_is_unknown_to_set_iam_policy_until_propagated(iam, emu: EmulatorControl) -> None:
    emu.set_realism(service_account_propagation_s=60)
    target = create_sa(iam, "target-account")
    member = f"serviceAccount:{create_sa(iam)['email']}"
    body = {"policy": {"bindings": [{"role": "roles/iam.serviceAccountUser", "members": [member]}]}}
    accounts = iam.projects().serviceAccounts()
    with pytest.raises(HttpError) as exc:
        accounts.setIamPolicy(resource=target["name"], body=body).execute()
    error = error_of(exc.value)
    assert (exc.value.status_code, error["message"]) == (
        400,
        f"Service account {member[15:]} does not exist.",
    )
    emu.advance_clock(60)
    assert accounts.setIamPolicy(resource=target["name"], body=body).execute()["bindings"][0]["members"] == [
        member
    ]


def test_project_set_iam_policy_waits_for_a_new_account(iam, emu: EmulatorControl) -> None:
    """Resource Manager's setIamPolicy asks this API whether a serviceAccount member exists yet."""
    emu.set_realism(service_account_propagation_s=30)
    member = f"serviceAccount:{create_sa(iam)['email']}"
    url = f"{emu.url}/v1/projects/{PROJECT}"
    policy = requests.post(f"{url}:getIamPolicy", json={}, timeout=10).json()
    policy["bindings"].append({"role": "roles/aiplatform.user", "members": [member]})
    response = requests.post(f"{url}:setIamPolicy", json={"policy": policy}, timeout=10)
    assert response.status_code == 400 and "does not exist" in response.json()["error"]["message"]
    emu.set_realism(service_account_propagation_s=0)
    assert requests.post(f"{url}:setIamPolicy", json={"policy": policy}, timeout=10).status_code == 200


def test_member_exists(world: World, iam, emu: EmulatorControl) -> None:
    emu.set_realism(service_account_propagation_s=30)
    email = create_sa(iam)["email"]
    assert member_exists(world, "user:someone@example.com")
    assert member_exists(world, "serviceAccount:service-1@gcp-sa-aiplatform.iam.gserviceaccount.com")
    assert not member_exists(world, f"serviceAccount:nobody@{PROJECT}.iam.gserviceaccount.com")
    assert not member_exists(world, f"serviceAccount:{email}")
    emu.set_realism(service_account_propagation_s=0)
    assert member_exists(world, f"serviceAccount:{email}")


def test_caller_without_role_is_denied(world: World, iam, emu: EmulatorControl) -> None:
    stranger, _ = world.tokens.issue("user:stranger@example.com")
    with pytest.raises(HttpError) as exc:
        create_sa(build_iam(emu, stranger))
    assert exc.value.status_code == 403


def test_state_round_trip(world: World, iam) -> None:
    sa = create_sa(iam, displayName="Kept")
    accounts = iam.projects().serviceAccounts()
    accounts.keys().create(name=sa["name"], body={}).execute()
    policy = {"bindings": [{"role": "roles/iam.serviceAccountUser", "members": ["user:a@example.com"]}]}
    accounts.setIamPolicy(resource=sa["name"], body={"policy": policy}).execute()
    before = accounts.get(name=sa["name"]).execute(), accounts.keys().list(name=sa["name"]).execute()
    saved = json.loads(json.dumps(world.to_json()))
    world.load_json(saved)
    after = accounts.get(name=sa["name"]).execute(), accounts.keys().list(name=sa["name"]).execute()
    assert after == before
    restored = world.backend(ServiceAccountsBackend).get(sa["email"])
    assert restored.policy.bindings == policy["bindings"]
