"""The engine's own rules, with small in-memory steps (the Google-backed steps are tested through the
emulator elsewhere): dependency order, concurrency, failure propagation, convergence check, the
dry-run fallback to absent_state, and speculative observation (plus one no-op apply through the
emulator that times its reads)."""

from __future__ import annotations

import threading

import pytest
from engine_kit import Answering, Broken, Container, Counted, Inside, Resource, Store, context, run

from gcp_setup.engine import Engine, order_steps
from gcp_setup.errors import UsageError
from gcp_setup.settings.config import Config
from gcp_setup.steps.base import Outcome


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
