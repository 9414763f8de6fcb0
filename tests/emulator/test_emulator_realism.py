"""The emulator's realism switches: latency, seeded faults, dropped connections, the barrier and the clock,
persisted state."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.server import Emulator


def _create_project(url: str, project_id: str) -> requests.Response:
    return requests.post(f"{url}/v3/projects", json={"projectId": project_id}, timeout=10)


def _statuses(emu: EmulatorControl, n: int) -> list[int]:
    return [requests.get(f"{emu.url}/v3/projects/missing-project", timeout=10).status_code for _ in range(n)]


def test_latency_is_added_to_api_requests(emu: EmulatorControl) -> None:
    emu.set_realism(latency_ms=120)
    started = time.perf_counter()
    requests.get(f"{emu.url}/v3/projects/missing-project", timeout=10)
    # A lower bound only, which a busy machine cannot break: the server sleeps before it answers.
    assert time.perf_counter() - started >= 0.12


def test_requests_sent_together_pass_the_barrier_together(emu: EmulatorControl) -> None:
    emu.set_realism(barrier=3)
    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda _: _statuses(emu, 1)[0], range(3)))
    assert statuses == [403] * 3
    assert emu.concurrency() == {"in_flight": 0, "max_in_flight": 3, "barrier_timeouts": 0}
    assert emu.set_realism()["barrier"] is None, "a barrier is released once"


def test_requests_sent_one_after_another_never_reach_the_barrier(emu: EmulatorControl) -> None:
    emu.set_realism(barrier=2, barrier_timeout_s=0.05)
    assert _statuses(emu, 2) == [403, 403]
    assert emu.concurrency() == {"in_flight": 0, "max_in_flight": 1, "barrier_timeouts": 1}
    emu.clear_requests()
    assert emu.concurrency()["barrier_timeouts"] == 0


def test_the_clock_moves_forward_on_request(emu: EmulatorControl) -> None:
    before = emu.advance_clock(0)
    assert emu.advance_clock(3600) >= before + 3600


def test_faults_are_google_shaped_and_reproducible_from_the_seed(emu: EmulatorControl) -> None:
    emu.set_realism(fault_rate=0.5, seed=7)
    first = _statuses(emu, 30)
    emu.set_realism(fault_rate=0.5, seed=7)
    assert _statuses(emu, 30) == first
    assert {429, 500, 503} & set(first), "some faults were injected"
    assert 403 in first, "and some requests went through (a missing project answers 403)"
    emu.set_realism(fault_rate=1.0, fault_statuses=[429])
    body = requests.get(f"{emu.url}/v3/projects/x", timeout=10).json()["error"]
    assert (body["code"], body["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert body["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"


def test_a_dropped_connection_still_applies_the_change(emu: EmulatorControl) -> None:
    emu.set_realism(drop_after_writes=1)
    with pytest.raises(requests.ConnectionError):
        _create_project(emu.url, "dropped-answer")
    assert requests.get(f"{emu.url}/v3/projects/dropped-answer", timeout=10).status_code == 200
    assert _create_project(emu.url, "answered-again").status_code == 200, "the switch fires once"


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    with Emulator(state_file=state) as first:
        assert _create_project(first.url, "kept-project").status_code == 200
    assert state.exists()
    with Emulator(state_file=state) as second:
        assert requests.get(f"{second.url}/v3/projects/kept-project", timeout=10).status_code == 200


def test_a_corrupt_state_file_is_a_one_line_error(tmp_path: Path) -> None:
    from gcp_setup.errors import EmulatorError

    state = tmp_path / "world.json"
    state.write_text("{not json")
    with pytest.raises(EmulatorError, match="cannot read emulator state"):
        Emulator(state_file=state)
