"""Every answer of the IAM, API Keys, IAM Credentials and STS operations the emulator serves validates
against the response schema of Google's discovery document for that method."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import google.auth.transport.requests
import pytest
import requests
from google.oauth2 import service_account
from schema_check import method_response_problems, problems
from test_emulator_oauth import oidc_token

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.core.routes import ROUTES
from gcp_setup.emulator.oauth.models import OAuthBackend

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
PROJECT = "schema-walk-project"
SA = "projects/-/serviceAccounts/gemini-client@schema-walk-project.iam.gserviceaccount.com"
KEYS = f"projects/{PROJECT}/locations/global/keys"


class Walk:
    """Calls the emulator and keeps each answer with the discovery method it answers."""

    def __init__(self, emu: EmulatorControl) -> None:
        self.url = emu.url
        self.answers: list[tuple[str, str, Any]] = []

    def call(self, api: str, method_id: str, verb: str, path: str, body: dict | None = None, **kw) -> Any:
        response = requests.request(verb, f"{self.url}/{path}", json=body, timeout=10, **kw)
        assert response.status_code == 200, (method_id, response.text)
        self.answers.append((api, method_id, response.json()))
        return response.json()


def walk_iam(walk: Walk) -> None:
    m = "iam.projects.serviceAccounts."
    walk.call(
        "iam.v1",
        m + "create",
        "POST",
        f"v1/projects/{PROJECT}/serviceAccounts",
        {"accountId": "gemini-client", "serviceAccount": {"displayName": "G", "description": "d"}},
    )
    walk.call(
        "iam.v1", m + "create", "POST", f"v1/projects/{PROJECT}/serviceAccounts", {"accountId": "ci-caller"}
    )
    walk.call("iam.v1", m + "get", "GET", f"v1/{SA}")
    walk.call("iam.v1", m + "list", "GET", f"v1/projects/{PROJECT}/serviceAccounts", params={"pageSize": 1})
    walk.call(
        "iam.v1",
        m + "patch",
        "PATCH",
        f"v1/{SA}",
        {"serviceAccount": {"displayName": "H"}, "updateMask": "displayName"},
    )
    walk.call("iam.v1", m + "update", "PUT", f"v1/{SA}", {"displayName": "I"})
    walk.call("iam.v1", m + "disable", "POST", f"v1/{SA}:disable", {})
    walk.call("iam.v1", m + "enable", "POST", f"v1/{SA}:enable", {})
    policy = walk.call(
        "iam.v1",
        m + "getIamPolicy",
        "POST",
        f"v1/{SA}:getIamPolicy",
        {"options": {"requestedPolicyVersion": 3}},
    )
    caller = f"serviceAccount:ci-caller@{PROJECT}.iam.gserviceaccount.com"
    policy["bindings"] = [{"role": "roles/iam.serviceAccountTokenCreator", "members": [caller]}]
    walk.call("iam.v1", m + "setIamPolicy", "POST", f"v1/{SA}:setIamPolicy", {"policy": policy})
    walk.call(
        "iam.v1",
        m + "testIamPermissions",
        "POST",
        f"v1/{SA}:testIamPermissions",
        {"permissions": ["iam.serviceAccounts.get"]},
    )
    key = walk.call("iam.v1", m + "keys.create", "POST", f"v1/{SA}/keys", {})
    walk.call("iam.v1", m + "keys.list", "GET", f"v1/{SA}/keys")
    walk.call("iam.v1", m + "keys.get", "GET", f"v1/{key['name']}")
    walk.call("iam.v1", m + "keys.disable", "POST", f"v1/{key['name']}:disable", {})
    walk.call("iam.v1", m + "keys.enable", "POST", f"v1/{key['name']}:enable", {})
    walk.call("iam.v1", m + "keys.delete", "DELETE", f"v1/{key['name']}")
    throwaway = walk.call(
        "iam.v1", m + "create", "POST", f"v1/projects/{PROJECT}/serviceAccounts", {"accountId": "throwaway"}
    )
    walk.call("iam.v1", m + "delete", "DELETE", f"v1/{throwaway['name']}")
    walk.call(
        "iam.v1",
        m + "undelete",
        "POST",
        f"v1/projects/-/serviceAccounts/{throwaway['uniqueId']}:undelete",
        {},
    )


def walk_credentials(walk: Walk, world) -> None:
    caller_sa = f"projects/-/serviceAccounts/ci-caller@{PROJECT}.iam.gserviceaccount.com"
    key = requests.post(f"{walk.url}/v1/{caller_sa}/keys", json={}, timeout=10).json()
    key_file = json.loads(base64.b64decode(key["privateKeyData"]))
    source = service_account.Credentials.from_service_account_info(key_file, scopes=[CLOUD_PLATFORM])
    source.refresh(google.auth.transport.requests.Request())
    token = source.token
    walk.call(
        "iamcredentials.v1",
        "iamcredentials.projects.serviceAccounts.generateAccessToken",
        "POST",
        f"v1/{SA}:generateAccessToken",
        {"scope": [CLOUD_PLATFORM]},
        headers={"Authorization": f"Bearer {token}"},
    )
    provider = world.backend(OAuthBackend).add_provider(
        "123456789012", "pool", "oidc", "https://issuer.example"
    )
    claims = {"iss": provider.issuer, "sub": "me", "aud": provider.audience, "exp": int(time.time()) + 600}
    subject = oidc_token(claims)
    walk.call(
        "sts.v1",
        "sts.token",
        "POST",
        "v1/token",
        {
            "grantType": "urn:ietf:params:oauth:grant-type:token-exchange",
            "audience": provider.audience,
            "subjectToken": subject,
            "subjectTokenType": "urn:ietf:params:oauth:token-type:jwt",
            "requestedTokenType": "urn:ietf:params:oauth:token-type:access_token",
        },
    )


def walk_api_keys(walk: Walk, emu: EmulatorControl) -> None:
    m = "apikeys.projects.locations.keys."
    body = {
        "displayName": "Gemini",
        "restrictions": {"apiTargets": [{"service": "generativelanguage.googleapis.com"}]},
    }
    created = walk.call(
        "apikeys.v2", m + "create", "POST", f"v2/{KEYS}", body, params={"keyId": "gemini-key"}
    )
    name = created["response"]["name"]
    emu.set_realism(operation_polls=1)
    pending = walk.call("apikeys.v2", m + "create", "POST", f"v2/{KEYS}", {}, params={"keyId": "second-key"})
    walk.call("apikeys.v2", "apikeys.operations.get", "GET", f"v2/{pending['name']}")
    walk.call("apikeys.v2", "apikeys.operations.get", "GET", f"v2/{pending['name']}")
    emu.set_realism(operation_polls=0)
    walk.call("apikeys.v2", m + "get", "GET", f"v2/{name}")
    walk.call("apikeys.v2", m + "list", "GET", f"v2/{KEYS}", params={"pageSize": 1})
    key_string = walk.call("apikeys.v2", m + "getKeyString", "GET", f"v2/{name}/keyString")["keyString"]
    walk.call(
        "apikeys.v2", "apikeys.keys.lookupKey", "GET", "v2/keys:lookupKey", params={"keyString": key_string}
    )
    walk.call(
        "apikeys.v2",
        m + "patch",
        "PATCH",
        f"v2/{name}",
        {"displayName": "New"},
        params={"updateMask": "displayName"},
    )
    walk.call("apikeys.v2", m + "delete", "DELETE", f"v2/{name}")
    walk.call("apikeys.v2", m + "list", "GET", f"v2/{KEYS}", params={"showDeleted": "true"})
    walk.call("apikeys.v2", m + "undelete", "POST", f"v2/{name}:undelete", {})


@pytest.fixture
def walk(emu: EmulatorControl, make_project, world) -> Walk:
    make_project(
        PROJECT, services=("iam.googleapis.com", "apikeys.googleapis.com", "iamcredentials.googleapis.com")
    )
    walk = Walk(emu)
    walk_iam(walk)
    walk_credentials(walk, world)
    walk_api_keys(walk, emu)
    return walk


def test_every_answer_matches_its_discovery_schema(walk: Walk) -> None:
    found = []
    for api, method_id, body in walk.answers:
        found += [f"{method_id}: {p}" for p in method_response_problems(api, method_id, body)]
        response = body.get("response") if api == "apikeys.v2" else None
        if response is not None:  # an operation's result: the Key, typed
            assert response.pop("@type") == "type.googleapis.com/google.api.apikeys.v2.Key"
            found += [f"{method_id} (operation response): {p}" for p in problems(api, "V2Key", response)]
    assert found == []
    served = {r.method_id for r in ROUTES if r.method_id.startswith(OUR_METHODS)}
    assert {method_id for _, method_id, _ in walk.answers} == served


OUR_METHODS = ("iam.projects.serviceAccounts.", "apikeys.", "iamcredentials.", "sts.")
