"""Step 5: the service account's least-privilege roles on the project.

Observed: which of the wanted roles the account lacks on the project policy (one read). Planned: grant
them in one read-modify-write of the policy (etag-guarded, other members kept, the new account's
propagation delay waited out). A step of its own, apart from the account's creation, so that the API
key, which needs only the account, is not kept waiting for the grant.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from gcp_setup import defaults
from gcp_setup.google.catalog import CatalogClient
from gcp_setup.google.iam import IamClient, service_account_member
from gcp_setup.google.iam_policy import Binding, missing, present, regrant
from gcp_setup.steps.base import Action, Context, Step, StepInputError
from gcp_setup.steps.service_account import account_email


def wanted_bindings(ctx: Context) -> list[Binding]:
    member = service_account_member(account_email(ctx))
    return [Binding(role, member) for role in ctx.config.roles]


def former_bindings(ctx: Context) -> list[Binding]:
    """gcp-setup's former default roles, unless configured: what a migration to ROLES takes away."""
    member = service_account_member(account_email(ctx))
    return [Binding(role, member) for role in defaults.FORMER_ROLES if role not in ctx.config.roles]


def check_roles_exist(ctx: Context) -> None:
    """In the plan (every apply starts with one), a --role beyond gcp-setup's own must be a role Google
    knows: refused before anything is created, rather than by the grant after the account is made."""
    extra = [r for r in ctx.config.roles if r not in defaults.ROLES]
    unknown = CatalogClient(ctx.session).unknown_roles(extra) if extra and ctx.dry_run else []
    if unknown:
        raise StepInputError(
            f"Google knows no role {', '.join(unknown)}",
            hint=f"check --role, e.g. {defaults.ROLES[0]} (`gcloud iam roles list` lists them)",
        )


@dataclass
class RolesState:
    email: str
    missing_roles: list[str] = field(default_factory=list)
    former_roles: list[str] = field(default_factory=list)
    """Roles of gcp-setup's former default the account holds and no longer needs (defaults.FORMER_ROLES)."""


class RolesStep(Step):
    name = "roles"
    depends_on = ("service_account",)

    def enabled(self, config: Any) -> bool:
        return config.service_account is not None

    def observe(self, ctx: Context) -> RolesState:
        check_roles_exist(ctx)
        policy = IamClient(ctx.session).project_policy(ctx.config.project).get()
        return RolesState(
            account_email(ctx),
            [b.role for b in missing(policy, wanted_bindings(ctx))],
            [b.role for b in present(policy, former_bindings(ctx))],
        )

    def absent_state(self, ctx: Context) -> RolesState:
        check_roles_exist(ctx)
        return RolesState(account_email(ctx), list(ctx.config.roles))

    def plan(self, ctx: Context, state: RolesState) -> list[Action]:
        if not (state.missing_roles or state.former_roles):
            return []
        changes = [f"grant {', '.join(state.missing_roles)}"] if state.missing_roles else []
        if state.former_roles:
            changes.append(
                f"remove {', '.join(state.former_roles)} (gcp-setup's former default: more than Vertex AI "
                "needs)"
            )
        summary = f"{' and '.join(changes)} for serviceAccount:{state.email}"
        data = {"roles": state.missing_roles, "revoke": state.former_roles}
        return [Action("update", f"projects/{ctx.config.project}", summary, data)]

    def apply(self, ctx: Context, action: Action) -> None:
        ctx.progress_note("granting project roles (a new service account takes a while to propagate)")
        member = service_account_member(account_email(ctx))
        policy = IamClient(ctx.session).project_policy(ctx.config.project)
        revoked = [Binding(role, member) for role in action.data.get("revoke", [])]
        regrant(policy, [Binding(role, member) for role in action.data["roles"]], revoked)

    def state_after(self, ctx: Context, state: RolesState, action: Action, answer: Any) -> RolesState:
        granted = set(action.data["roles"])
        return replace(
            state, missing_roles=[r for r in state.missing_roles if r not in granted], former_roles=[]
        )

    def describe(self, ctx: Context, state: RolesState) -> str:
        if state.missing_roles:
            return f"{state.email} lacks {', '.join(state.missing_roles)}"
        return f"{state.email} has {', '.join(ctx.config.roles)}"

    def outputs(self, ctx: Context, state: RolesState) -> dict[str, Any]:
        granted = [r for r in ctx.config.roles if r not in state.missing_roles]
        return {"roles": list(ctx.config.roles), "granted_roles": granted}
