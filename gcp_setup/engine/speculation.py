"""Speculative observation: every enabled step's `observe` sent at the start of a run, at once.

A speculative observe sees, for each output its step declares it reads (`Step.reads`), what the
upstream step published before the run, or what that step's own speculation foresees it will publish
if it finds nothing to do (waited for only when read; absent if it has something to do). The values it
looked at are kept. When the step's turn comes the engine keeps the speculative state only if nothing
upstream changed anything and every value it looked at reads the same now (`Speculation.holds`), so on a
finished project (the no-op re-run every CI job does) the reads go out together instead of one after
another along the dependency chain, and none is sent twice.

The steps' early reads (`Step.early_reads`: what no step changes) go out with them.
`Speculations.settle` waits until every speculation and early read has been answered; the engine calls
it before a run's first write, so no speculative read ever races a write.

In a fleet many projects speculate at once, and under the GIL their first reads would go out
interleaved: one project's six reads spread over the time all the others' take to prepare, several
round trips' worth. A fleet therefore lets only a few projects send their first reads at a time
(`GoogleSession.first_reads_gate`): a project holds the gate until each of its speculative observes has
started its first request or ended, then the next project sends its own together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.steps.base import Context, Step

ABSENT: Any = object()
"""What a step publishes (or is foreseen to publish) when it has not published, or will change things."""


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

    foreseen: dict[str, Future] = field(default_factory=dict)
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
        self, ordered: list[Step], ctx: Context, pool: ThreadPoolExecutor, early_reads: bool = True
    ) -> None:
        """`early_reads`: send the steps' early reads too (a plan or apply; `status` only reports)."""
        foreseen: dict[str, Future] = {s.name: Future() for s in ordered}
        published = dict(ctx.outputs)  # a copy: the speculations must not see the run's own outputs
        self.futures: dict[str, Future[Speculation]] = {}
        contexts = {s.name: ctx.for_step(s) for s in ordered if s.enabled(ctx.config)}  # enabled steps
        burst = _Burst(len(contexts), ctx.session.first_reads_gate)
        try:
            self.early: list[Future] = [
                pool.submit(read)
                for step in ordered
                if early_reads and step.name in contexts
                for read in step.early_reads(contexts[step.name])
            ]
            for step in ordered:
                if step.name not in contexts:
                    foreseen[step.name].set_result({})  # what a disabled step publishes
                    continue
                upstream = {name: foreseen[name] for name in _upstream(step, ordered)}
                sent = burst.member()
                step_ctx = contexts[step.name]
                spec_ctx = _SpeculativeContext(
                    **{**vars(step_ctx), "outputs": published, "session": step_ctx.session.announcing(sent)},
                    foreseen=upstream,
                )
                future = pool.submit(_speculate, step, spec_ctx, foreseen[step.name])
                future.add_done_callback(lambda _, sent=sent: sent())  # ended without a request
                self.futures[step.name] = future
        except BaseException:
            burst.end()
            raise

    def get(self, name: str) -> Future[Speculation] | None:
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


def _speculate(step: Step, ctx: _SpeculativeContext, foreseen: Future) -> Speculation:
    """observe() before the step's turn (an exception discards the speculation), then foresee the
    step's outputs for its dependents' speculations: published if it will find nothing to do."""
    outputs: Any = ABSENT
    try:
        state = step.observe(ctx)
        outputs = _foreseen_outputs(step, ctx, state)
        return Speculation(state, ctx.seen)
    finally:
        foreseen.set_result(outputs)


def _foreseen_outputs(step: Step, ctx: Context, state: Any) -> Any:
    try:
        return ABSENT if step.plan(ctx, state) else step.outputs(ctx, state)
    except Exception:  # plan refused: whatever the step publishes then, dependents observe again
        return ABSENT
