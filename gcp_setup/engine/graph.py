"""Runs steps in dependency order: observe -> plan -> apply each action -> the state they left.

    result = Engine().run(steps, ctx, mode="apply")     # mode: "plan" | "status" | "apply"
    result.ok, result.changes_pending, result.results    # one StepResult per step, in order

Independent steps run concurrently, each in its own thread (threads the process's runs share, see
`_pool`), as soon as everything they depend on has finished (the service account's role grant and the
API key bound to it do not wait for each other). A failed step blocks its dependents; a disabled step
(`enabled(config)` is False) does not. `destroy` uses the same engine with steps whose plans are
deletions. The caller's context is never changed: the run works on a copy, and its outputs come back in
the RunResult.

First observations are speculative (engine/speculation.py); a step's first write waits until every
speculative read has been answered. After a step's actions, its state is what `state_after` makes of the
writes' answers; only a step that cannot tell is observed again. Below a step that creates the resource
everything else lives in (the project: `created_anew`), every step starts from its `absent_state`
without reading. What a run costs in requests: docs/provisioning.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from gcp_setup.engine.speculation import (
    ONE_PROJECT,
    Schedule,
    Speculation,
    Speculations,
    absent_state_of,
    created_anew_of,
    state_after_of,
)
from gcp_setup.errors import GcpSetupError, UsageError
from gcp_setup.google.errors import as_google_api_error, explain
from gcp_setup.settings.fleet import MAX_PARALLELISM
from gcp_setup.steps.base import UNKNOWN, Action, Context, Outcome, Step

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
    speculations: Speculations | None = field(default=None, repr=False, compare=False)
    """The run's speculative observations, which an apply right after a plan reuses (Engine.run)."""
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    """Every step's outputs, those published before the run included (what later runs may read)."""

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
    in the list count as satisfied (e.g. `destroy` runs a subset). A step may read only the outputs of
    steps it depends on."""
    for step in steps:
        undeclared = set(step.reads) - set(step.depends_on)
        if undeclared:
            raise UsageError(
                f"step {step.name} reads {', '.join(sorted(undeclared))} without depending on it"
            )
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


_POOLS: dict[str, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()
TASKS_PER_RUN = 64
"""The most tasks one run has in a pool at once: a step each, an early read each, one launcher (a full
apply has 17 steps; tests/engine/test_engine.py holds the sum under this)."""
POOL_THREADS = MAX_PARALLELISM * TASKS_PER_RUN
"""As many threads as the largest fleet's runs can ask for at once: a task then never waits in the queue
behind a blocked one (speculations wait for each other, steps for speculations), so the pools cannot
deadlock, and a runaway cannot make threads without end."""


def _pool(kind: str) -> ThreadPoolExecutor:
    """The process's threads for `kind` ("observe", "step"), shared by every run, a fleet's included: a
    thread idle after one run serves the next instead of one made anew (a fleet of 50 projects made and
    ended 750 threads)."""
    with _POOLS_LOCK:
        if kind not in _POOLS:
            _POOLS[kind] = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix=kind)
        return _POOLS[kind]


STREAMED = frozenset({Outcome.CREATED, Outcome.UPDATED, Outcome.DELETED, Outcome.FAILED})
"""What apply's live line says as each step finishes, before its table: what changed, or failed."""


@dataclass(frozen=True)
class Engine:
    schedule: Schedule = ONE_PROJECT
    """When speculative reads go out (engine/speculation.py): a fleet hands its own."""

    def run(self, steps: list[Step], ctx: Context, mode: Mode, after: RunResult | None = None) -> RunResult:
        """`after`: the plan this run carries out, made moments ago with the same steps and session; its
        speculative observations stand in for this run's (checked as any speculation is), so applying a
        plan costs no read twice."""
        ordered = order_steps(steps)
        names = {s.name for s in ordered}
        ctx = replace(ctx, dry_run=mode != "apply", outputs=dict(ctx.outputs))
        results: dict[str, StepResult] = {}
        pending_upstream: set[str] = set()
        """plan/status: steps whose resources do not exist yet (planned changes or assumed absent)."""
        changed: set[str] = set()
        """Steps that changed something (or, in a dry run, would), or depend on one that did: their
        dependents observe again instead of trusting a speculation made before the change."""
        anew: set[str] = set()
        """Steps that created the resource the later steps live in (created_anew), or depend on one
        that did: their dependents start from absent_state."""
        waiting = list(ordered)
        running: dict[Future[Any], Step] = {}

        def record(step: Step, step_run: _StepRun) -> None:
            results[step.name] = step_run.result
            ctx.outputs[step.name] = step_run.result.outputs
            live = getattr(ctx.progress, "live", None)  # a terminal's Progress (report.py) has one
            if live is not None and mode == "apply" and step_run.result.outcome in STREAMED:
                done = step_run.result
                live(step.name, f"{done.outcome.value} in {done.seconds:.2f} s")
            if step_run.result.outcome is Outcome.PLANNED or step_run.assumed_absent:
                pending_upstream.add(step.name)
            if step_run.changed or any(d in changed for d in step.depends_on):
                changed.add(step.name)
            if step_run.created_anew or any(d in anew for d in step.depends_on):
                anew.add(step.name)

        pool = _pool("step")
        speculations = (
            after.speculations
            if after and after.speculations
            else Speculations(ordered, ctx, _pool("observe"), mode != "status", self.schedule)
        )
        try:
            while waiting or running:
                for step in [s for s in waiting if all(d in results or d not in names for d in s.depends_on)]:
                    waiting.remove(step)
                    blocked_by = [d for d in step.depends_on if _blocks(results.get(d))]
                    if blocked_by:
                        results[step.name] = StepResult(
                            step.name, Outcome.BLOCKED, detail=f"blocked by {', '.join(blocked_by)}"
                        )
                        continue
                    if not step.enabled(ctx.config):  # no thread for a step with nothing to do
                        skipped = StepResult(step.name, Outcome.SKIPPED, detail="disabled by configuration")
                        record(step, _StepRun(skipped))
                        continue
                    upstream = _Upstream(
                        pending=any(d in pending_upstream for d in step.depends_on),
                        anew=any(d in anew for d in step.depends_on),
                    )
                    upstream_changed = any(d in changed for d in step.depends_on)
                    speculation = None if upstream_changed else speculations.get(step.name)
                    running[
                        pool.submit(
                            self._run_step,
                            step,
                            ctx.for_step(step),
                            mode,
                            upstream,
                            speculation,
                            speculations.settle,
                        )
                    ] = step
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    record(running.pop(future), future.result())
        finally:  # nothing of this run outlives it: no step, no speculative read
            wait(running)
            speculations.settle()
        return RunResult(mode, [results[s.name] for s in ordered], speculations, ctx.outputs)

    def _run_step(
        self,
        step: Step,
        ctx: Context,
        mode: Mode,
        upstream: _Upstream,
        speculation: Future[Speculation | None] | None,
        settle: Callable[[], None],
    ) -> _StepRun:
        started = time.monotonic()
        state: Any = _NOT_OBSERVED
        assumed_absent = changed = created_anew = False
        try:
            state, assumed_absent = _first_observation(step, ctx, upstream, speculation)
            changed = assumed_absent
            actions = step.plan(ctx, state)
            changed = changed or bool(actions)  # apply: set before the first mutation, which may fail
            if actions and mode == "apply":
                settle()  # no speculative read may leave after a write (module docstring)
                state = _apply_all(step, ctx, state, actions)
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
            created_anew = created_anew_of(step, ctx, state)
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
        return _StepRun(result, assumed_absent, changed, created_anew)


def _apply_all(step: Step, ctx: Context, state: Any, actions: list[Action]) -> Any:
    """Apply the actions in order; the state they leave, from the writes' answers when the step can
    tell it (state_after), else observed again."""
    for action in actions:
        answer = step.apply(ctx, action)
        if state is not UNKNOWN:
            state = state_after_of(step, ctx, state, action, answer)
    return step.observe(ctx) if state is UNKNOWN else state


@dataclass(frozen=True)
class _Upstream:
    """What the steps a step depends on did, as far as its first observation is concerned."""

    pending: bool = False
    """plan/status: an upstream resource does not exist yet (planned, or assumed absent)."""
    anew: bool = False
    """An upstream step created (or, in a dry run, is to create) the resource this step lives in."""


@dataclass
class _StepRun:
    result: StepResult
    assumed_absent: bool = False
    """The step started from its absent_state: its resources are assumed not to exist yet."""
    changed: bool = False
    """Actions were applied (or attempted), or in a dry run planned or assumed."""
    created_anew: bool = False
    """The step created the resource its dependents live in (its created_anew hook)."""


def _first_observation(
    step: Step, ctx: Context, upstream: _Upstream, speculation: Future[Speculation | None] | None
) -> tuple[Any, bool]:
    """(state, assumed absent): absent_state inside a resource created anew, else the speculative
    observation when nothing it read has changed since, else a fresh one."""
    if upstream.anew:
        state = absent_state_of(step, ctx)
        if state is not None:
            return state, True
    if speculation is not None:
        try:
            guess: Speculation | None = speculation.result()
        except Exception as exc:  # a failed speculation costs its reads and nothing else,
            if getattr(exc, "final", False):  # unless asking again is futile (no answer in time)
                raise
            guess = None
        if guess is not None and guess.holds(ctx):
            return guess.state, False
    return _observe(step, ctx, upstream.pending)


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
        state = absent_state_of(step, ctx)
        if state is None:
            raise
        return state, True


def _blocks(result: StepResult | None) -> bool:
    return result is not None and (
        (result.outcome is Outcome.FAILED and result.blocks_dependents) or result.outcome is Outcome.BLOCKED
    )


def _outcome(actions: list[Action], mode: Mode) -> Outcome:
    if not actions:
        return Outcome.UNCHANGED
    if mode != "apply":
        return Outcome.PLANNED
    kinds = {a.kind for a in actions}
    if "create" in kinds and "delete" not in kinds:
        return Outcome.CREATED  # creating a resource may take follow-up updates (an account and its grant)
    if "delete" in kinds:
        return Outcome.DELETED  # what goes may first lose its grants (a service account and its roles)
    return Outcome.UPDATED


def _explain(exc: Exception) -> tuple[str, str | None]:
    """(one-line message, hint) for any exception a step raised."""
    if isinstance(exc, GcpSetupError):
        return str(exc), exc.hint
    api_error = as_google_api_error(exc)
    if api_error is not None:
        return str(api_error), api_error.hint
    return explain(exc), None
