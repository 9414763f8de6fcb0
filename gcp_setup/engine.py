"""Runs steps in dependency order: observe -> plan -> apply each action -> observe again.

    result = Engine().run(steps, ctx, mode="apply")     # mode: "plan" | "status" | "apply"
    result.ok, result.changes_pending, result.results    # one StepResult per step, in order

Independent steps run concurrently, each in its own thread, as soon as everything they depend on has
finished (the service account and the API key do not wait for each other). A failed step skips its
dependents; a disabled step (`enabled(config)` is False) does not. `destroy` uses the same engine with
steps whose plans are deletions.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

from gcp_setup.errors import GcpSetupError, UsageError
from gcp_setup.steps.base import Action, Context, Outcome, Step

Mode = Literal["plan", "status", "apply"]


@dataclass
class StepResult:
    name: str
    outcome: Outcome
    actions: list[Action] = field(default_factory=list)
    """Planned (plan/status) or applied (apply) actions."""
    detail: str = ""
    """describe() of the final state, or the error message of a failed step."""
    hint: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: BaseException | None = field(default=None, repr=False)
    """The exception behind a failure, for --verbosity debug."""
    blocks_dependents: bool = True
    """False for a failure later steps can live with (see StepError)."""


@dataclass
class RunResult:
    mode: Mode
    results: list[StepResult]

    @property
    def ok(self) -> bool:
        return all(r.outcome is not Outcome.FAILED for r in self.results)

    @property
    def changes_pending(self) -> bool:
        return any(r.outcome is Outcome.PLANNED for r in self.results)

    def by_name(self, name: str) -> StepResult | None:
        return next((r for r in self.results if r.name == name), None)


def order_steps(steps: list[Step]) -> list[Step]:
    """Topological order, stable with respect to the given order. Dependencies on steps that are not
    in the list count as satisfied (e.g. `destroy` runs a subset)."""
    names = {s.name for s in steps}
    done: set[str] = set()
    ordered: list[Step] = []
    remaining = list(steps)
    while remaining:
        ready = [s for s in remaining if all(d in done or d not in names for d in s.depends_on)]
        if not ready:
            cycle = ", ".join(s.name for s in remaining)
            raise UsageError(f"steps depend on each other in a cycle: {cycle}")
        for step in ready:
            ordered.append(step)
            done.add(step.name)
            remaining.remove(step)
    return ordered


class Engine:
    def __init__(self, max_workers: int = 8) -> None:
        self.max_workers = max_workers

    def run(self, steps: list[Step], ctx: Context, mode: Mode) -> RunResult:
        ordered = order_steps(steps)
        names = {s.name for s in ordered}
        ctx.dry_run = mode != "apply"
        results: dict[str, StepResult] = {}
        pending_upstream: set[str] = set()
        """plan/status: steps whose resources do not exist yet (planned changes or assumed absent)."""
        waiting = list(ordered)
        running: dict[Future, Step] = {}
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="step") as pool:
            while waiting or running:
                for step in [s for s in waiting if all(d in results or d not in names for d in s.depends_on)]:
                    waiting.remove(step)
                    blocked_by = [d for d in step.depends_on if _blocks(results.get(d))]
                    if blocked_by:
                        results[step.name] = StepResult(
                            step.name, Outcome.SKIPPED, detail=f"blocked by {', '.join(blocked_by)}"
                        )
                        continue
                    upstream_pending = any(d in pending_upstream for d in step.depends_on)
                    running[
                        pool.submit(self._run_step, step, ctx.for_step(step.name), mode, upstream_pending)
                    ] = step
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    step = running.pop(future)
                    result, assumed_absent = future.result()
                    results[step.name] = result
                    ctx.outputs[step.name] = result.outputs
                    if result.outcome is Outcome.PLANNED or assumed_absent:
                        pending_upstream.add(step.name)
        return RunResult(mode, [results[s.name] for s in ordered])

    def _run_step(
        self, step: Step, ctx: Context, mode: Mode, upstream_pending: bool
    ) -> tuple[StepResult, bool]:
        started = time.monotonic()
        if not step.enabled(ctx.config):
            return StepResult(step.name, Outcome.SKIPPED, detail="disabled by configuration"), False
        state: Any = _NOT_OBSERVED
        assumed_absent = False
        try:
            state, assumed_absent = _observe(step, ctx, upstream_pending)
            actions = step.plan(ctx, state)
            if actions and mode == "apply":
                for action in actions:
                    step.apply(ctx, action)
                state = step.observe(ctx)
                leftover = step.plan(ctx, state)
                if leftover:
                    raise GcpSetupError(
                        f"did not converge: still to do after apply: {leftover[0].summary}",
                        hint="run apply again; if it persists, report it with --verbosity debug",
                    )
            result = StepResult(
                step.name,
                _outcome(actions, mode),
                actions,
                step.describe(ctx, state),
                outputs=step.outputs(ctx, state),
            )
        except Exception as exc:  # a step's failure is its outcome; the run goes on with the rest
            message, hint = _explain(exc)
            outputs = {} if state is _NOT_OBSERVED else _safe_outputs(step, ctx, state)
            result = StepResult(
                step.name,
                Outcome.FAILED,
                [],
                message,
                hint,
                outputs,
                error=exc,
                blocks_dependents=getattr(exc, "blocks_dependents", True),
            )
        result.seconds = time.monotonic() - started
        return result, assumed_absent


_NOT_OBSERVED = object()


def _safe_outputs(step: Step, ctx: Context, state: Any) -> dict[str, Any]:
    """Outputs of a failed step, when its state allows computing them."""
    try:
        return step.outputs(ctx, state)
    except Exception:
        return {}


def _observe(step: Step, ctx: Context, upstream_pending: bool) -> tuple[Any, bool]:
    """Observe; in a dry run whose upstream resources do not exist yet, fall back to absent_state."""
    try:
        return step.observe(ctx), False
    except Exception:
        if not (ctx.dry_run and upstream_pending):
            raise
        state = step.absent_state(ctx)
        if state is None:
            raise
        return state, True


def _blocks(result: StepResult | None) -> bool:
    return result is not None and (
        (result.outcome is Outcome.FAILED and result.blocks_dependents)
        or (result.outcome is Outcome.SKIPPED and result.detail.startswith("blocked by"))
    )


def _outcome(actions: list[Action], mode: Mode) -> Outcome:
    if not actions:
        return Outcome.UNCHANGED
    if mode != "apply":
        return Outcome.PLANNED
    kinds = {a.kind for a in actions}
    if "create" in kinds and "delete" not in kinds:
        return Outcome.CREATED  # creating a resource may take follow-up updates (an account and its grant)
    if kinds == {"delete"}:
        return Outcome.DELETED
    return Outcome.UPDATED


def _explain(exc: Exception) -> tuple[str, str | None]:
    """(one-line message, hint) for any exception a step raised."""
    from gcp_setup.google.errors import as_google_api_error, explain

    if isinstance(exc, GcpSetupError):
        return str(exc), exc.hint
    api_error = as_google_api_error(exc)
    if api_error is not None:
        return str(api_error), api_error.hint
    return explain(exc), None
