"""API Keys v2 on the emulator, through google-api-python-client's discovery client over real HTTP."""

from __future__ import annotations

import json
import re

import httplib2
import pytest
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from gcp_setup.emulator.apikeys.models import KEY_TYPE_URL, ApiKeysBackend
from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.core.world import World

PROJECT = "keys-test-project"
TARGET = {"apiTargets": [{"service": "generativelanguage.googleapis.com"}]}


@pytest.fixture
def project(make_project):
    return make_project(PROJECT, services=("apikeys.googleapis.com",))


def build_keys(emu: EmulatorControl):
    return discovery.build(
        "apikeys",
        "v2",
        static_discovery=True,
        http=httplib2.Http(),
        client_options={"api_endpoint": emu.url + "/"},
    )


@pytest.fixture
def keys(emu: EmulatorControl, project):
    return build_keys(emu)


def parent(ref: str = PROJECT) -> str:
    return f"projects/{ref}/locations/global"


def create_key(keys, key_id: str = "gemini-api-key", **fields) -> dict:
    body = {"displayName": "Gemini", "restrictions": TARGET, **fields}
    op = keys.projects().locations().keys().create(parent=parent(), keyId=key_id, body=body).execute()
    assert op["done"] is True and op["name"].startswith("operations/akmf.")
    return op["response"]


def error_of(exc: HttpError) -> dict:
    return json.loads(exc.content)["error"]


def test_create_answers_the_key_with_its_string(keys, project) -> None:
    key = create_key(keys)
    assert key["@type"] == KEY_TYPE_URL
    assert key["name"] == f"projects/{project.number}/locations/global/keys/gemini-api-key"
    assert re.fullmatch(r"AIza[A-Za-z0-9_-]{35}", key["keyString"])
    assert key["restrictions"] == TARGET and key["displayName"] == "Gemini"
    assert re.fullmatch(r"[0-9a-f-]{36}", key["uid"])


def test_get_list_key_string_lookup(keys, project) -> None:
    created = create_key(keys)
    api = keys.projects().locations().keys()
    got = api.get(name=created["name"]).execute()
    assert "keyString" not in got and got["name"] == created["name"]
    by_id = api.get(name=f"{parent()}/keys/gemini-api-key").execute()  # project ID works as well as number
    assert by_id == got
    assert api.list(parent=parent()).execute() == {"keys": [got]}
    assert api.getKeyString(name=created["name"]).execute() == {"keyString": created["keyString"]}
    looked_up = keys.keys().lookupKey(keyString=created["keyString"]).execute()
    assert looked_up == {"parent": parent(project.number), "name": created["name"]}


def test_same_key_id_twice_answers_already_exists(keys) -> None:
    create_key(keys)
    with pytest.raises(HttpError) as exc:
        create_key(keys)
    assert (exc.value.status_code, error_of(exc.value)["status"]) == (409, "ALREADY_EXISTS")


@pytest.mark.parametrize(
    "key_id", ["Upper", "1starts-with-digit", "ends-with-", "0c7ed1e6-3c8d-4e2b-9a53-0f7b4d6f5e21"]
)
def test_invalid_key_id(keys, key_id: str) -> None:
    with pytest.raises(HttpError) as exc:
        create_key(keys, key_id)
    assert exc.value.status_code == 400


def test_without_key_id_the_uid_names_the_key(keys) -> None:
    api = keys.projects().locations().keys()
    op = api.create(parent=parent(), body={"displayName": "no id"}).execute()
    assert op["response"]["name"].endswith("/keys/" + op["response"]["uid"])


def test_soft_delete_and_undelete(keys) -> None:
    created = create_key(keys)
    api = keys.projects().locations().keys()
    deleted = api.delete(name=created["name"]).execute()["response"]
    assert "deleteTime" in deleted
    assert api.list(parent=parent()).execute() == {}
    assert [k["name"] for k in api.list(parent=parent(), showDeleted=True).execute()["keys"]] == [
        created["name"]
    ]
    with pytest.raises(HttpError) as exc:
        api.get(name=created["name"]).execute()
    assert exc.value.status_code == 404
    with pytest.raises(HttpError):
        keys.keys().lookupKey(keyString=created["keyString"]).execute()
    restored = api.undelete(name=created["name"], body={}).execute()["response"]
    assert "deleteTime" not in restored
    assert api.getKeyString(name=created["name"]).execute()["keyString"] == created["keyString"]


def test_stale_etag_refuses_delete(keys) -> None:
    created = create_key(keys)
    api = keys.projects().locations().keys()
    api.patch(name=created["name"], updateMask="displayName", body={"displayName": "v2"}).execute()
    with pytest.raises(HttpError) as exc:
        api.delete(name=created["name"], etag=created["etag"]).execute()
    assert exc.value.status_code == 409


def test_patch_with_update_mask(keys) -> None:
    created = create_key(keys)
    api = keys.projects().locations().keys()
    other = {"apiTargets": [{"service": "aiplatform.googleapis.com"}]}
    patched = api.patch(
        name=created["name"],
        updateMask="restrictions.api_targets",
        body={"displayName": "ignored", "restrictions": other},
    ).execute()["response"]
    assert patched["restrictions"] == other and patched["displayName"] == "Gemini"
    renamed = api.patch(
        name=created["name"], updateMask="display_name", body={"displayName": "Renamed"}
    ).execute()["response"]
    assert renamed["displayName"] == "Renamed" and renamed["etag"] != created["etag"]


def test_operation_polls(keys, emu: EmulatorControl) -> None:
    emu.set_realism(operation_polls=2)
    op = keys.projects().locations().keys().create(parent=parent(), keyId="slow-key", body={}).execute()
    assert "done" not in op
    polls = [keys.operations().get(name=op["name"]).execute() for _ in range(2)]
    assert "done" not in polls[0] and polls[1]["done"] is True
    assert polls[1]["response"]["name"].endswith("/keys/slow-key")


def test_service_disabled(emu: EmulatorControl, make_project) -> None:
    make_project("keys-api-off")
    with pytest.raises(HttpError) as exc:
        build_keys(emu).projects().locations().keys().list(parent=parent("keys-api-off")).execute()
    error = error_of(exc.value)
    assert exc.value.status_code == 403 and error["details"][0]["reason"] == "SERVICE_DISABLED"


def test_by_key_string_for_the_data_plane(world: World, keys, project) -> None:
    created = create_key(keys)
    key = world.backend(ApiKeysBackend).by_key_string(created["keyString"])
    assert (key.project_number, key.key_id, key.deleted) == (project.number, "gemini-api-key", False)
    assert key.restrictions == TARGET
    assert key.allows_service("generativelanguage.googleapis.com")
    assert not key.allows_service("aiplatform.googleapis.com")
    assert world.backend(ApiKeysBackend).by_key_string("AIza-not-a-key") is None


def test_state_round_trip(world: World, keys) -> None:
    created = create_key(keys)
    keys.projects().locations().keys().delete(name=created["name"]).execute()
    api = keys.projects().locations().keys()
    before = api.list(parent=parent(), showDeleted=True).execute()
    world.load_json(json.loads(json.dumps(world.to_json())))
    assert api.list(parent=parent(), showDeleted=True).execute() == before
    assert world.backend(ApiKeysBackend).by_key_string(created["keyString"]).deleted
