"""engine/speculation.py: every step's first observation sent at once, and kept only while what it read
holds; a fleet's schedule (its gate, and speculation after the roots)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from click.testing import CliRunner
from engine_kit import FLEET, Announcing, Broken, Container, Counted, Inside, Resource, Store, context, run

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.engine import Engine
from gcp_setup.engine.speculation import Schedule
from gcp_setup.google.session import GoogleSession
from gcp_setup.settings.config import Config
from gcp_setup.steps.base import Context, Outcome, StepError


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
