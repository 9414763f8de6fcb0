"""The real gcloud CLI against the emulator: `gcloud billing accounts` and `gcloud billing projects`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gcloud

OPEN_ID, CLOSED_ID = "000000-AAAAAA-000001", "000000-BBBBBB-000002"


@pytest.fixture
def project(crm_v1) -> str:
    crm_v1.projects().create(body={"projectId": "gcloud-billed-project"}).execute()
    return "gcloud-billed-project"


def test_accounts_list_and_describe(gcloud) -> None:
    accounts = gcloud.json("billing", "accounts", "list")
    assert [(a["name"], a["open"]) for a in accounts] == [
        (f"billingAccounts/{OPEN_ID}", True),
        (f"billingAccounts/{CLOSED_ID}", False),
    ]
    assert (
        gcloud.json("billing", "accounts", "describe", OPEN_ID)["displayName"] == "Emulator billing account"
    )


def test_link_describe_unlink(gcloud, project: str) -> None:
    assert "billingAccountName" not in gcloud.json("billing", "projects", "describe", project)
    gcloud.run("billing", "projects", "link", project, f"--billing-account={OPEN_ID}")
    info = gcloud.json("billing", "projects", "describe", project)
    assert (info["billingAccountName"], info["billingEnabled"]) == (f"billingAccounts/{OPEN_ID}", True)
    linked = gcloud.json("billing", "projects", "list", f"--billing-account={OPEN_ID}")
    assert [i["projectId"] for i in linked] == [project]
    gcloud.run("billing", "projects", "unlink", project)
    assert "billingAccountName" not in gcloud.json("billing", "projects", "describe", project)
