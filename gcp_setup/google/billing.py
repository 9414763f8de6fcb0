"""Cloud Billing v1 through google-api-python-client's discovery client: a project's billing link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.google.client import Client

CONSOLE_LINK = "https://console.cloud.google.com/billing/linkedaccount?project={project}"


@dataclass(frozen=True)
class BillingInfo:
    enabled: bool
    account: str
    """The linked account's ID ("012345-6789AB-CDEF01"), or "" when none is linked."""


def _info(body: dict[str, Any]) -> BillingInfo:
    """A ProjectBillingInfo, as getBillingInfo and updateBillingInfo answer it."""
    return BillingInfo(
        enabled=bool(body.get("billingEnabled")),
        account=body.get("billingAccountName", "").removeprefix("billingAccounts/"),
    )


@dataclass
class BillingClient(Client):
    def _api(self, path: str) -> Any:
        return self.session.discovery("cloudbilling", "v1", path)

    def billing_info(self, project_id: str) -> BillingInfo:
        return _info(self.execute(self._api("projects").getBillingInfo(name=f"projects/{project_id}")))

    def account_is_open(self, account: str) -> bool:
        """Asked once per session (GoogleSession.read_once): nothing gcp-setup does opens or closes one."""
        name = f"billingAccounts/{account}"
        body = self.session.read_once(name, lambda: self.execute(self._api("billingAccounts").get(name=name)))
        return bool(body.get("open"))

    def link(self, project_id: str, account: str) -> BillingInfo:
        """Link the project to `account`; the billing info as the answer has it. Google accepts a closed
        account and answers billingEnabled false."""
        request = self._api("projects").updateBillingInfo(
            name=f"projects/{project_id}", body={"billingAccountName": f"billingAccounts/{account}"}
        )
        return _info(self.execute(request))


def link_command(project_id: str, account: str | None = None) -> str:
    """The gcloud line that links billing, for hints."""
    return f"gcloud billing projects link {project_id} --billing-account={account or 'ACCOUNT_ID'}"
