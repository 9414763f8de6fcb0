"""Who may impersonate the service account (roles/iam.serviceAccountTokenCreator on it): observed only.

`export terraform` runs it after the provisioning steps, so that the module's `impersonators` and their
imports come from a step's observation like everything else it exports. It plans nothing: granting is
the impersonation credentials step's business (steps/adc/impersonation.py).
"""

from __future__ import annotations

from typing import Any

from gcp_setup import defaults
from gcp_setup.google.iam import IamClient
from gcp_setup.google.iam_policy import unconditional_members
from gcp_setup.steps.base import Action, Context, Step
from gcp_setup.steps.service_account import account_email


class TokenCreatorsStep(Step):
    name = "token_creators"
    depends_on = ("service_account",)
    reads = {"service_account": ("exists",)}

    def enabled(self, config: Any) -> bool:
        return config.service_account is not None

    def observe(self, ctx: Context) -> frozenset[str]:
        if not ctx.output("service_account", "exists"):
            return frozenset()  # no account, no policy to read
        policy = IamClient(ctx.session).service_account_policy(ctx.config.project, account_email(ctx)).get()
        return frozenset(unconditional_members(policy, defaults.TOKEN_CREATOR))

    def absent_state(self, ctx: Context) -> frozenset[str]:
        return frozenset()

    def plan(self, ctx: Context, state: frozenset[str]) -> list[Action]:
        return []

    def describe(self, ctx: Context, state: frozenset[str]) -> str:
        who = ", ".join(sorted(state)) or "nobody"
        return f"{who} may impersonate {account_email(ctx)}"

    def outputs(self, ctx: Context, state: frozenset[str]) -> dict[str, Any]:
        return {"members": sorted(state)}
