"""The engine's own rules, with small in-memory steps (the Google-backed steps are tested through the
emulator elsewhere): dependency order, concurrency, failure propagation, convergence check, and the
dry-run fallback to absent_state."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from gcp_setup.config import Config
from gcp_setup.engine import Engine, order_steps
from gcp_setup.errors import UsageError
from gcp_setup.google.session import GoogleSession
from gcp_setup.steps.base import Action, Context, Outcome, Step, StepError


@dataclass
class Store:
    """A pretend API: a set of resource names, and the writes it received."""

    existing: set[str] = field(default_factory=set)
    writes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Resource(Step):
    """Desires one resource named after the step; `after` runs inside apply (for concurrency checks)."""

    def __init__(self, name: str, store: Store, depends_on: tuple[str, ...] = (), after=None, sticky=False):
        self.name = name  # type: ignore[misc]
        self.depends_on = depends_on  # type: ignore[misc]
        self.store, self.after, self.sticky = store, after, sticky

    def observe(self, ctx: Context) -> bool:
        missing_upstream = [d for d in self.depends_on if d not in self.store.existing]
        if missing_upstream:
            raise StepError(f"{missing_upstream[0]} does not exist")
        return self.name in self.store.existing

    def absent_state(self, ctx: Context) -> bool:
        return False

    def plan(self, ctx: Context, state: bool) -> list[Action]:
        return [] if state else [Action("create", self.name, f"create {self.name}")]

    def apply(self, ctx: Context, action: Action) -> None:
        if self.after:
            self.after()
        with self.store.lock:
            self.store.writes.append(self.name)
            if not self.sticky:  # a sticky resource never shows up: apply does not converge
                self.store.existing.add(self.name)

    def describe(self, ctx: Context, state: bool) -> str:
        return "exists" if state else "missing"

    def outputs(self, ctx: Context, state: Any) -> dict[str, Any]:
        return {"exists": state}


class Broken(Resource):
    def __init__(self, *args, blocks: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocks = blocks

    def plan(self, ctx: Context, state: bool) -> list[Action]:
        raise StepError("cannot", hint="fix it", blocks_dependents=self.blocks)


def context() -> Context:
    return Context(Config(project="engine-test"), GoogleSession())


def run(steps: list[Step], mode: str = "apply"):
    return Engine().run(steps, context(), mode)  # type: ignore[arg-type]


def test_apply_then_second_apply_changes_nothing():
    store = Store()
    steps = [Resource("a", store), Resource("b", store, ("a",)), Resource("c", store, ("b",))]
    first = run(steps)
    assert [r.outcome for r in first.results] == [Outcome.CREATED] * 3
    assert store.writes == ["a", "b", "c"]
    second = run(steps)
    assert [r.outcome for r in second.results] == [Outcome.UNCHANGED] * 3
    assert store.writes == ["a", "b", "c"]
    assert second.results[0].outputs == {"exists": True}


def test_independent_steps_run_concurrently():
    store = Store(existing={"root"})
    both_inside = threading.Barrier(2, timeout=5)  # breaks (BrokenBarrierError) if they ran one by one
    steps = [
        Resource("root", store),
        Resource("left", store, ("root",), after=both_inside.wait),
        Resource("right", store, ("root",), after=both_inside.wait),
    ]
    result = run(steps)
    assert result.ok, [r.detail for r in result.results]


def test_failure_skips_dependents_but_not_others():
    store = Store()
    steps = [
        Broken("a", store),
        Resource("b", store, ("a",)),
        Resource("c", store, ("b",)),
        Resource("d", store),
    ]
    result = run(steps)
    outcomes = {r.name: (r.outcome, r.detail) for r in result.results}
    assert outcomes["a"] == (Outcome.FAILED, "cannot")
    assert result.by_name("a").hint == "fix it"
    assert outcomes["b"] == (Outcome.SKIPPED, "blocked by a")
    assert outcomes["c"] == (Outcome.SKIPPED, "blocked by b")
    assert outcomes["d"][0] is Outcome.CREATED
    assert not result.ok


def test_non_blocking_failure_lets_dependents_run():
    store = Store(existing={"a"})
    result = run([Broken("a", store, blocks=False), Resource("b", store, ("a",))])
    assert [r.outcome for r in result.results] == [Outcome.FAILED, Outcome.CREATED]
    assert result.results[0].outputs == {"exists": True}, "a failed step still publishes its outputs"


def test_apply_that_does_not_converge_fails():
    result = run([Resource("a", Store(), sticky=True)])
    assert result.results[0].outcome is Outcome.FAILED
    assert result.results[0].detail.startswith("did not converge")


def test_plan_assumes_absent_state_below_a_pending_step_and_writes_nothing():
    store = Store()
    steps = [Resource("a", store), Resource("b", store, ("a",)), Resource("c", store, ("b",))]
    result = run(steps, "plan")
    assert [r.outcome for r in result.results] == [Outcome.PLANNED] * 3
    assert [a.summary for r in result.results for a in r.actions] == ["create a", "create b", "create c"]
    assert result.changes_pending and store.writes == []


def test_apply_does_not_fall_back_to_absent_state():
    store = Store()
    result = run([Resource("b", store, ("a",))])  # "a" is not among the steps: b's observe fails
    assert result.results[0].outcome is Outcome.FAILED


def test_disabled_step_is_skipped_and_does_not_block():
    class Disabled(Resource):
        def enabled(self, config: Config) -> bool:
            return False

    store = Store(existing={"a"})
    result = run([Disabled("a", store), Resource("b", store, ("a",))])
    assert [r.outcome for r in result.results] == [Outcome.SKIPPED, Outcome.CREATED]


def test_order_and_cycles():
    store = Store()
    ordered = order_steps([Resource("c", store, ("b",)), Resource("b", store, ("a",)), Resource("a", store)])
    assert [s.name for s in ordered] == ["a", "b", "c"]
    with pytest.raises(UsageError, match="cycle"):
        order_steps([Resource("x", store, ("y",)), Resource("y", store, ("x",))])
