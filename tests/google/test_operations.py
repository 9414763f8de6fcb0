"""Waiting for long-running operations (gcp_setup.google.operations): the poll schedule, and wait()
through a real client against the emulator's operations."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from gcp_setup.google.operations import PollSchedule, wait
from gcp_setup.google.resourcemanager import ResourceManagerClient
from gcp_setup.google.session import GoogleSession


@dataclass
class FakeTime:
    """The poller's clock and sleep, with every poll taking `round_trip_s`: what it sleeps is then
    exactly what its schedule says, whatever the machine is doing."""

    round_trip_s: float
    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def poller(self, polls: int):
        answers = iter([{"done": False}] * (polls - 1) + [{"done": True}])

        def poll() -> dict:
            self.now += self.round_trip_s
            return next(answers)

        return poll


def test_the_first_poll_goes_at_once_then_intervals_grow_to_a_cap():
    intervals = list(itertools.islice(PollSchedule().intervals(), 14))
    assert intervals[:3] == pytest.approx([0.0, 0.05, 0.08])
    assert all(b >= a for a, b in itertools.pairwise(intervals))
    assert intervals[-1] == 5.0
    assert sum(intervals[:10]) < 8 <= sum(intervals[:11])  # an 8 s operation is seen by the 11th poll


def test_a_polls_round_trip_counts_toward_its_wait():
    """Intervals shorter than a round trip add no pause: the second poll goes as soon as the first is
    answered (its 50 ms have passed by then), the third waits only what is left of its 80 ms."""
    fake = FakeTime(round_trip_s=0.06)
    notes: list[str] = []
    first = {"done": False}
    wait(fake.poller(3), "creating x", notes.append, first=first, clock=lambda: fake.now, sleep=fake.sleep)
    assert fake.sleeps == pytest.approx([0.0, 0.0, 0.02])
    assert len(notes) == 3 and notes[0].startswith("creating x: waiting")


def test_a_long_operation_is_polled_less_and_less_often():
    fake = FakeTime(round_trip_s=0.06)
    wait(fake.poller(9), "x", lambda _: None, first={"done": False}, clock=lambda: fake.now, sleep=fake.sleep)
    assert fake.sleeps[-1] > 3 * fake.round_trip_s  # by the ninth poll the interval (about 1.3 s) dominates
    assert fake.now < 4.0


def test_a_project_operation_is_polled_through_the_real_client_until_done(emu):
    """The emulator's operation answers done on its 3rd poll; wait() takes exactly three, with progress."""
    emu.set_realism(operation_polls=3)
    notes: list[str] = []
    info = ResourceManagerClient(GoogleSession.create(emu.host), notes.append).create_project(
        "poll-test-1", parent=None, display_name=None, labels={}
    )
    assert info is not None and info.project_id == "poll-test-1" and info.state == "ACTIVE"
    polls = [r for r in emu.requests() if r["method_id"] == "cloudresourcemanager.operations.get"]
    assert len(polls) == 3
    assert len(notes) == 3 and notes[0].startswith("creating project poll-test-1: waiting")
