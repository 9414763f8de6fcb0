"""The real `gcloud iam workload-identity-pools` commands against the emulator's Workload Identity API."""

from __future__ import annotations

import pytest
from conftest import make_identity_project

pytestmark = pytest.mark.gcloud

POOLS = ("iam", "workload-identity-pools")
ISSUER = "https://token.actions.githubusercontent.com"
MAPPING = "google.subject=assertion.sub,attribute.repository=assertion.repository"
CONDITION = "assertion.repository == 'octo/app'"


def create_provider(gcloud, project: str, pool: str, *flags: str, check: bool = True):
    """`providers create-oidc github-actions` for GitHub's issuer in `pool`."""
    return gcloud.run(
        *POOLS,
        "providers",
        "create-oidc",
        "github-actions",
        "--location=global",
        f"--workload-identity-pool={pool}",
        f"--issuer-uri={ISSUER}",
        *flags,
        project=project,
        check=check,
    )


def test_pool_and_provider_lifecycle_through_gcloud(emu, gcloud) -> None:
    project = make_identity_project(emu, "gcloud-wif-1")
    gcloud.run(
        *POOLS, "create", "github", "--location=global", "--display-name=GitHub Actions", project=project
    )
    pool = gcloud.json(*POOLS, "describe", "github", "--location=global", project=project)
    assert pool["state"] == "ACTIVE" and pool["displayName"] == "GitHub Actions"
    assert pool["name"].endswith("/locations/global/workloadIdentityPools/github")

    create_provider(
        gcloud, project, "github", f"--attribute-mapping={MAPPING}", f"--attribute-condition={CONDITION}"
    )
    describe = (
        "providers",
        "describe",
        "github-actions",
        "--location=global",
        "--workload-identity-pool=github",
    )
    provider = gcloud.json(*POOLS, *describe, project=project)
    assert provider["oidc"] == {"issuerUri": ISSUER}
    assert provider["attributeMapping"]["attribute.repository"] == "assertion.repository"
    assert provider["attributeCondition"] == CONDITION

    gcloud.run(*POOLS, "delete", "github", "--location=global", project=project)
    assert gcloud.json(*POOLS, "list", "--location=global", project=project) == []
    deleted = gcloud.json(*POOLS, "list", "--location=global", "--show-deleted", project=project)
    assert [p["state"] for p in deleted] == ["DELETED"]
    again = gcloud.run(*POOLS, "create", "github", "--location=global", project=project, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr.lower()  # the ID stays taken


def test_gcloud_meets_google_id_and_condition_rules(emu, gcloud) -> None:
    project = make_identity_project(emu, "gcloud-wif-2")
    short = gcloud.run(*POOLS, "create", "ci", "--location=global", project=project, check=False)
    assert short.returncode != 0 and "4 to 32 lowercase letters" in short.stderr
    gcloud.run(*POOLS, "create", "ci-pool", "--location=global", project=project)
    unconditional = create_provider(
        gcloud, project, "ci-pool", "--attribute-mapping=google.subject=assertion.sub", check=False
    )
    assert unconditional.returncode != 0 and "attribute condition must reference" in unconditional.stderr
