"""Billing: the project must be linked to an open billing account for Agent Platform (Vertex AI); the
Gemini API's free tier works without one. Links --billing-account when given. Without one, a project with
no billing is a supported outcome: the Gemini API is set up on its free tier, and the step says what waits
for billing (Vertex AI) and how to link; nothing fails.

What each path then has: Vertex AI bills the linked account. The Gemini API moves to Tier 1 with a linked
account, but pays from credits prepaid in AI Studio, and Cloud free-trial credits do not pay for it;
Google's APIs expose neither its tier nor the credits, so the step says so and links the AI Studio page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcp_setup import defaults
from gcp_setup.errors import GoogleApiError
from gcp_setup.google import billing
from gcp_setup.google.billing import BillingClient
from gcp_setup.steps.base import Action, Context, Step, StepInputError

NEEDS_BILLING = frozenset({defaults.VERTEX_AI_API, "compute.googleapis.com"})
"""APIs Google refuses to enable in a project without billing (UREQ_PROJECT_BILLING_NOT_FOUND)."""


@dataclass(frozen=True)
class BillingState:
    enabled: bool
    account: str
    """The linked account ID, "" when none."""
    requested_account_open: bool | None = None
    """Whether --billing-account is open; None when not asked (not given, already linked, or nothing is
    linked yet and apply will learn it from the link's answer)."""


def blocked_services(services: tuple[str, ...]) -> list[str]:
    return [s for s in services if s in NEEDS_BILLING]


class BillingStep(Step):
    name = "billing"
    depends_on = ("project",)

    def observe(self, ctx: Context) -> BillingState:
        info = BillingClient(ctx.session).billing_info(ctx.config.project)
        wanted = ctx.config.billing_account
        if wanted is None or (info.enabled and info.account == wanted):
            return BillingState(info.enabled, info.account)
        return BillingState(info.enabled, info.account, self._requested_account_open(ctx, info.account))

    def early_reads(self, ctx: Context) -> list[Callable[[], Any]]:
        """Is --billing-account open? On a first run here (the --env-file it is to write does not exist
        yet) the project is most likely still to be created, and the plan asks this before anything is
        written: asked with the first reads, it costs no round trip of its own. On a re-run (the file
        exists), or without an --env-file to tell, it is asked only when needed: the project is most
        likely linked already, and the read would be one more."""
        config = ctx.config
        if config.billing_account is None or config.env_file is None:
            return []
        if Path(config.env_file).expanduser().exists():
            return []
        return [lambda: BillingClient(ctx.session).account_is_open(config.billing_account)]

    def absent_state(self, ctx: Context) -> BillingState:
        wanted = ctx.config.billing_account
        return BillingState(False, "", self._requested_account_open(ctx, "") if wanted else None)

    @staticmethod
    def _requested_account_open(ctx: Context, linked: str) -> bool | None:
        """Is --billing-account open? Asked before relinking (a closed account would break a working
        link) and by plan (which should say so); with nothing linked, apply links at once and the
        link's answer says whether billing is on (None here)."""
        if not (linked or ctx.dry_run) or ctx.config.billing_account is None:
            return None
        try:
            return BillingClient(ctx.session).account_is_open(ctx.config.billing_account)
        except GoogleApiError as exc:
            if exc.code not in (403, 404):
                raise
            raise StepInputError(
                f"billing account {ctx.config.billing_account} does not exist or you may not use it",
                hint="check --billing-account against `gcloud billing accounts list`",
            ) from exc

    def plan(self, ctx: Context, state: BillingState) -> list[Action]:
        config = ctx.config
        wanted = config.billing_account
        if wanted is None:
            return []
        if state.enabled and state.account == wanted:
            return []
        if state.requested_account_open is False:
            raise StepInputError(
                f"billing account {wanted} is closed",
                hint="choose an open one: `gcloud billing accounts list --filter=open=true`",
            )
        was = f" (was {state.account})" if state.account else ""
        summary = f"link project {config.project} to billing account {wanted}{was}"
        return [Action("update", f"projects/{config.project}/billingInfo", summary, {"account": wanted})]

    def apply(self, ctx: Context, action: Action) -> billing.BillingInfo:
        return BillingClient(ctx.session).link(ctx.config.project, action.data["account"])

    def state_after(
        self, ctx: Context, state: BillingState, action: Action, answer: billing.BillingInfo
    ) -> BillingState:
        """Linked but still not enabled: Google took the link to a closed account (plan then says so)."""
        closed = answer.account == action.data["account"] and not answer.enabled
        return BillingState(answer.enabled, answer.account, False if closed else state.requested_account_open)

    def describe(self, ctx: Context, state: BillingState) -> str:
        if state.enabled:
            studio = defaults.AI_STUDIO_PROJECTS
            return (
                f"billing enabled (account {state.account}): {defaults.VERTEX_AI} bills it; the Gemini API "
                "pays only from credits prepaid in AI Studio, not from free-trial credits (no API shows its "
                f"tier or credits: {studio})"
            )
        return self._waiting(ctx.config.project, state, ctx.config.services)

    @staticmethod
    def _waiting(project: str, state: BillingState, services: tuple[str, ...]) -> str:
        """Not a failure: what works without billing, what waits for it, and how to link."""
        why = f"linked account {state.account} is closed" if state.account else "no billing account is linked"
        text = f"billing not enabled for {project} ({why}): the Gemini API works on its free tier"
        blocked = blocked_services(services)
        if not blocked:
            return text
        console = billing.CONSOLE_LINK.format(project=project)
        return (
            f"{text}; {defaults.VERTEX_AI} ({', '.join(blocked)}) waits for billing: pass --billing-account "
            f"ID, run `{billing.link_command(project)}`, or open {console}"
        )

    def outputs(self, ctx: Context, state: BillingState) -> dict[str, Any]:
        """In a dry run, a planned link counts as enabled, so that `plan` shows Vertex AI being enabled."""
        will_link = (
            ctx.dry_run
            and ctx.config.billing_account is not None
            and state.requested_account_open is not False
        )
        return {"enabled": state.enabled or will_link, "account": state.account}
