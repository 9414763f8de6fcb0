"""The real gcloud CLI (which speaks Resource Manager v1) against the emulator: projects and their IAM."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gcloud


def test_create_describe_list_update(gcloud) -> None:
    created = gcloud.run(
        "projects", "create", "gcloud-project-1", "--name=Gcloud project", "--labels=env=dev"
    )
    assert "cloudapis.googleapis.com" in created.stderr
    described = gcloud.json("projects", "describe", "gcloud-project-1")
    assert (described["name"], described["labels"], described["lifecycleState"]) == (
        "Gcloud project",
        {"env": "dev"},
        "ACTIVE",
    )
    assert len(described["projectNumber"]) == 12
    listed = gcloud.json("projects", "list", "--filter=labels.env:dev")
    assert [p["projectId"] for p in listed] == ["gcloud-project-1"]
    gcloud.run("alpha", "projects", "update", "gcloud-project-1", "--update-labels=team=ml")
    gcloud.run("projects", "update", "gcloud-project-1", "--name=Renamed project")
    described = gcloud.json("projects", "describe", "gcloud-project-1")
    assert (described["name"], described["labels"]) == ("Renamed project", {"env": "dev", "team": "ml"})


def test_taken_and_foreign_projects_fail_as_on_google(gcloud) -> None:
    taken = gcloud.run("projects", "create", "someone-elses-project", check=False)
    assert taken.returncode != 0 and "already in use" in taken.stderr
    foreign = gcloud.run("projects", "describe", "someone-elses-project", check=False)
    assert foreign.returncode != 0 and "does not have permission" in foreign.stderr
    bad = gcloud.run("projects", "create", "Bad_ID", check=False)
    assert bad.returncode != 0


def test_delete_undelete_and_iam_bindings(gcloud) -> None:
    gcloud.run("projects", "create", "gcloud-project-2", "--organization=123456")
    ancestors = gcloud.json("projects", "get-ancestors", "gcloud-project-2")
    assert [(a["type"], a["id"]) for a in ancestors] == [
        ("project", "gcloud-project-2"),
        ("organization", "123456"),
    ]
    gcloud.run(
        "projects",
        "add-iam-policy-binding",
        "gcloud-project-2",
        "--member=user:bob@example.com",
        "--role=roles/viewer",
    )
    policy = gcloud.json("projects", "get-iam-policy", "gcloud-project-2")
    assert {b["role"]: b["members"] for b in policy["bindings"]} == {
        "roles/owner": ["user:developer@example.com"],
        "roles/viewer": ["user:bob@example.com"],
    }
    gcloud.run(
        "projects",
        "remove-iam-policy-binding",
        "gcloud-project-2",
        "--member=user:bob@example.com",
        "--role=roles/viewer",
    )
    policy = gcloud.json("projects", "get-iam-policy", "gcloud-project-2")
    assert [b["role"] for b in policy["bindings"]] == ["roles/owner"]
    gcloud.run("projects", "delete", "gcloud-project-2")
    assert gcloud.json("projects", "describe", "gcloud-project-2")["lifecycleState"] == "DELETE_REQUESTED"
    gcloud.run("projects", "undelete", "gcloud-project-2")
    assert gcloud.json("projects", "describe", "gcloud-project-2")["lifecycleState"] == "ACTIVE"
