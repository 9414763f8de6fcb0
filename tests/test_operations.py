"""Waiting for long-running operations (gcp_setup.google.operations): the poll schedule, and wait()
through a real client against the emulator's operations."""

from __future__ import annotations

import itertools

import pytest

from gcp_setup.google import resourcemanager
from gcp_setup.google.operations import PollSchedule
from gcp_setup.google.session import GoogleSession

LATENCY_S = 0.06


def test_the_first_poll_goes_at_once_then_intervals_grow_to_a_cap():
    intervals = list(itertools.islice(PollSchedule().intervals(), 14))
    assert intervals[:3] == pytest.approx([0.0, 0.05, 0.08])
    assert all(b >= a for a, b in itertools.pairwise(intervals))
    assert intervals[-1] == 5.0
    assert sum(intervals[:10]) < 8 <= sum(intervals[:11])  # an 8 s operation is seen by the 11th poll


def create_with_polls(emu, polls: int, project: str) -> tuple[list[float], list[str]]:
    """Create a project whose operation is done on its `polls`-th poll: (the polls' answer times, the
    progress notes)."""
    emu.set_realism(operation_polls=polls, latency_ms=LATENCY_S * 1000)
    notes: list[str] = []
    info = resourcemanager.create_project(
        GoogleSession.create(emu.host),
        project,
        parent=None,
        display_name=None,
        labels={},
        progress=notes.append,
    )
    assert info is not None and info.project_id == project and info.state == "ACTIVE"
    answered = [r["at"] for r in emu.requests() if r["method_id"] == "cloudresourcemanager.operations.get"]
    assert len(answered) == polls
    return answered, notes


def test_a_polls_round_trip_counts_toward_its_wait(emu):
    """Intervals shorter than a round trip add no pause: the second poll goes as soon as the first is
    answered (the 50 ms interval has passed by then), the third waits only what is left of its 80 ms."""
    answered, notes = create_with_polls(emu, 3, "poll-test-1")
    assert len(notes) == 3 and notes[0].startswith("creating project poll-test-1: waiting")
    first_gap, second_gap = answered[1] - answered[0], answered[2] - answered[1]
    assert first_gap < LATENCY_S + 0.03, first_gap  # no pause (a 50 ms sleep after the answer: >= 0.11 s)
    assert second_gap < 0.08 + LATENCY_S, second_gap  # 80 ms from the second poll's start, not its answer


@pytest.mark.slow
def test_a_long_operation_is_polled_less_and_less_often(emu):
    answered, _ = create_with_polls(emu, 9, "poll-test-2")
    gaps = [b - a for a, b in itertools.pairwise(answered)]
    assert gaps[-1] > 3 * LATENCY_S  # by the ninth poll the interval (about 1.3 s) dominates
    assert sum(gaps) < 4.0
