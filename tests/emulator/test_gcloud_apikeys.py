"""The real gcloud CLI managing API keys on the emulator."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gcloud

PROJECT = "gcloud-keys-project"


@pytest.fixture
def project(make_project):
    return make_project(PROJECT, services=("apikeys.googleapis.com",))


def test_api_key_lifecycle(gcloud, project) -> None:
    name = f"projects/{project.number}/locations/global/keys/gemini-api-key"
    created = gcloud.json(
        "services",
        "api-keys",
        "create",
        "--key-id=gemini-api-key",
        "--display-name=Gemini",
        "--api-target=service=generativelanguage.googleapis.com",
        project=PROJECT,
    )
    key_string = created["response"]["keyString"]
    assert created["response"]["name"] == name and key_string.startswith("AIza")
    listed = gcloud.json("services", "api-keys", "list", project=PROJECT)
    assert [k["name"] for k in listed] == [name]
    assert listed[0]["restrictions"] == {"apiTargets": [{"service": "generativelanguage.googleapis.com"}]}
    described = gcloud.json("services", "api-keys", "describe", "gemini-api-key", project=PROJECT)
    assert described["displayName"] == "Gemini" and "keyString" not in described
    got = gcloud.json("services", "api-keys", "get-key-string", "gemini-api-key", project=PROJECT)
    assert got == {"keyString": key_string}
    assert gcloud.json("services", "api-keys", "lookup", key_string)["name"] == name
    updated = gcloud.json("services", "api-keys", "update", name, "--display-name=Renamed")
    assert updated["response"]["displayName"] == "Renamed"
    gcloud.run("services", "api-keys", "delete", "gemini-api-key", project=PROJECT)
    deleted = gcloud.json("services", "api-keys", "list", "--show-deleted", project=PROJECT)
    assert [k["name"] for k in deleted] == [name] and "deleteTime" in deleted[0]
    undeleted = gcloud.json("services", "api-keys", "undelete", "gemini-api-key", project=PROJECT)
    assert "deleteTime" not in undeleted["response"]


def test_duplicate_key_id_is_refused(gcloud, project) -> None:
    args = ("services", "api-keys", "create", "--key-id=gemini-api-key")
    gcloud.run(*args, project=PROJECT)
    again = gcloud.run(*args, project=PROJECT, check=False)
    assert again.returncode != 0 and "ALREADY_EXISTS" in again.stderr
