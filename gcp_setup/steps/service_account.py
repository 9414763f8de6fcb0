"""Step 4: the service account the application runs as (its project roles are the roles step's).

Observed: does the account exist, and is it enabled (one read). Planned: create the account (409
ALREADY_EXISTS from a concurrent run is adopted) or re-enable a disabled one (every call it makes would
fail).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from gcp_setup import defaults
from gcp_setup.google.iam import IamClient, service_account_email, service_account_member
from gcp_setup.steps.base import Action, Context, Step

MANAGED_DESCRIPTION = "Managed by gcp-setup (`gcp-setup destroy` deletes it)."
"""Marks an account gcp-setup created, so that `destroy` deletes only its own."""


def account_id(ctx: Context) -> str:
    return ctx.config.service_account or defaults.SERVICE_ACCOUNT_ID


def account_email(ctx: Context) -> str:
    return service_account_email(account_id(ctx), ctx.config.project)


@dataclass
class ServiceAccountState:
    email: str
    account: dict[str, Any] | None
    created: bool = False
    """This run created the account: keys bound to an earlier account of the same email are not its."""


class ServiceAccountStep(Step):
    name = "service_account"
    depends_on = ("services",)
    reads = {"services": ("enabled_now",)}

    def enabled(self, config: Any) -> bool:
        return config.service_account is not None

    def observe(self, ctx: Context) -> ServiceAccountState:
        email = account_email(ctx)
        return ServiceAccountState(
            email, IamClient(ctx.session).get_service_account(ctx.config.project, email)
        )

    def absent_state(self, ctx: Context) -> ServiceAccountState:
        return ServiceAccountState(account_email(ctx), None)

    def plan(self, ctx: Context, state: ServiceAccountState) -> list[Action]:
        project = ctx.config.project
        actions = []
        if state.account is None:
            actions.append(
                Action(
                    "create",
                    f"projects/{project}/serviceAccounts/{state.email}",
                    f"create service account {state.email}",
                    {"account_id": account_id(ctx)},
                )
            )
        elif state.account.get("disabled"):
            actions.append(
                Action(
                    "update",
                    f"projects/{project}/serviceAccounts/{state.email}",
                    f"enable service account {state.email} (it is disabled)",
                    {"enable": True},
                )
            )
        return actions

    def apply(self, ctx: Context, action: Action) -> dict[str, Any] | None:
        """Create: the account as created (or found, when it existed). Enable answers nothing worth
        keeping: it either did what it says or raised."""
        client = IamClient(ctx.session)
        project = ctx.config.project
        if action.kind == "create":
            return client.create_service_account(
                project, action.data["account_id"], defaults.SERVICE_ACCOUNT_DISPLAY_NAME, MANAGED_DESCRIPTION
            )
        client.enable_service_account(project, account_email(ctx))
        return None

    def state_after(
        self, ctx: Context, state: ServiceAccountState, action: Action, answer: dict[str, Any] | None
    ) -> ServiceAccountState:
        if action.kind == "create":
            return replace(state, account=answer, created=True)
        return replace(state, account={**(state.account or {}), "disabled": False})

    def describe(self, ctx: Context, state: ServiceAccountState) -> str:
        if state.account is None:
            return f"{state.email} does not exist"
        if state.account.get("disabled"):
            return f"{state.email} is disabled"
        return f"{state.email} exists"

    def outputs(self, ctx: Context, state: ServiceAccountState) -> dict[str, Any]:
        return {
            "email": state.email,
            "member": service_account_member(state.email),
            "exists": state.account is not None,
            "created": state.created,
        }
