"""Step 4: the service account the application runs as, and its least-privilege project roles.

Observed: does the account exist, is it enabled, and which of the wanted roles does it lack on the
project policy (two reads). Planned: create the account (409 ALREADY_EXISTS from a concurrent run is
adopted) or re-enable a disabled one (every call it makes would fail), then grant the missing roles in
one read-modify-write of the project policy (etag-guarded, other members kept, the new account's
propagation delay waited out).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from gcp_setup import defaults
from gcp_setup.google.catalog import CatalogClient
from gcp_setup.google.iam import IamClient, service_account_email, service_account_member
from gcp_setup.google.iam_policy import Binding, grant, missing
from gcp_setup.steps.base import Action, Context, Step, StepInputError

MANAGED_DESCRIPTION = "Managed by gcp-setup (`gcp-setup destroy` deletes it)."
"""Marks an account gcp-setup created, so that `destroy` deletes only its own."""


def project_id(ctx: Context) -> str:
    """The project the run works on: the configured ID, validated as a project ID, so it is also the
    one the project step finds. Not read from that step's outputs: the engine's speculative observes
    of every step would then wait for the project step's (one round trip more in a no-op run)."""
    return ctx.config.project


def account_id(ctx: Context) -> str:
    return ctx.config.service_account or defaults.SERVICE_ACCOUNT_ID


def account_email(ctx: Context) -> str:
    return service_account_email(account_id(ctx), project_id(ctx))


def wanted_bindings(ctx: Context) -> list[Binding]:
    member = service_account_member(account_email(ctx))
    return [Binding(role, member) for role in ctx.config.roles]


def check_roles_exist(ctx: Context) -> None:
    """In the plan (every apply starts with one), a --role beyond gcp-setup's own must be a role Google
    knows: refused before anything is created, rather than by the grant after the account is made."""
    extra = [r for r in ctx.config.roles if r not in defaults.ROLES]
    unknown = CatalogClient(ctx.session).unknown_roles(extra) if extra and ctx.dry_run else []
    if unknown:
        raise StepInputError(
            f"Google knows no role {', '.join(unknown)}",
            hint="check --role, e.g. roles/aiplatform.user (`gcloud iam roles list` lists them)",
        )


@dataclass
class ServiceAccountState:
    email: str
    account: dict[str, Any] | None
    missing_roles: list[str] = field(default_factory=list)
    created: bool = False
    """This run created the account: keys bound to an earlier account of the same email are not its."""


class ServiceAccountStep(Step):
    name = "service_account"
    depends_on = ("services",)
    reads = {"services": ("enabled_now",)}

    def enabled(self, config: Any) -> bool:
        return config.service_account is not None

    def observe(self, ctx: Context) -> ServiceAccountState:
        """Two reads at once (one round trip): the account (a binding would prove it exists, but not
        that it is enabled) and the project policy. The policy is read in a thread of its own, where
        the session builds that thread's own clients."""
        check_roles_exist(ctx)
        project, email = project_id(ctx), account_email(ctx)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-read") as side:
            policy = side.submit(lambda: IamClient(ctx.session).project_policy(project).get())
            account = IamClient(ctx.session).get_service_account(project, email)
            missing_roles = [b.role for b in missing(policy.result(), wanted_bindings(ctx))]
        return ServiceAccountState(email, account, missing_roles)

    def absent_state(self, ctx: Context) -> ServiceAccountState:
        check_roles_exist(ctx)
        return ServiceAccountState(account_email(ctx), None, list(ctx.config.roles))

    def plan(self, ctx: Context, state: ServiceAccountState) -> list[Action]:
        project = project_id(ctx)
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
        if state.missing_roles:
            actions.append(
                Action(
                    "update",
                    f"projects/{project}",
                    f"grant {', '.join(state.missing_roles)} to serviceAccount:{state.email}",
                    {"roles": state.missing_roles},
                )
            )
        return actions

    def apply(self, ctx: Context, action: Action) -> dict[str, Any] | None:
        """Create: the account as created (or found, when it existed). Enable and grant answer nothing
        worth keeping: they either did what they say or raised."""
        client = IamClient(ctx.session)
        project = project_id(ctx)
        if action.kind == "create":
            return client.create_service_account(
                project, action.data["account_id"], defaults.SERVICE_ACCOUNT_DISPLAY_NAME, MANAGED_DESCRIPTION
            )
        if action.data.get("enable"):
            client.enable_service_account(project, account_email(ctx))
            return None
        ctx.progress_note("granting project roles (a new service account takes a while to propagate)")
        member = service_account_member(account_email(ctx))
        grant(client.project_policy(project), [Binding(role, member) for role in action.data["roles"]])
        return None

    def state_after(
        self, ctx: Context, state: ServiceAccountState, action: Action, answer: dict[str, Any] | None
    ) -> ServiceAccountState:
        if action.kind == "create":
            return replace(state, account=answer, created=True)
        if action.data.get("enable"):
            return replace(state, account={**(state.account or {}), "disabled": False})
        granted = set(action.data["roles"])
        return replace(state, missing_roles=[r for r in state.missing_roles if r not in granted])

    def describe(self, ctx: Context, state: ServiceAccountState) -> str:
        if state.account is None:
            return f"{state.email} does not exist"
        if state.account.get("disabled"):
            return f"{state.email} is disabled"
        if state.missing_roles:
            return f"{state.email} lacks {', '.join(state.missing_roles)}"
        return f"{state.email} has {', '.join(ctx.config.roles)}"

    def outputs(self, ctx: Context, state: ServiceAccountState) -> dict[str, Any]:
        return {
            "email": state.email,
            "member": service_account_member(state.email),
            "roles": list(ctx.config.roles),
            "granted_roles": [r for r in ctx.config.roles if r not in state.missing_roles],
            "exists": state.account is not None,
            "created": state.created,
        }
