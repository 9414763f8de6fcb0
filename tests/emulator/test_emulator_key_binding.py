"""Binding API keys to service accounts (API Keys v2 `serviceAccountEmail`) and the org policy constraint
iam.managed.disableServiceAccountApiKeyCreation (Org Policy v2), through google-api-python-client's discovery
clients over real HTTP."""

from __future__ import annotations

import json
import re

import httplib2
import pytest
from googleapiclient import discovery
from googleapiclient.errors import HttpError
from schema_check import method_response_problems, problems

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.iam.models import ServiceAccountsBackend
from gcp_setup.emulator.orgpolicy.models import API_KEY_BINDING
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

GEMINI = {"apiTargets": [{"service": "generativelanguage.googleapis.com"}]}
VERTEX = {"apiTargets": [{"service": "aiplatform.googleapis.com"}]}
ALICE = "user:alice@example.com"


def client(emu: EmulatorControl, api: str, version: str, token: str | None = None):
    http = httplib2.Http()
    if token:
        from google.oauth2.credentials import Credentials
        from google_auth_httplib2 import AuthorizedHttp

        http = AuthorizedHttp(Credentials(token=token), http=http)
    options = {"api_endpoint": emu.url + "/"}
    return discovery.build(api, version, static_discovery=True, http=http, client_options=options)


def error_of(exc: HttpError) -> dict:
    return json.loads(exc.content)["error"]


@pytest.fixture
def make(world):
    """make(project_id, parent="") -> (project, service account email), the API Keys API on."""

    def make(project_id: str, parent: str = ""):
        with world.lock:
            project = world.backend(ProjectsBackend).create(
                project_id, owner=world.default_caller, parent=parent
            )
            world.backend(ServicesBackend).enable(project, "apikeys.googleapis.com")
            account = world.backend(ServiceAccountsBackend).create(project, "gemini-client")
        return project, account.email

    return make


def create_key(keys, project_id: str, key_id: str, email: str, restrictions: dict | None = None) -> dict:
    """API Keys is client-based: with a user's token the request names the project it bills."""
    body = {"serviceAccountEmail": email, "restrictions": restrictions or VERTEX}
    parent = f"projects/{project_id}/locations/global"
    request = keys.projects().locations().keys().create(parent=parent, keyId=key_id, body=body)
    request.headers["x-goog-user-project"] = project_id
    return request.execute()["response"]


def policy_name(project_id: str) -> str:
    return f"projects/{project_id}/policies/{API_KEY_BINDING}"


def effective(orgpolicy, project_id: str) -> bool:
    answer = orgpolicy.projects().policies().getEffectivePolicy(name=policy_name(project_id)).execute()
    return answer["spec"]["rules"][0]["enforce"]


def test_a_bound_key_has_an_auth_key_string_and_names_its_account(emu, make) -> None:
    project, email = make("bind-lone-1")
    keys = client(emu, "apikeys", "v2")
    created = create_key(keys, project.project_id, "vertex-express", email)
    assert re.fullmatch(r"AQ\.Ab8[A-Za-z0-9_-]{47}", created["keyString"])
    assert created["serviceAccountEmail"] == email
    name = f"projects/{project.number}/locations/global/keys/vertex-express"
    assert keys.projects().locations().keys().get(name=name).execute()["serviceAccountEmail"] == email
    looked_up = keys.keys().lookupKey(keyString=created["keyString"]).execute()
    assert looked_up == {"parent": f"projects/{project.number}/locations/global", "name": name}
    with pytest.raises(HttpError) as caught:  # binding is set at creation only
        keys.projects().locations().keys().patch(
            name=name, updateMask="service_account_email", body={"serviceAccountEmail": ""}
        ).execute()
    assert caught.value.status_code == 400


def test_in_an_organization_the_constraint_blocks_binding_until_lifted(emu, make) -> None:
    project, email = make("bind-org-1", parent="organizations/123456789012")
    keys, orgpolicy = client(emu, "apikeys", "v2"), client(emu, "orgpolicy", "v2")
    assert effective(orgpolicy, project.project_id) is True
    with pytest.raises(HttpError) as caught:
        create_key(keys, project.project_id, "vertex-express", email)
    error = error_of(caught.value)
    assert (error["code"], error["status"]) == (400, "FAILED_PRECONDITION")
    violation = error["details"][0]["violations"][0]
    assert violation["type"] == f"constraints/{API_KEY_BINDING}"
    # Google's e-mail (googleapis/python-genai#2391): a key restricted to the Gemini API is exempt.
    assert create_key(keys, project.project_id, "gemini-api-key", email, GEMINI)["keyString"].startswith(
        "AQ."
    )
    emu.set_org_policies(disable_service_account_api_key_creation=False)
    assert effective(orgpolicy, project.project_id) is False
    assert create_key(keys, project.project_id, "vertex-express", email)["serviceAccountEmail"] == email


def test_a_project_policy_lifts_the_constraint_for_that_project_only(emu, make) -> None:
    lifted, email = make("bind-org-2", parent="organizations/123456789012")
    other, _ = make("bind-org-3", parent="folders/42")
    policies = client(emu, "orgpolicy", "v2").projects().policies()
    body = {"name": policy_name(lifted.project_id), "spec": {"rules": [{"enforce": False}]}}
    created = policies.create(parent=f"projects/{lifted.project_id}", body=body).execute()
    assert created["name"] == policy_name(lifted.number) and created["spec"]["rules"] == [{"enforce": False}]
    orgpolicy = client(emu, "orgpolicy", "v2")
    assert (effective(orgpolicy, lifted.project_id), effective(orgpolicy, other.project_id)) == (False, True)
    keys = client(emu, "apikeys", "v2")
    assert create_key(keys, lifted.project_id, "vertex-express", email)["keyString"].startswith("AQ.")
    policies.delete(name=policy_name(lifted.project_id)).execute()
    assert effective(orgpolicy, lifted.project_id) is True


def test_setting_a_policy_takes_an_organization_policy_administrator(emu, make) -> None:
    project, _ = make("bind-org-4", parent="organizations/123456789012")
    emu.set_org_policies(policy_admins=[])
    policies = client(emu, "orgpolicy", "v2").projects().policies()
    body = {"name": policy_name(project.project_id), "spec": {"reset": True}}
    with pytest.raises(HttpError) as caught:
        policies.create(parent=f"projects/{project.project_id}", body=body).execute()
    assert error_of(caught.value)["details"][0]["metadata"]["permission"] == "orgpolicy.policies.create"
    assert effective(client(emu, "orgpolicy", "v2"), project.project_id) is True, "reading needs no admin"


def test_other_constraints_are_not_emulated(emu, make) -> None:
    project, _ = make("bind-org-5")
    with pytest.raises(HttpError) as caught:
        effective(client(emu, "orgpolicy", "v2"), "never-made-1")
    assert caught.value.status_code == 403, "a project nobody can see"
    name = f"projects/{project.project_id}/policies/compute.disableSerialPortAccess"
    with pytest.raises(HttpError) as caught:
        client(emu, "orgpolicy", "v2").projects().policies().getEffectivePolicy(name=name).execute()
    assert (caught.value.status_code, error_of(caught.value)["status"]) == (501, "UNIMPLEMENTED")


def test_binding_takes_the_binding_permission_on_an_account_of_the_project(emu, make, world) -> None:
    project, email = make("bind-lone-2")
    other_project, other_email = make("bind-lone-3")
    project.policy.add_binding("roles/serviceusage.apiKeysAdmin", ALICE)
    project.policy.add_binding("roles/serviceusage.serviceUsageConsumer", ALICE)  # to bill the project
    token, _ = world.tokens.issue(ALICE)
    as_alice = client(emu, "apikeys", "v2", token)
    for account in (email, f"nobody@{project.project_id}.iam.gserviceaccount.com"):
        with pytest.raises(HttpError) as caught:
            create_key(as_alice, project.project_id, "vertex-express", account)
        error = error_of(caught.value)
        assert (error["code"], error["details"][0]["metadata"]["permission"]) == (
            403,
            "iam.serviceAccountApiKeyBindings.create",
        )
    account = world.backend(ServiceAccountsBackend).get(email)
    account.policy.add_binding("roles/iam.serviceAccountApiKeyBindingAdmin", ALICE)
    assert create_key(as_alice, project.project_id, "vertex-express", email)["serviceAccountEmail"] == email
    with pytest.raises(HttpError) as caught:
        create_key(client(emu, "apikeys", "v2"), project.project_id, "elsewhere", other_email)
    assert caught.value.status_code == 400, f"{other_email} is not an account of {project.project_id}"
    assert other_project.project_id in other_email


def test_the_key_policy_switch_takes_only_known_eras(emu) -> None:
    with pytest.raises(Exception, match="400"):
        emu.set_realism(gemini_key_policy="sometimes")
    with pytest.raises(Exception, match="400"):
        emu.set_org_policies(no_such_constraint=True)
    assert (
        emu.set_realism(gemini_key_policy="restricted-standard")["gemini_key_policy"] == "restricted-standard"
    )


def test_bindings_and_policies_survive_a_restart(emu, make, world) -> None:
    project, email = make("bind-org-6", parent="organizations/123456789012")
    policies = client(emu, "orgpolicy", "v2").projects().policies()
    body = {"name": policy_name(project.project_id), "spec": {"rules": [{"enforce": False}]}}
    policies.create(parent=f"projects/{project.project_id}", body=body).execute()
    key = create_key(client(emu, "apikeys", "v2"), project.project_id, "vertex-express", email)
    world.load_json(json.loads(json.dumps(world.to_json())))
    assert effective(client(emu, "orgpolicy", "v2"), project.project_id) is False
    looked_up = client(emu, "apikeys", "v2").keys().lookupKey(keyString=key["keyString"]).execute()
    assert looked_up["name"].endswith("/keys/vertex-express")


def test_org_policy_answers_match_the_discovery_schemas(emu, make) -> None:
    project, email = make("bind-org-7", parent="organizations/123456789012")
    policies = client(emu, "orgpolicy", "v2").projects().policies()
    name = policy_name(project.project_id)
    body = {"name": name, "spec": {"rules": [{"enforce": False}]}}
    answers = {
        "create": policies.create(parent=f"projects/{project.project_id}", body=body).execute(),
        "patch": policies.patch(name=name, body={"name": name, "spec": {"reset": True}}).execute(),
        "get": policies.get(name=name).execute(),
        "list": policies.list(parent=f"projects/{project.project_id}").execute(),
        "getEffectivePolicy": policies.getEffectivePolicy(name=name).execute(),
        "delete": policies.delete(name=name).execute(),
    }
    for verb, answer in answers.items():
        assert method_response_problems("orgpolicy.v2", f"orgpolicy.projects.policies.{verb}", answer) == []
    key = create_key(client(emu, "apikeys", "v2"), project.project_id, "gemini-api-key", email, GEMINI)
    assert problems("apikeys.v2", "V2Key", {k: v for k, v in key.items() if k != "@type"}) == []
