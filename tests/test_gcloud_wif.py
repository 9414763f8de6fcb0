"""The real `gcloud iam workload-identity-pools` commands against the emulator's Workload Identity API."""

from __future__ import annotations

import pytest
from conftest import make_identity_project

pytestmark = pytest.mark.gcloud

ISSUER = "https://token.actions.githubusercontent.com"
MAPPING = "google.subject=assertion.sub,attribute.repository=assertion.repository"
CONDITION = "assertion.repository == 'octo/app'"


def test_pool_and_provider_lifecycle_through_gcloud(emu, gcloud) -> None:
    project = make_identity_project(emu, "gcloud-wif-1")
    gcloud.run(
        "iam",
        "workload-identity-pools",
        "create",
        "github",
        "--location=global",
        "--display-name=GitHub Actions",
        project=project,
    )
    pool = gcloud.json(
        "iam", "workload-identity-pools", "describe", "github", "--location=global", project=project
    )
    assert pool["state"] == "ACTIVE" and pool["displayName"] == "GitHub Actions"
    assert pool["name"].endswith("/locations/global/workloadIdentityPools/github")

    gcloud.run(
        "iam",
        "workload-identity-pools",
        "providers",
        "create-oidc",
        "github-actions",
        "--location=global",
        "--workload-identity-pool=github",
        f"--issuer-uri={ISSUER}",
        f"--attribute-mapping={MAPPING}",
        f"--attribute-condition={CONDITION}",
        project=project,
    )
    provider = gcloud.json(
        "iam",
        "workload-identity-pools",
        "providers",
        "describe",
        "github-actions",
        "--location=global",
        "--workload-identity-pool=github",
        project=project,
    )
    assert provider["oidc"] == {"issuerUri": ISSUER}
    assert provider["attributeMapping"]["attribute.repository"] == "assertion.repository"
    assert provider["attributeCondition"] == CONDITION

    gcloud.run("iam", "workload-identity-pools", "delete", "github", "--location=global", project=project)
    assert gcloud.json("iam", "workload-identity-pools", "list", "--location=global", project=project) == []
    deleted = gcloud.json(
        "iam", "workload-identity-pools", "list", "--location=global", "--show-deleted", project=project
    )
    assert [p["state"] for p in deleted] == ["DELETED"]
    again = gcloud.run(
        "iam",
        "workload-identity-pools",
        "create",
        "github",
        "--location=global",
        project=project,
        check=False,
    )
    assert again.returncode != 0 and "already exists" in again.stderr.lower()


def test_gcloud_meets_google_id_and_condition_rules(emu, gcloud) -> None:
    project = make_identity_project(emu, "gcloud-wif-2")
    short = gcloud.run(
        "iam", "workload-identity-pools", "create", "ci", "--location=global", project=project, check=False
    )
    assert short.returncode != 0 and "4 to 32 lowercase letters" in short.stderr
    gcloud.run("iam", "workload-identity-pools", "create", "ci-pool", "--location=global", project=project)
    result = gcloud.run(
        "iam",
        "workload-identity-pools",
        "providers",
        "create-oidc",
        "github-actions",
        "--location=global",
        "--workload-identity-pool=ci-pool",
        f"--issuer-uri={ISSUER}",
        "--attribute-mapping=google.subject=assertion.sub",
        project=project,
        check=False,
    )
    assert result.returncode != 0 and "attribute condition must reference" in result.stderr
