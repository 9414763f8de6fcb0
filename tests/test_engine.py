"""The engine's own rules, with small in-memory steps (the Google-backed steps are tested through the
emulator elsewhere): dependency order, concurrency, failure propagation, convergence check, the
dry-run fallback to absent_state, and speculative observation (plus one no-op apply through the
emulator that times its reads)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.engine import Engine, order_steps
from gcp_setup.engine.speculation import Schedule
from gcp_setup.errors import UsageError
from gcp_setup.google.session import GoogleSession
from gcp_setup.settings.config import Config
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
    assert outcomes["b"] == (Outcome.BLOCKED, "blocked by a")
    assert outcomes["c"] == (Outcome.BLOCKED, "blocked by b")
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


class Counted(Resource):
    """Counts its observes; `reads` are (step, key) outputs observe reads into its state (and outputs);
    `during_observe` runs inside every observe (a barrier, a failure)."""

    def __init__(self, *args, reads=(), during_observe=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_pairs, self.during_observe = list(reads), during_observe
        self.reads = {step: tuple(k for s, k in reads if s == step) for step, _ in reads}  # type: ignore[misc]
        self.observed = Counter[str]()

    def observe(self, ctx: Context) -> Any:
        with self.store.lock:
            self.observed[self.name] += 1
        if self.during_observe:
            self.during_observe()
        seen = {f"{step}.{key}": ctx.output(step, key) for step, key in self.read_pairs}
        return {"exists": super().observe(ctx), "seen": seen}

    def plan(self, ctx: Context, state: dict) -> list[Action]:
        return super().plan(ctx, state["exists"])

    def outputs(self, ctx: Context, state: dict) -> dict[str, Any]:
        return state


def test_no_op_observes_every_step_at_once_and_once():
    store = Store(existing={"a", "b", "c"})
    all_observing = threading.Barrier(3, timeout=5)  # breaks if any observe waited for another step
    steps = [
        Counted("a", store, during_observe=all_observing.wait),
        Counted("b", store, ("a",), during_observe=all_observing.wait),
        Counted("c", store, ("b",), during_observe=all_observing.wait),
    ]
    for mode in ("apply", "plan"):
        result = run(steps, mode)
        assert [r.outcome for r in result.results] == [Outcome.UNCHANGED] * 3, [
            r.detail for r in result.results
        ]
        assert [s.observed[s.name] for s in steps] == [1, 1, 1]  # the speculations were kept: no more reads
        for step in steps:
            step.observed.clear()


def test_speculation_below_a_change_is_redone_and_sees_the_new_outputs():
    store = Store(existing={"b"})
    a = Counted("a", store)
    b = Counted("b", store, ("a",), reads=[("a", "exists")])
    result = run([a, b])
    assert [r.outcome for r in result.results] == [Outcome.CREATED, Outcome.UNCHANGED]
    assert result.results[1].outputs["seen"] == {"a.exists": True}
    assert b.observed["b"] == 2  # the speculation (which saw no "a") and the observe after a changed


def test_speculation_reads_what_an_unchanged_upstream_will_publish():
    """b's speculation waits for a's and reads the outputs a will publish as it finds nothing to do."""
    store = Store(existing={"a", "b"})
    b = Counted("b", store, ("a",), reads=[("a", "exists")])
    result = run([Counted("a", store), b], "status")
    assert result.results[1].outputs["seen"] == {"a.exists": True}
    assert b.observed["b"] == 1


def test_speculation_that_read_an_output_that_differs_now_is_redone():
    """a changes nothing, but publishes another value than its speculation foresaw (it read a value
    that changed between the speculation and its turn)."""
    store = Store(existing={"a", "b"})
    answers = iter(["first", "second"])

    class Drifting(Counted):
        def outputs(self, ctx: Context, state: dict) -> dict[str, Any]:
            return {**state, "value": next(answers)}

    b = Counted("b", store, ("a",), reads=[("a", "value")])
    result = run([Drifting("a", store), b])
    assert [r.outcome for r in result.results] == [Outcome.UNCHANGED] * 2
    assert result.results[1].outputs["seen"] == {"a.value": "second"}
    assert b.observed["b"] == 2


def test_reads_of_ctx_outputs_itself_are_checked_too():
    store = Store(existing={"b"})

    class ReadsMapping(Counted):
        def observe(self, ctx: Context) -> Any:
            state = super().observe(ctx)
            return {**state, "seen": {"a": dict(ctx.outputs.get("a", {}))}}

    b = ReadsMapping("b", store, ("a",))
    result = run([Counted("a", store), b])
    assert result.results[1].outputs["seen"] == {"a": {"exists": True, "seen": {}}}
    assert b.observed["b"] == 2  # its speculation saw no outputs of a, which was still to be created


def test_failed_speculation_is_redone():
    store = Store(existing={"a", "b"})
    failures = iter([StepError("flaky read")])

    def fail_once() -> None:
        error = next(failures, None)
        if error:
            raise error

    b = Counted("b", store, ("a",), during_observe=fail_once)
    result = run([Counted("a", store), b])
    assert [r.outcome for r in result.results] == [Outcome.UNCHANGED] * 2
    assert b.observed["b"] == 2


def test_no_op_apply_through_the_cli_sends_its_reads_at_once(provision_env, tmp_path):
    """The CLI's no-op apply sends its reads all at once: the emulator holds them at a barrier until six
    are in flight together, which reads sent one after another never reach (the first would wait out the
    barrier's timeout instead). And no read more than one per resource (the .env's note vouches for its
    key string: no getKeyString)."""
    args = ["apply", "--project", "engine-noop-1", "--create", "--yes", "--no-verify"]
    args += ["--billing-account", OPEN_ACCOUNT.removeprefix("billingAccounts/")]
    args += ["--env-file", str(tmp_path / ".env")]
    assert CliRunner().invoke(cli, args).exit_code == 0
    provision_env.clear_requests()
    provision_env.set_realism(barrier=6)

    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert provision_env.writes() == []
    assert sorted(e["method_id"] for e in provision_env.requests() if e["kind"] != "auth") == [
        "apikeys.projects.locations.keys.list",
        "cloudbilling.projects.getBillingInfo",
        "cloudresourcemanager.projects.get",
        "cloudresourcemanager.projects.getIamPolicy",  # the project policy, beside the account
        "iam.projects.serviceAccounts.get",
        "serviceusage.services.batchGet",
    ]
    assert provision_env.concurrency() == {"in_flight": 0, "max_in_flight": 6, "barrier_timeouts": 0}


class Answering(Counted):
    """apply answers the resource as it now is, and state_after takes the state from that answer."""

    def apply(self, ctx: Context, action: Action) -> bool:
        super().apply(ctx, action)
        return self.name in self.store.existing  # what the write's answer says

    def state_after(self, ctx: Context, state: dict, action: Action, answer: bool) -> Any:
        return {**state, "exists": answer}


def test_the_state_after_apply_comes_from_the_answer_without_observing_again():
    store = Store()
    step = Answering("a", store)
    result = run([step])
    assert result.results[0].outcome is Outcome.CREATED
    assert step.observed["a"] == 1  # the first observation only: no read-back after the write


def test_a_step_that_cannot_tell_its_state_from_the_answer_is_observed_again():
    store = Store()
    step = Counted("a", store)  # state_after is the default: UNKNOWN
    assert run([step]).results[0].outcome is Outcome.CREATED
    assert step.observed["a"] >= 2  # its speculation (or first observe), then the read after the write


def test_an_answer_that_leaves_work_to_do_does_not_converge():
    step = Answering("a", Store(), sticky=True)  # the answer says the resource still is not there
    result = run([step])
    assert result.results[0].detail.startswith("did not converge")


class Container(Answering):
    """Holds every later step: when this run creates it, nothing inside can exist yet."""

    def created_anew(self, ctx: Context, state: dict) -> bool:
        return state.get("created", False) or (ctx.dry_run and not state["exists"])

    def state_after(self, ctx: Context, state: dict, action: Action, answer: bool) -> Any:
        return {**super().state_after(ctx, state, action, answer), "created": True}


class Inside(Answering):
    def absent_state(self, ctx: Context) -> dict:
        return {"exists": False, "seen": {}}


@pytest.mark.parametrize("mode", ["apply", "plan"])
def test_steps_inside_a_container_created_anew_plan_from_absence_without_reading(mode):
    store = Store()
    root = Container("root", store)
    middle, leaf = Inside("middle", store, ("root",)), Inside("leaf", store, ("middle",))
    result = run([root, middle, leaf], mode)
    expected = Outcome.CREATED if mode == "apply" else Outcome.PLANNED
    assert [r.outcome for r in result.results] == [expected] * 3, [r.detail for r in result.results]
    # Only their speculations read, sent at the start: no observe when their turn came.
    assert (middle.observed["middle"], leaf.observed["leaf"]) == (1, 1)
    if mode == "apply":  # a re-run finds the container: everything is read, once, and nothing changes
        middle.observed.clear()
        leaf.observed.clear()
        again = run([root, middle, leaf])
        assert [r.outcome for r in again.results] == [Outcome.UNCHANGED] * 3
        assert (middle.observed["middle"], leaf.observed["leaf"]) == (1, 1)


def test_an_existing_container_does_not_make_its_contents_absent():
    store = Store(existing={"root"})
    leaf = Inside("leaf", store, ("root",))
    result = run([Container("root", store), leaf])
    assert [r.outcome for r in result.results] == [Outcome.UNCHANGED, Outcome.CREATED]
    assert leaf.observed["leaf"] >= 1  # observed, not assumed


def test_a_step_reads_only_what_it_declared_of_the_steps_it_depends_on():
    store = Store()
    sneaky = Counted("b", store, ("a",), reads=[("a", "exists")])
    sneaky.read_pairs.append(("a", "secret"))  # read, not declared
    result = run([Resource("a", store), sneaky])
    assert result.by_name("b").outcome is Outcome.FAILED
    assert "step b reads a.secret without declaring it in Step.reads" in result.by_name("b").detail
    with pytest.raises(UsageError, match="step b reads a without depending on it"):
        order_steps([Resource("a", store), Counted("b", store, reads=[("a", "exists")])])


def test_the_callers_context_is_left_as_it_was():
    store = Store()
    ctx = context()
    result = Engine().run([Resource("a", store)], ctx, "plan")
    assert (ctx.dry_run, ctx.outputs) == (False, {})
    assert result.outputs == {"a": {"exists": False}}


class Announcing(Resource):
    """Its observe, once started (`started`), says its request is going out (as Client.execute does,
    ctx.session.about_to_send()) when `go` is set, then waits for `answer` before it returns."""

    def __init__(self, *args, go: threading.Event, answer: threading.Event, **kwargs):
        super().__init__(*args, **kwargs)
        self.go, self.answer, self.started = go, answer, threading.Event()

    def observe(self, ctx: Context) -> bool:
        self.started.set()
        assert self.go.wait(5)
        ctx.session.about_to_send()
        assert self.answer.wait(5)
        return super().observe(ctx)


def test_a_fleet_gate_is_held_until_each_first_read_has_gone_out_not_until_it_is_answered():
    """engine/speculation.py: a fleet lets only a few projects send their first reads at once."""
    gate = threading.BoundedSemaphore(1)
    go, answer = threading.Event(), threading.Event()
    store = Store(existing={"a", "b"})
    announcing = Announcing("a", store, go=go, answer=answer)
    steps = [announcing, Counted("b", store)]  # b ends without a request of its own
    ctx = Context(Config(project="engine-test"), GoogleSession())
    runner = threading.Thread(target=Engine(Schedule(gate)).run, args=(steps, ctx, "plan"))
    runner.start()
    try:
        assert announcing.started.wait(5)  # the run holds the gate from before its speculations start
        assert not gate.acquire(blocking=False)  # a's first read has not gone out yet
        go.set()
        assert gate.acquire(timeout=5)  # it has, unanswered: the next project may send its own
        gate.release()
    finally:
        go.set()
        answer.set()
        runner.join(5)
    assert not runner.is_alive()


def test_a_run_whose_observes_send_nothing_gives_the_gate_back():
    gate = threading.BoundedSemaphore(1)
    ctx = Context(Config(project="engine-test"), GoogleSession())
    for mode in ("plan", "apply"):
        result = Engine(Schedule(gate)).run([Resource("a", Store()), Broken("b", Store())], ctx, mode)  # type: ignore[arg-type]
        assert not result.ok
        assert gate.acquire(blocking=False)
        gate.release()


FLEET = Engine(Schedule(after_roots=True))
"""The engine as a fleet's runs have it: speculating below the roots once they have foreseen."""


@pytest.mark.parametrize("mode", ["apply", "plan"])
def test_in_a_fleet_nothing_below_a_root_created_anew_is_read(mode):
    """engine/speculation.py: a fleet speculates below its roots only once they have foreseen, and not
    below one that will change things. Everything inside a container created anew starts absent."""
    store = Store()
    root = Container("root", store)
    middle, leaf = Inside("middle", store, ("root",)), Inside("leaf", store, ("middle",))
    result = FLEET.run([root, middle, leaf], context(), mode)  # type: ignore[arg-type]
    expected = Outcome.CREATED if mode == "apply" else Outcome.PLANNED
    assert [r.outcome for r in result.results] == [expected] * 3, [r.detail for r in result.results]
    assert (root.observed["root"], middle.observed["middle"], leaf.observed["leaf"]) == (1, 0, 0)


def test_in_a_fleet_the_reads_below_the_roots_go_out_together_once_the_roots_have_answered():
    store = Store(existing={"a", "b", "c", "other"})
    root_answered = threading.Event()
    below_together = threading.Barrier(2, timeout=5)  # breaks if b and c were read one after the other

    def below_observing() -> None:
        assert root_answered.is_set()
        below_together.wait()

    class Root(Counted):
        def observe(self, ctx: Context) -> Any:
            state = super().observe(ctx)
            root_answered.set()
            return state

    steps = [
        Root("a", store),
        Counted("b", store, ("a",), during_observe=below_observing),
        Counted("c", store, ("b",), during_observe=below_observing),
        Counted("other", store),  # a second root, read at once beside a
    ]
    result = FLEET.run(steps, context(), "apply")
    assert [r.outcome for r in result.results] == [Outcome.UNCHANGED] * 4, [r.detail for r in result.results]
    assert [s.observed[s.name] for s in steps] == [1, 1, 1, 1]  # the speculations were kept


def test_in_a_fleet_a_root_that_changes_things_leaves_its_dependents_to_their_turn():
    store = Store(existing={"b"})
    b = Counted("b", store, ("a",), reads=[("a", "exists")])
    result = FLEET.run([Counted("a", store), b], context(), "apply")
    assert [r.outcome for r in result.results] == [Outcome.CREATED, Outcome.UNCHANGED]
    assert result.results[1].outputs["seen"] == {"a.exists": True}
    assert b.observed["b"] == 1  # once, after a's change: no speculation before it


def test_a_full_run_fits_in_its_share_of_the_bounded_pools():
    """engine/graph.py POOL_THREADS: every step enabled, each with its early reads, and the launcher."""
    from gcp_setup.engine.graph import TASKS_PER_RUN
    from gcp_setup.engine.speculation import early_reads_of
    from gcp_setup.steps import after_smoke_test_steps, provision_steps

    config = Config(project="engine-test", github_repo="octo/repo", gitlab_project="group/project")
    steps = provision_steps(config) + after_smoke_test_steps()
    ctx = context()
    tasks = len(steps) + sum(len(early_reads_of(s, ctx.for_step(s))) for s in steps) + 1
    assert tasks <= TASKS_PER_RUN
