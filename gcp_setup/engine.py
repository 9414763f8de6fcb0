"""Runs steps in dependency order: observe -> plan -> apply each action -> check the state they left.

    result = Engine().run(steps, ctx, mode="apply")     # mode: "plan" | "status" | "apply"
    result.ok, result.changes_pending, result.results    # one StepResult per step, in order

Independent steps run concurrently, each in its own thread, as soon as everything they depend on has
finished (the service account and the API key do not wait for each other). A failed step skips its
dependents; a disabled step (`enabled(config)` is False) does not. `destroy` uses the same engine with
steps whose plans are deletions.

Observation is speculative: at the start every enabled step's `observe` is sent at once, and the
outputs it reads are recorded. An output of an upstream step is what that step's own speculation
foresees it will publish if it finds nothing to do (waited for only when read; absent if it has
something to do). When the step's turn comes the engine keeps that state only if nothing upstream of
it changed anything (applied, or in a dry run planned or assumed absent) and every recorded output
reads the same now; otherwise it observes again, as if there had been no speculation. On a finished
project (the no-op re-run every CI job does) the reads therefore go out at once instead of one after
another along the dependency chain, and no read is sent twice.

Speculation never races a write: a step's first action waits until every speculative observe of the run
has finished. So every speculative read leaves, and is answered, before the first write of the run
leaves, and what a run sends does not depend on thread timing: a read speculated against a project
about to be created is answered "absent" (and dropped), never sent after the create where it would read
a half-made project. The cost is small: the speculations go out together at the start, with the reads
the first write waits for anyway (measured in bench/README.md). Then, if a step's speculative plan
raised PreconditionFailed (an organization policy that would refuse a later write), nothing is written:
every step that would write is `blocked`, and that step reports the failure and its fix.

After a step's actions, its state is what `state_after` makes of the writes' answers; only a step that
cannot tell is observed again. Below a step that creates the resource everything else lives in (the
project: `created_anew`), every step starts from its `absent_state` without reading. So a bootstrap
spends its round trips on the writes and their operations, not on reading back what it just made or
what cannot exist yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from gcp_setup.errors import GcpSetupError, UsageError
from gcp_setup.steps.base import UNKNOWN, Action, Context, Outcome, PreconditionFailed, Step

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
        changed: set[str] = set()
        """Steps that changed something (or, in a dry run, would), or depend on one that did: their
        dependents observe again instead of trusting a speculation made before the change."""
        anew: set[str] = set()
        """Steps that created the resource the later steps live in (created_anew), or depend on one
        that did: their dependents start from absent_state."""
        waiting = list(ordered)
        running: dict[Future, Step] = {}
        # Leaving the `with` waits for speculations still in flight, so no read outlives the run.
        with (
            ThreadPoolExecutor(max_workers=max(1, len(ordered)), thread_name_prefix="observe") as observers,
            ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="step") as pool,
        ):
            speculations = _Speculations(ordered, ctx, observers)
            while waiting or running:
                for step in [s for s in waiting if all(d in results or d not in names for d in s.depends_on)]:
                    waiting.remove(step)
                    blocked_by = [d for d in step.depends_on if _blocks(results.get(d))]
                    # A step whose failed precondition stopped the run is not blocked by the steps it
                    # stopped: its own turn reports what failed and the fix.
                    if blocked_by and step.name not in speculations.stoppers():
                        results[step.name] = StepResult(
                            step.name, Outcome.BLOCKED, detail=f"blocked by {', '.join(blocked_by)}"
                        )
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
                            ctx.for_step(step.name),
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
                    step = running.pop(future)
                    step_run: _StepRun = future.result()
                    results[step.name] = step_run.result
                    ctx.outputs[step.name] = step_run.result.outputs
                    if step_run.result.outcome is Outcome.PLANNED or step_run.assumed_absent:
                        pending_upstream.add(step.name)
                    if step_run.changed or any(d in changed for d in step.depends_on):
                        changed.add(step.name)
                    if step_run.created_anew or any(d in anew for d in step.depends_on):
                        anew.add(step.name)
        return RunResult(mode, [results[s.name] for s in ordered])

    def _run_step(
        self,
        step: Step,
        ctx: Context,
        mode: Mode,
        upstream: _Upstream,
        speculation: Future[_Speculation] | None,
        settle: Callable[[], None],
    ) -> _StepRun:
        started = time.monotonic()
        if not step.enabled(ctx.config):
            return _StepRun(StepResult(step.name, Outcome.SKIPPED, detail="disabled by configuration"))
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
            created_anew = step.created_anew(ctx, state)
        except _RunStopped as stop:
            result = StepResult(step.name, Outcome.BLOCKED, actions, str(stop))
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
            state = step.state_after(ctx, state, action, answer)
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
    """The step created the resource its dependents live in (Step.created_anew)."""


_ABSENT = object()
"""A step that has published no outputs (yet)."""


@dataclass
class _Read:
    """One look at ctx.outputs during a speculative observe: a key of one step's outputs, that step's
    whole outputs (key None), or which steps have published any (step None)."""

    step: str | None
    key: str | None = None
    default: Any = None
    value: Any = None

    def current(self, outputs: Mapping[str, dict[str, Any]]) -> Any:
        if self.step is None:
            return frozenset(outputs)
        published = outputs.get(self.step, _ABSENT)
        if self.key is None:
            return published
        return self.default if published is _ABSENT else published.get(self.key, self.default)


class _ForeseenOutputs(Mapping[str, dict[str, Any]]):
    """The outputs a speculative observe can know: those published before the run, and those its
    upstream steps will publish if their own speculations find nothing to do (waited for; absent
    otherwise). In a no-op run that is exactly what they publish, so the speculation holds."""

    def __init__(self, published: dict[str, dict[str, Any]], upstream: dict[str, Future]) -> None:
        self.published, self.upstream = published, upstream

    def __getitem__(self, step: str) -> dict[str, Any]:
        value = self.upstream[step].result() if step in self.upstream else self.published.get(step, _ABSENT)
        if value is _ABSENT:
            raise KeyError(step)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter([step for step in {**self.published, **self.upstream} if step in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _RecordedOutputs(Mapping[str, dict[str, Any]]):
    """ctx.outputs as a speculative observe sees it, with every read recorded so that the engine can
    check, when the step's turn comes, that it still reads the same."""

    def __init__(self, source: Mapping[str, dict[str, Any]]) -> None:
        self.source = source
        self.reads: list[_Read] = []

    def record(self, read: _Read) -> Any:
        read.value = read.current(self.source)
        self.reads.append(read)
        return read.value

    def still_hold(self, outputs: Mapping[str, dict[str, Any]]) -> bool:
        return all(read.value == read.current(outputs) for read in self.reads)

    def __getitem__(self, step: str) -> dict[str, Any]:
        value = self.record(_Read(step))
        if value is _ABSENT:
            raise KeyError(step)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.record(_Read(None)))

    def __len__(self) -> int:
        return len(self.record(_Read(None)))


class _SpeculativeContext(Context):
    """The context of a speculative observe: `output()` reads, and records, the foreseen outputs."""

    outputs: _RecordedOutputs  # type: ignore[assignment]

    def output(self, step: str, key: str, default: Any = None) -> Any:
        return self.outputs.record(_Read(step, key, default))


@dataclass
class _Speculation:
    state: Any
    reads: _RecordedOutputs
    stop: PreconditionFailed | None = None
    """What the step's plan of this state raised to stop the run's writes."""


class _RunStopped(Exception):
    """Raised instead of a step's first write when a speculative plan found a failed precondition."""


class _Speculations:
    """Every enabled step's speculative observe, all started at once (see the module docstring)."""

    def __init__(self, ordered: list[Step], ctx: Context, pool: ThreadPoolExecutor) -> None:
        self.futures = _speculate_all(ordered, ctx, pool)

    def get(self, name: str) -> Future[_Speculation] | None:
        return self.futures.get(name)

    def settle(self) -> None:
        """Called before a step's first write: wait until every speculation has been answered, then
        raise _RunStopped if one found a failed precondition."""
        wait(self.futures.values())
        stoppers = self.stoppers()
        if stoppers:
            raise _RunStopped(f"blocked by {', '.join(stoppers)}: nothing is written while it fails")

    def stoppers(self) -> list[str]:
        """The steps whose finished speculation found a failed precondition."""
        return [
            name
            for name, future in self.futures.items()
            if future.done() and not future.exception() and future.result().stop is not None
        ]


def _speculate_all(ordered: list[Step], ctx: Context, pool: ThreadPoolExecutor) -> dict[str, Future]:
    """Start every enabled step's speculative observe; {step name: future of its _Speculation}."""
    published = dict(ctx.outputs)  # copied here: the speculations must not see the run's own outputs
    shared = {f.name: getattr(ctx, f.name) for f in fields(Context)}
    foreseen: dict[str, Future] = {s.name: Future() for s in ordered}
    speculations = {}
    for step in ordered:
        if not step.enabled(ctx.config):
            foreseen[step.name].set_result({})  # what a disabled step publishes
            continue
        upstream = {name: foreseen[name] for name in _upstream(step, ordered)}
        view = _RecordedOutputs(_ForeseenOutputs(published, upstream))
        spec_ctx = _SpeculativeContext(**{**shared, "outputs": view, "step": step.name})
        speculations[step.name] = pool.submit(_speculate, step, spec_ctx, foreseen[step.name])
    return speculations


def _upstream(step: Step, ordered: list[Step]) -> set[str]:
    """The names of the steps `step` depends on, directly or not, among `ordered` (a topological order)."""
    by_name = {s.name: s for s in ordered}
    found: set[str] = set()
    todo = [d for d in step.depends_on if d in by_name]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(d for d in by_name[name].depends_on if d in by_name)
    return found


def _speculate(step: Step, ctx: _SpeculativeContext, foreseen: Future) -> _Speculation:
    """observe() before the step's turn (an exception discards the speculation), then foresee the
    step's outputs for its dependents' speculations: published if it will find nothing to do."""
    outputs: Any = _ABSENT
    try:
        state = step.observe(ctx)
        outputs, stop = _foresee(step, ctx, state)
        return _Speculation(state, ctx.outputs, stop)
    finally:
        foreseen.set_result(outputs)


def _foresee(step: Step, ctx: Context, state: Any) -> tuple[Any, PreconditionFailed | None]:
    """(the outputs the step will publish if it finds nothing to do, else _ABSENT; a failed precondition)."""
    try:
        return (_ABSENT if step.plan(ctx, state) else step.outputs(ctx, state)), None
    except PreconditionFailed as stop:
        return _ABSENT, stop
    except Exception:  # plan refused: whatever the step publishes then, dependents observe again
        return _ABSENT, None


def _first_observation(
    step: Step, ctx: Context, upstream: _Upstream, speculation: Future[_Speculation] | None
) -> tuple[Any, bool]:
    """(state, assumed absent): absent_state inside a resource created anew, else the speculative
    observation when nothing it read has changed since, else a fresh one."""
    if upstream.anew:
        state = step.absent_state(ctx)
        if state is not None:
            return state, True
    if speculation is not None:
        try:
            guess: _Speculation | None = speculation.result()
        except Exception:  # a failed speculation costs its reads and nothing else
            guess = None
        if guess is not None and guess.reads.still_hold(ctx.outputs):
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
        state = step.absent_state(ctx)
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
