"""Step: delete the keys a new key replaced (a migration from a standard key, a rotation, a repair),
once the .env holds the new key and the smoke test has passed with it.

It runs after the smoke test (commands/provision.py runs it as a second phase; `plan` and `status`
show it with the rest), and not at all when the smoke test failed: the old key then still works for
whatever used it. --keep-old-key keeps them for this run; the next apply without it deletes them.
Deleted keys are soft-deleted: Google keeps them restorable for 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gcp_setup.google.apikeys import ApiKeysClient
from gcp_setup.steps.base import Action, Context, Step

KEY_STEPS = ("api_key", "express_key")


@dataclass
class RetireState:
    names: list[str] = field(default_factory=list)


class RetireKeysStep(Step):
    name = "old_keys"
    depends_on = (*KEY_STEPS, "env_file", "github_env")  # gone only once the .env holds the new key
    reads = {step: ("retire",) for step in KEY_STEPS}

    def enabled(self, config: Any) -> bool:
        return bool(config.api_key or config.vertex_express)

    def observe(self, ctx: Context) -> RetireState:
        """What the key steps found to retire, in the list they read this run (no request)."""
        return RetireState([name for step in KEY_STEPS for name in ctx.output(step, "retire", [])])

    def plan(self, ctx: Context, state: RetireState) -> list[Action]:
        if ctx.config.keep_old_key:
            return []
        return [
            Action("delete", name, f"delete replaced key {_id(name)} (after the smoke test)")
            for name in state.names
        ]

    def apply(self, ctx: Context, action: Action) -> None:
        ApiKeysClient(ctx.session, ctx.progress_note).delete({"name": action.resource})

    def state_after(self, ctx: Context, state: RetireState, action: Action, answer: None) -> RetireState:
        return RetireState([n for n in state.names if n != action.resource])

    def describe(self, ctx: Context, state: RetireState) -> str:
        if not state.names:
            return "no replaced key left"
        kept = ", ".join(_id(n) for n in state.names)
        return f"keeping replaced key(s) {kept} (--keep-old-key)" if ctx.config.keep_old_key else kept


def _id(name: str) -> str:
    return name.rsplit("/", 1)[-1]
