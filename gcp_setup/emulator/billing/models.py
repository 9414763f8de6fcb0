"""Cloud Billing state: billing accounts and which account each project is linked to. No HTTP here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gcp_setup.emulator.core import errors, quotas
from gcp_setup.emulator.core.iam_policy import Policy
from gcp_setup.emulator.core.world import DEFAULT_CALLER, Backend, World, backend
from gcp_setup.emulator.resourcemanager.models import Project

OPEN_ACCOUNT = "billingAccounts/000000-AAAAAA-000001"
CLOSED_ACCOUNT = "billingAccounts/000000-BBBBBB-000002"
SEEDED_GEMINI_CREDITS_USD = 100.0
"""The prepaid Gemini API credits every account starts with (Google's minimum prepayment is $10), so that
a default run needs no switch; realism.gemini_prepay_balance sets a project's own."""


@dataclass
class BillingAccount:
    name: str
    display_name: str
    open: bool
    currency_code: str = "USD"
    gemini_credits_usd: float = SEEDED_GEMINI_CREDITS_USD
    """Prepaid Gemini API credits (bought in AI Studio; Cloud Billing's API does not show them)."""
    policy: Policy = field(default_factory=Policy)
    """Who may administer and use the account (roles/billing.admin, roles/billing.user...)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "open": self.open,
            "displayName": self.display_name,
            "currencyCode": self.currency_code,
        }


def _seed_accounts() -> dict[str, BillingAccount]:
    """The default caller administers both, as whoever creates a billing account does."""
    accounts = {
        OPEN_ACCOUNT: BillingAccount(OPEN_ACCOUNT, "Emulator billing account", open=True),
        CLOSED_ACCOUNT: BillingAccount(CLOSED_ACCOUNT, "Closed billing account", open=False),
    }
    for account in accounts.values():
        account.policy.add_binding("roles/billing.admin", DEFAULT_CALLER)
    return accounts


def _account_from_state(data: dict[str, Any]) -> BillingAccount:
    data = dict(data)
    policy = Policy.from_state(data.pop("policy")) if "policy" in data else None
    account = BillingAccount(**data)
    if policy is not None:
        account.policy = policy
    return account


def account_not_found(name: str) -> errors.PermissionDenied:
    """Cloud Billing does not tell a missing account from one the caller may not use."""
    return errors.PermissionDenied(
        f"The caller does not have permission on billing account {name}",
        reason="IAM_PERMISSION_DENIED",
        domain="cloudbilling.googleapis.com",
    )


@backend
class BillingBackend(Backend):
    name = "billing"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.accounts = _seed_accounts()
        self.links: dict[str, str] = {}
        """project ID -> billing account name."""

    def account(self, name: str) -> BillingAccount:
        found = self.accounts.get(name)
        if found is None:
            raise account_not_found(name)
        return found

    def account_of(self, project: Project) -> str:
        return self.links.get(project.project_id, "")

    def linked_to(self, account_name: str) -> list[str]:
        """IDs of the projects linked to `account_name`."""
        return sorted(pid for pid, name in self.links.items() if name == account_name)

    def billing_enabled(self, project: Project) -> bool:
        """Billing works when the project is linked to an account that is open."""
        linked = self.accounts.get(self.account_of(project))
        return linked is not None and linked.open

    def link(self, project: Project, account_name: str) -> None:
        """Link `project` to `account_name`; an empty name unlinks (disables billing). Google accepts a
        closed account too, and billing then stays disabled: "the same effect as disabling billing"."""
        if not account_name:
            self.links.pop(project.project_id, None)
            return
        self.account(account_name)
        if self.links.get(project.project_id) != account_name:
            self._check_quota(account_name)
        self.links[project.project_id] = account_name

    def _check_quota(self, account_name: str) -> None:
        """Google's answer when the account has as many projects as its quota (terraform-provider-google#1892,
        kubernetes/k8s.io#884)."""
        realism = self.world.realism
        limit = realism.billing_account_quotas.get(account_name, realism.projects_per_billing_account)
        if len(self.linked_to(account_name)) >= limit:
            description = (
                "Cloud billing quota exceeded: https://support.google.com/code/contact/billing_quota_increase"
            )
            raise errors.FailedPrecondition(
                "Precondition check failed.", extra_details=[quotas.quota_failure(description, account_name)]
            )

    def to_json(self) -> dict[str, Any]:
        return {"accounts": [asdict(a) for a in self.accounts.values()], "links": self.links}

    def load_json(self, data: dict[str, Any]) -> None:
        if "accounts" in data:
            self.accounts = {a["name"]: _account_from_state(a) for a in data["accounts"]}
        self.links = dict(data.get("links", {}))
