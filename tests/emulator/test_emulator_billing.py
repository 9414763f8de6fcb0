"""Cloud Billing v1 through google-api-python-client's discovery client against the emulator."""

from __future__ import annotations

import json

import httplib2
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from gcp_setup.emulator.billing.models import CLOSED_ACCOUNT, OPEN_ACCOUNT
from gcp_setup.emulator.control import EmulatorControl


def discovery_client(emu: EmulatorControl, api: str):
    return build(
        api, "v1", static_discovery=True, http=httplib2.Http(), client_options={"api_endpoint": emu.url + "/"}
    )


@pytest.fixture
def billing(emu: EmulatorControl, crm_v1):
    crm_v1.projects().create(body={"projectId": "billed-project"}).execute()
    return discovery_client(emu, "cloudbilling")


def test_accounts_are_seeded_open_and_closed(billing) -> None:
    accounts = billing.billingAccounts().list().execute()["billingAccounts"]
    assert [(a["name"], a["open"]) for a in accounts] == [(OPEN_ACCOUNT, True), (CLOSED_ACCOUNT, False)]
    assert (
        billing.billingAccounts().get(name=OPEN_ACCOUNT).execute()["displayName"]
        == "Emulator billing account"
    )
    with pytest.raises(HttpError) as caught:
        billing.billingAccounts().get(name="billingAccounts/000000-CCCCCC-000003").execute()
    assert caught.value.resp.status == 403


def test_link_unlink_and_closed_account(billing) -> None:
    projects = billing.projects()
    name = "projects/billed-project"
    assert projects.getBillingInfo(name=name).execute() == {
        "name": "projects/billed-project/billingInfo",
        "projectId": "billed-project",
    }
    linked = projects.updateBillingInfo(name=name, body={"billingAccountName": OPEN_ACCOUNT}).execute()
    assert (linked["billingAccountName"], linked["billingEnabled"]) == (OPEN_ACCOUNT, True)
    listed = billing.billingAccounts().projects().list(name=OPEN_ACCOUNT).execute()
    assert [i["projectId"] for i in listed["projectBillingInfo"]] == ["billed-project"]
    # Google accepts a closed account: the same effect as disabling billing.
    closed = projects.updateBillingInfo(name=name, body={"billingAccountName": CLOSED_ACCOUNT}).execute()
    assert closed["billingAccountName"] == CLOSED_ACCOUNT and "billingEnabled" not in closed
    unlinked = projects.updateBillingInfo(name=name, body={"billingAccountName": ""}).execute()
    assert "billingAccountName" not in unlinked


def test_someone_elses_project_is_forbidden(billing) -> None:
    with pytest.raises(HttpError) as caught:
        billing.projects().updateBillingInfo(
            name="projects/someone-elses-project", body={"billingAccountName": OPEN_ACCOUNT}
        ).execute()
    assert json.loads(caught.value.content)["error"]["status"] == "PERMISSION_DENIED"
