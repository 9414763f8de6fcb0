"""Speculative observation: every enabled step's `observe` sent at the start of a run, at once.

A speculative observe sees, for each output its step declares it reads (`Step.reads`), what the
upstream step published before the run, or what that step's own speculation foresees it will publish
if it finds nothing to do (waited for only when read; absent if it has something to do). The values it
looked at are kept. When the step's turn comes the engine keeps the speculative state only if nothing
upstream changed anything and every value it looked at reads the same now (`Speculation.holds`), so on a
finished project (the no-op re-run every CI job does) the reads go out together instead of one after
another along the dependency chain, and none is sent twice.

The steps' early reads (`early_reads`: what no step changes) go out with them.
`Speculations.settle` waits until every speculation and early read has been answered; the engine calls
it before a run's first write, so no speculative read ever races a write.

In a fleet many projects speculate at once, and under the GIL their first reads would go out
interleaved: one project's six reads spread over the time all the others' take to prepare, several
round trips' worth. A fleet therefore lets only a few projects send their first reads at a time
(`Schedule.first_reads_gate`): a project holds the gate until each of its speculative observes has
started its first request or ended, then the next project sends its own together.

A fleet is bound by its one process's CPU, not by round trips, and on a new project every read below the
project is wasted: the engine starts those steps from their absent state, however their reads answered.
So in a fleet (`Schedule.after_roots`) only the roots (the steps that depend on no other:
the project) speculate at once; the others do once every root has foreseen, and not at all below a step
that will change things. A new project costs one first read instead of six, a finished one two waves of
reads instead of one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from gcp_setup.steps.base import UNKNOWN, Action, Context, Step

ABSENT: Any = object()
"""What a step publishes (or is foreseen to publish) when it has not published, or will change things."""


@dataclass(frozen=True)
class Schedule:
    """When a run's speculative reads go out: the policy a caller hands to the engine (module docstring).
    One project: all at once; a fleet shares one gate among its projects and speculates after the roots."""

    first_reads_gate: threading.Semaphore | None = None
    """How many projects send their first reads at once; None: no limit."""
    after_roots: bool = False
    """The reads below the root steps wait until every root has foreseen what it publishes."""


ONE_PROJECT = Schedule()


class SavesRequests(Protocol):
    """The optional hooks a step may add to the core contract (steps/base.py) so that the engine sends
    fewer requests; a step without them works the same, at the cost of reads. The engine calls them
    through the functions below, which give each hook's neutral answer when the step has none."""

    def early_reads(self, ctx: Context) -> list[Callable[[], Any]]:
        """Reads of things no step changes (is --billing-account open?), sent with the first reads,
        before any step's turn. Each goes through GoogleSession.read_once, so that the step's own call
        later finds the answer instead of asking again; an error is left for that call to report."""
        ...

    def absent_state(self, ctx: Context) -> Any:
        """The state observe would see if an upstream step had not created its resource yet (a project
        still to be created, an API still to be enabled): used inside a resource this run creates, and by
        `plan` when observe fails because of a pending upstream change. None: no such assumption."""
        ...

    def state_after(self, ctx: Context, state: Any, action: Action, answer: Any) -> Any:
        """The state once `action` is applied, from the state before it and `answer` (what apply
        returned: Google answers a write with the resource as it now is). UNKNOWN: observe again."""
        ...

    def created_anew(self, ctx: Context, state: Any) -> bool:
        """True when this run creates the step's resource (in a dry run: is to create it) and every
        later step's resources live inside it, so none of them exists yet: they start from their
        absent_state instead of reading (a new project costs no read of what is inside it)."""
        ...


def early_reads_of(step: Step, ctx: Context) -> list[Callable[[], Any]]:
    hook = getattr(step, "early_reads", None)
    return hook(ctx) if hook else []


def absent_state_of(step: Step, ctx: Context) -> Any:
    hook = getattr(step, "absent_state", None)
    return hook(ctx) if hook else None


def state_after_of(step: Step, ctx: Context, state: Any, action: Action, answer: Any) -> Any:
    hook = getattr(step, "state_after", None)
    return hook(ctx, state, action, answer) if hook else UNKNOWN


def created_anew_of(step: Step, ctx: Context, state: Any) -> bool:
    hook = getattr(step, "created_anew", None)
    return bool(hook(ctx, state)) if hook else False


@dataclass
class Speculation:
    state: Any
    seen: dict[tuple[str, str, Any], Any] = field(default_factory=dict)
    """(step, key, default) -> the value the speculative observe read."""

    def holds(self, ctx: Context) -> bool:
        """Every value the observe read is what `ctx` (the step's real context) reads now."""
        return all(_read(ctx.outputs, *look) == value for look, value in self.seen.items())


def _read(outputs: dict[str, dict[str, Any]], step: str, key: str, default: Any) -> Any:
    return outputs.get(step, {}).get(key, default)


@dataclass
class _SpeculativeContext(Context):
    """A step's context during its speculative observe: `output()` answers from what was published
    before the run or what the upstream speculations foresee, and notes what it answered."""

    foreseen: dict[str, Future[Any]] = field(default_factory=dict)
    seen: dict[tuple[str, str, Any], Any] = field(default_factory=dict)

    def output(self, step: str, key: str, default: Any = None) -> Any:
        self.check_declared(step, key)
        published = self.foreseen[step].result() if step in self.foreseen else self.outputs.get(step, ABSENT)
        value = default if published is ABSENT else published.get(key, default)
        self.seen[(step, key, default)] = value
        return value


class Speculations:
    """The speculative observes of one run, started together on `pool`."""

    def __init__(
        self,
        ordered: list[Step],
        ctx: Context,
        pool: ThreadPoolExecutor,
        early_reads: bool = True,
        schedule: Schedule = ONE_PROJECT,
    ) -> None:
        """`early_reads`: send the steps' early reads too (a plan or apply; `status` only reports)."""
        self._pool = pool
        self._gate = schedule.first_reads_gate
        self._published = dict(ctx.outputs)  # a copy: the speculations must not see the run's own outputs
        self._foreseen: dict[str, Future[Any]] = {s.name: Future() for s in ordered}
        self._contexts = {s.name: ctx.for_step(s) for s in ordered if s.enabled(ctx.config)}  # enabled steps
        self._upstream = {s.name: _upstream(s, ordered) for s in ordered}
        self.futures: dict[str, Future[Speculation | None]] = {name: Future() for name in self._contexts}
        self.early: list[Future[Any]] = [
            pool.submit(read)
            for step in ordered
            if early_reads and step.name in self._contexts
            for read in early_reads_of(step, self._contexts[step.name])
        ]
        for step in ordered:
            if step.name not in self._contexts:
                self._foreseen[step.name].set_result({})  # what a disabled step publishes
        enabled = [s for s in ordered if s.name in self._contexts]
        roots = [s for s in enabled if not self._upstream[s.name] & self._contexts.keys()]
        if schedule.after_roots and len(roots) < len(enabled):
            rest = [s for s in enabled if s not in roots]
            pool.submit(self._launch_below_roots, [self._foreseen[s.name] for s in roots], rest)
            enabled = roots
        self._launch(enabled)

    def _launch(self, steps: list[Step]) -> None:
        """Start the speculative observes of `steps` (in topological order) together, under the fleet's
        gate. Should one fail to start, it and those after it settle with the error."""
        burst = _Burst(len(steps), self._gate)
        started = 0
        try:
            for step in steps:
                sent = burst.member()
                step_ctx = self._contexts[step.name]
                spec_ctx = _SpeculativeContext(
                    **{
                        **vars(step_ctx),
                        "outputs": self._published,
                        "session": step_ctx.session.announcing(sent),
                    },
                    foreseen={name: self._foreseen[name] for name in self._upstream[step.name]},
                )
                into = self.futures[step.name]
                into.add_done_callback(_when_done(sent))  # ended without a request
                self._pool.submit(_speculate, step, spec_ctx, self._foreseen[step.name], into)
                started += 1
        except BaseException as exc:
            burst.end()
            for step in steps[started:]:
                self._settle_as(step, exc)
            raise

    def _launch_below_roots(self, roots: list[Future[Any]], rest: list[Step]) -> None:
        """Once the roots have foreseen: the other steps' speculative observes, but none below a step
        that will change things (the engine observes those again after the change anyway)."""
        wait(roots)
        for step in rest:
            if any(_changes(self._foreseen[name]) for name in self._upstream[step.name]):
                self._settle_as(step, None)
        self._launch([s for s in rest if not self.futures[s.name].done()])

    def _settle_as(self, step: Step, speculation: BaseException | None) -> None:
        """The step gets no speculation (None), or `speculation`, an error; its dependents foresee nothing."""
        self._foreseen[step.name].set_result(ABSENT)
        if speculation is None:
            self.futures[step.name].set_result(None)
        else:
            self.futures[step.name].set_exception(speculation)

    def get(self, name: str) -> Future[Speculation | None] | None:
        return self.futures.get(name)

    def settle(self) -> None:
        """Wait until every speculative observe and early read has been answered."""
        wait([*self.futures.values(), *self.early])


class _Burst:
    """One run's first reads under a fleet's gate (module docstring): taken now, given back once every
    member has called its callback (its first request is going out, or its observe ended)."""

    def __init__(self, members: int, gate: threading.Semaphore | None) -> None:
        self.gate = gate
        self.waiting = members
        self.lock = threading.Lock()
        if gate is not None:
            gate.acquire()
        if members == 0:
            self.end()

    def member(self) -> Callable[[], None]:
        """A member's callback; only its first call counts."""
        called = False

        def sent() -> None:
            nonlocal called
            with self.lock:
                if called:
                    return
                called = True
                self.waiting -= 1
                last = self.waiting == 0
            if last:
                self.end()

        return sent

    def end(self) -> None:
        with self.lock:
            gate, self.gate = self.gate, None
        if gate is not None:
            gate.release()


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


def _speculate(
    step: Step, ctx: _SpeculativeContext, foreseen: Future[Any], into: Future[Speculation | None]
) -> None:
    """observe() before the step's turn into `into` (an exception discards the speculation), then
    foresee the step's outputs for its dependents' speculations: published if it will find nothing to do."""
    outputs: Any = ABSENT
    try:
        state = step.observe(ctx)
        outputs = _foreseen_outputs(step, ctx, state)
        into.set_result(Speculation(state, ctx.seen))
    except BaseException as exc:
        into.set_exception(exc)
    finally:
        foreseen.set_result(outputs)


def _when_done(callback: Callable[[], None]) -> Callable[[Future[Any]], None]:
    return lambda _: callback()


def _changes(foreseen: Future[Any]) -> bool:
    """The step behind `foreseen` has already foreseen that it will change things (or could not tell)."""
    return foreseen.done() and foreseen.result() is ABSENT


def _foreseen_outputs(step: Step, ctx: Context, state: Any) -> Any:
    try:
        return ABSENT if step.plan(ctx, state) else step.outputs(ctx, state)
    except Exception:  # plan refused: whatever the step publishes then, dependents observe again
        return ABSENT
