"""The real gcloud CLI managing service accounts, their keys and IAM policies on the emulator."""

from __future__ import annotations

import json

import pytest

from gcp_setup.emulator.control import EmulatorControl

pytestmark = pytest.mark.gcloud

PROJECT = "gcloud-iam-project"
EMAIL = f"gemini-client@{PROJECT}.iam.gserviceaccount.com"


@pytest.fixture
def project(make_project) -> str:
    return make_project(PROJECT, services=("iam.googleapis.com",)).project_id


def test_create_describe_list_delete(gcloud, project: str) -> None:
    gcloud.run(
        "iam",
        "service-accounts",
        "create",
        "gemini-client",
        "--display-name=Gemini client",
        "--description=made by gcloud",
        project=project,
    )
    described = gcloud.json("iam", "service-accounts", "describe", EMAIL, project=project)
    assert described["email"] == EMAIL and described["displayName"] == "Gemini client"
    assert described["description"] == "made by gcloud"
    gcloud.run("iam", "service-accounts", "update", EMAIL, "--display-name=Renamed", project=project)
    listed = gcloud.json("iam", "service-accounts", "list", project=project)
    assert [(a["email"], a["displayName"]) for a in listed] == [(EMAIL, "Renamed")]
    again = gcloud.run("iam", "service-accounts", "create", "gemini-client", project=project, check=False)
    assert again.returncode != 0 and "already exists within project" in again.stderr
    gcloud.run("iam", "service-accounts", "delete", EMAIL, project=project)
    assert gcloud.json("iam", "service-accounts", "list", project=project) == []
    missing = gcloud.run("iam", "service-accounts", "describe", EMAIL, project=project, check=False)
    assert missing.returncode != 0 and "NOT_FOUND" in missing.stderr


def test_keys_create_list_delete(gcloud, project: str, emu: EmulatorControl, tmp_path) -> None:
    gcloud.run("iam", "service-accounts", "create", "gemini-client", project=project)
    key_path = tmp_path / "key.json"
    gcloud.run("iam", "service-accounts", "keys", "create", str(key_path), f"--iam-account={EMAIL}")
    key_file = json.loads(key_path.read_text())
    assert key_file["client_email"] == EMAIL and key_file["token_uri"] == emu.url + "/token"
    listed = gcloud.json("iam", "service-accounts", "keys", "list", f"--iam-account={EMAIL}")
    assert [k["name"].rsplit("/", 1)[-1] for k in listed] == [key_file["private_key_id"]]
    gcloud.run(
        "iam", "service-accounts", "keys", "delete", key_file["private_key_id"], f"--iam-account={EMAIL}"
    )
    assert gcloud.json("iam", "service-accounts", "keys", "list", f"--iam-account={EMAIL}") == []
    emu.set_org_policies(disable_service_account_key_creation=True)
    refused = gcloud.run(
        "iam",
        "service-accounts",
        "keys",
        "create",
        str(tmp_path / "no.json"),
        f"--iam-account={EMAIL}",
        check=False,
    )
    assert refused.returncode != 0
    assert "FAILED_PRECONDITION: Key creation is not allowed on this service account." in refused.stderr
    assert "constraints/iam.disableServiceAccountKeyCreation" in refused.stderr


def test_add_iam_policy_binding_and_read_it_back(gcloud, project: str) -> None:
    gcloud.run("iam", "service-accounts", "create", "gemini-client", project=project)
    gcloud.run("iam", "service-accounts", "create", "ci-impersonator", project=project)
    member = f"serviceAccount:ci-impersonator@{PROJECT}.iam.gserviceaccount.com"
    gcloud.run(
        "iam",
        "service-accounts",
        "add-iam-policy-binding",
        EMAIL,
        f"--member={member}",
        "--role=roles/iam.serviceAccountTokenCreator",
        "--format=json",
        project=project,
    )
    policy = gcloud.json("iam", "service-accounts", "get-iam-policy", EMAIL, project=project)
    assert policy["bindings"] == [{"role": "roles/iam.serviceAccountTokenCreator", "members": [member]}]
    gcloud.run(
        "iam",
        "service-accounts",
        "remove-iam-policy-binding",
        EMAIL,
        f"--member={member}",
        "--role=roles/iam.serviceAccountTokenCreator",
        "--format=json",
        project=project,
    )
    assert "bindings" not in gcloud.json("iam", "service-accounts", "get-iam-policy", EMAIL, project=project)
