"""Cloud Billing v1 handlers: a project's billing link, and the billing accounts the caller may use."""

from __future__ import annotations

import functools
from typing import Any

from gcp_setup.emulator.billing.models import BillingAccount, BillingBackend
from gcp_setup.emulator.core import errors, roles
from gcp_setup.emulator.core.authorization import holds_permission, project_caller_may_act_on
from gcp_setup.emulator.core.iam_policy import requested_in
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, api_method
from gcp_setup.emulator.iam.models import member_exists
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend

API = "cloudbilling.v1"
M = "cloudbilling."


def _billing(req: ApiRequest) -> BillingBackend:
    return req.world.backend(BillingBackend)


def _project(req: ApiRequest, permission: str, *, active: bool = False) -> Project:
    ref = req.params["projectsId"]

    def denied() -> errors.PermissionDenied:
        return errors.PermissionDenied(
            f"The caller does not have permission [{permission}] on resource projects/{ref}",
            reason="IAM_PERMISSION_DENIED",
            domain="cloudbilling.googleapis.com",
            metadata={"permission": permission, "resource": f"projects/{ref}"},
        )

    return project_caller_may_act_on(
        req,
        ref,
        allowed=holds_permission(req, permission),
        denied=denied,
        when_deleted="refuse" if active else "allow",
    )


def billing_info(billing: BillingBackend, project: Project) -> dict[str, Any]:
    """Proto3 JSON leaves out defaults: an unlinked project has no account name and no billingEnabled."""
    out: dict[str, Any] = {
        "name": f"projects/{project.project_id}/billingInfo",
        "projectId": project.project_id,
    }
    account = billing.account_of(project)
    if account:
        out["billingAccountName"] = account
    if billing.billing_enabled(project):
        out["billingEnabled"] = True
    return out


@api_method(API, M + "projects.getBillingInfo")
def get_billing_info(req: ApiRequest) -> dict[str, Any]:
    return billing_info(_billing(req), _project(req, "resourcemanager.projects.get"))


@api_method(API, M + "projects.updateBillingInfo")
def update_billing_info(req: ApiRequest) -> dict[str, Any]:
    """Linking a closed account is accepted and leaves billing disabled, as Google documents."""
    account = req.body.get("billingAccountName") or ""
    permission = "resourcemanager.projects." + ("create" if account else "delete") + "BillingAssignment"
    project = _project(req, permission, active=True)
    _billing(req).link(project, account)
    return billing_info(_billing(req), project)


@api_method(API, M + "billingAccounts.get")
def get_account(req: ApiRequest) -> dict[str, Any]:
    return _billing(req).account(f"billingAccounts/{req.params['billingAccountsId']}").to_json()


@api_method(API, M + "billingAccounts.list")
def list_accounts(req: ApiRequest) -> dict[str, Any]:
    accounts = sorted(_billing(req).accounts.values(), key=lambda a: a.name)
    wanted = req.query.get("filter", "").replace(" ", "").lower()
    if wanted in ("open=true", "open:true", "open=false", "open:false"):
        accounts = [a for a in accounts if a.open == wanted.endswith("true")]
    items, token = page(accounts, req.query, default_size=50, max_size=100)
    return with_next_page({"billingAccounts": [a.to_json() for a in items]} if items else {}, token)


@api_method(API, M + "billingAccounts.projects.list")
def list_account_projects(req: ApiRequest) -> dict[str, Any]:
    billing = _billing(req)
    account = billing.account(f"billingAccounts/{req.params['billingAccountsId']}")
    projects = req.world.backend(ProjectsBackend)
    linked = [p for pid in billing.linked_to(account.name) if (p := projects.find(pid)) is not None]
    items, token = page(linked, req.query, default_size=50, max_size=100)
    body = {"projectBillingInfo": [billing_info(billing, p) for p in items]} if items else {}
    return with_next_page(body, token)


# -- IAM on a billing account ----------------------------------------------------------------------------
def _account_for(req: ApiRequest, permission: str) -> BillingAccount:
    """The account in the path if the caller holds `permission` on it; a missing account answers alike."""
    name = f"billingAccounts/{req.params['billingAccountsId']}"
    account = _billing(req).accounts.get(name)
    if account is None or not roles.holds(account.policy.roles_of(req.principal), permission):
        raise errors.PermissionDenied(
            f"The caller does not have permission [{permission}] on resource {name}",
            reason="IAM_PERMISSION_DENIED",
            domain="cloudbilling.googleapis.com",
            metadata={"permission": permission, "resource": name},
        )
    return account


@api_method(API, M + "billingAccounts.getIamPolicy")
def get_account_iam_policy(req: ApiRequest) -> dict[str, Any]:
    account = _account_for(req, "billing.accounts.getIamPolicy")
    return account.policy.to_json(requested_in(req.body, req.query))


@api_method(API, M + "billingAccounts.setIamPolicy")
def set_account_iam_policy(req: ApiRequest) -> dict[str, Any]:
    account = _account_for(req, "billing.accounts.setIamPolicy")
    account.policy.replace(
        req.body, member_exists=functools.partial(member_exists, req.world), now=req.world.now()
    )
    return account.policy.to_json()


@api_method(API, M + "billingAccounts.testIamPermissions")
def test_account_iam_permissions(req: ApiRequest) -> dict[str, Any]:
    """The subset of the permissions asked that the caller holds; a missing account holds none."""
    account = _billing(req).accounts.get(f"billingAccounts/{req.params['billingAccountsId']}")
    held = account.policy.roles_of(req.principal) if account else set()
    granted = [p for p in req.body.get("permissions") or [] if roles.holds(held, p)]
    return {"permissions": granted} if granted else {}
