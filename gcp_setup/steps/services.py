"""Services: enable the APIs gcp-setup needs (defaults.SERVICES plus --services). One batchGet per 20
services observes them; batchEnable turns on the missing ones, 20 at a time, skipping those that need
billing while the project has none (the billing step has already said so)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gcp_setup import defaults
from gcp_setup.errors import GoogleApiError
from gcp_setup.google import serviceusage
from gcp_setup.google.catalog import CatalogClient
from gcp_setup.google.serviceusage import ServiceUsageClient
from gcp_setup.steps.base import Action, Context, Step, StepInputError
from gcp_setup.steps.billing import NEEDS_BILLING

UNKNOWN_SERVICE = "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED"
KNOWN = frozenset((*defaults.SERVICES, *defaults.WORKLOAD_IDENTITY_SERVICES))
"""The services gcp-setup itself asks for: known to exist, never looked up."""


def _unknown(services: list[str]) -> StepInputError:
    return StepInputError(
        f"Google knows no service {', '.join(services)} (or it is not shared with you)",
        hint="check the name in --services, e.g. storage.googleapis.com (`gcloud services list --available`)",
    )


@dataclass(frozen=True)
class ServicesState:
    enabled: frozenset[str]
    """Those of the configured services that are enabled."""
    enabled_now: Mapping[str, float] = field(default_factory=dict)
    """Those this run enabled, and when (time.monotonic()): the steps after it wait out their
    SERVICE_DISABLED answers while the enablement propagates (Context.for_step)."""


class ServicesStep(Step):
    name = "services"
    depends_on = ("billing",)
    reads = {"billing": ("enabled",)}

    def observe(self, ctx: Context) -> ServicesState:
        try:
            enabled = ServiceUsageClient(ctx.session).enabled_among(ctx.config.project, ctx.config.services)
        except GoogleApiError as exc:
            if exc.reason == UNKNOWN_SERVICE:
                raise _unknown(exc.metadata.get("services", "").split(",")) from exc
            raise
        return ServicesState(frozenset(enabled))

    def absent_state(self, ctx: Context) -> ServicesState:
        """In a project still to be created, the services cannot be looked up: the plan asks Service
        Management about those beyond gcp-setup's own (none by default), before anything is created."""
        extra = [s for s in ctx.config.services if s not in KNOWN]
        unknown = CatalogClient(ctx.session).unknown_services(extra) if extra and ctx.dry_run else []
        if unknown:
            raise _unknown(unknown)
        return ServicesState(frozenset())

    def plan(self, ctx: Context, state: ServicesState) -> list[Action]:
        missing = [s for s in self._enableable(ctx) if s not in state.enabled]
        project = ctx.config.project
        return [
            Action(
                "create", f"projects/{project}/services", f"enable {', '.join(chunk)}", {"services": chunk}
            )
            for chunk in serviceusage.chunks(missing)
        ]

    def apply(self, ctx: Context, action: Action) -> set[str]:
        return ServiceUsageClient(ctx.session, ctx.progress_note).enable(
            ctx.config.project, action.data["services"]
        )

    def state_after(
        self, ctx: Context, state: ServicesState, action: Action, answer: set[str]
    ) -> ServicesState:
        now = dict.fromkeys(action.data["services"], time.monotonic())
        return ServicesState(
            state.enabled | (answer & set(ctx.config.services)), {**state.enabled_now, **now}
        )

    def _enableable(self, ctx: Context) -> list[str]:
        """The configured services, without those that need billing when billing is known to be off."""
        billing_off = ctx.output("billing", "enabled") is False
        return [s for s in ctx.config.services if not (billing_off and s in NEEDS_BILLING)]

    def describe(self, ctx: Context, state: ServicesState) -> str:
        wanted = ctx.config.services
        text = f"{len(state.enabled & set(wanted))} of {len(wanted)} APIs enabled"
        enableable = self._enableable(ctx)
        waiting = [s for s in wanted if s not in state.enabled and s not in enableable]
        if waiting:
            text += f"; {', '.join(waiting)} waits for billing"
        return text

    def outputs(self, ctx: Context, state: ServicesState) -> dict[str, Any]:
        return {"enabled": sorted(state.enabled), "enabled_now": dict(state.enabled_now)}
