"""Cloud Billing v1 through google-api-python-client's discovery client: a project's billing link."""

from __future__ import annotations

from dataclasses import dataclass

from gcp_setup.google import retry
from gcp_setup.google.session import GoogleSession

CONSOLE_LINK = "https://console.cloud.google.com/billing/linkedaccount?project={project}"


@dataclass(frozen=True)
class BillingInfo:
    enabled: bool
    account: str
    """The linked account's ID ("0X0X0X-0X0X0X-0X0X0X"), or "" when none is linked."""


def _client(session: GoogleSession):
    return session.discovery_client("cloudbilling", "v1")


def _info(body: dict) -> BillingInfo:
    """A ProjectBillingInfo, as getBillingInfo and updateBillingInfo answer it."""
    return BillingInfo(
        enabled=bool(body.get("billingEnabled")),
        account=body.get("billingAccountName", "").removeprefix("billingAccounts/"),
    )


def get_billing_info(session: GoogleSession, project_id: str) -> BillingInfo:
    return _info(
        retry.execute(
            _client(session).projects().getBillingInfo(name=f"projects/{project_id}"), session=session
        )
    )


def account_is_open(session: GoogleSession, account: str) -> bool:
    body = retry.execute(
        _client(session).billingAccounts().get(name=f"billingAccounts/{account}"), session=session
    )
    return bool(body.get("open"))


def link(session: GoogleSession, project_id: str, account: str) -> BillingInfo:
    """Link the project to `account`; the billing info as the answer has it. Google accepts a closed
    account and answers billingEnabled false."""
    request = (
        _client(session)
        .projects()
        .updateBillingInfo(
            name=f"projects/{project_id}", body={"billingAccountName": f"billingAccounts/{account}"}
        )
    )
    return _info(retry.execute(request, session=session))


def link_command(project_id: str, account: str | None = None) -> str:
    """The gcloud line that links billing, for hints."""
    return f"gcloud billing projects link {project_id} --billing-account={account or 'ACCOUNT_ID'}"
