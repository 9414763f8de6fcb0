"""4. Long-running operation polling overshoot: how long after an operation is done the client notices.

(a) From the request logs of the bootstrap runs, both sides. The emulator finishes an operation on a
poll count: done=false to the starting call and the first `operation_polls - 1` GETs, then done. So the
operation is done from the moment its last not-done poll was answered, and the client notices with the
next poll. Each log entry is stamped when answered, so

    overshoot = (answer of the done poll - answer of the last not-done poll) - one round trip

which is the time the client slept (or spent between calls) before asking again. Zero is the floor;
exponential backoff with a small first interval keeps it small while operations are quick.

(b) Operations that take longer, as on Google: gcp_setup.google.operations.wait polls a real emulator
operation, which the harness declares done at a given time after its start; overshoot = when wait()
returned - that time. Exponential backoff trades more overshoot on long operations for fewer polls.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import requests
from harness import BenchError, Measurement, Row, Settings, Traffic, median

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.google.operations import wait

NEVER_DONE_POLLS = 1_000_000


def operation_polls(entries: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Answer times of the GETs of each operation, in order."""
    polls: dict[str, list[float]] = defaultdict(list)
    for e in entries:
        if e["method"] == "GET" and "/operations/" in e["path"] and e["status"] == 200:
            polls[e["path"]].append(e["at"])
    return {path: sorted(times) for path, times in polls.items()}


def overshoots(traffic: Traffic, latency_s: float) -> list[float]:
    return [
        max(0.0, times[-1] - times[-2] - latency_s)
        for times in operation_polls(traffic.entries).values()
        if len(times) >= 2
    ]


def _overshoot_of_wait(emu: EmulatorControl, done_after_s: float, project: str) -> tuple[float, int]:
    """(overshoot s, polls) of wait() on an operation that is done `done_after_s` after it started."""
    started = requests.post(f"{emu.url}/v1/projects", json={"projectId": project}, timeout=30)
    started.raise_for_status()
    url = f"{emu.url}/v1/{started.json()['name']}"
    done_at = time.monotonic() + done_after_s
    polls = 0

    def poll() -> dict[str, Any]:
        nonlocal polls
        polls += 1
        op = requests.get(url, timeout=30).json()  # a real round trip; the emulator says not done yet
        return {**op, "done": time.monotonic() >= done_at}

    wait(poll, "bench operation", lambda _: None, first=started.json())
    return time.monotonic() - done_at, polls


def measure_long_operations(emu: EmulatorControl, settings: Settings) -> Measurement:
    durations = (0.5,) if settings.quick else (0.5, 2.0, 8.0)
    emu.reset()
    emu.set_realism(operation_polls=NEVER_DONE_POLLS)
    try:
        figures = [(d, *_overshoot_of_wait(emu, d, f"bench-lro-{i:03d}")) for i, d in enumerate(durations)]
    finally:
        emu.set_realism(operation_polls=settings.operation_polls)
    rows = [
        Row(f"LRO overshoot, operation done after {d:g} s", "s", over, floor=0.0, note=f"{polls} polls")
        for d, over, polls in figures
    ]
    return Measurement(
        rows, {f"{d:g} s": {"overshoot s": over, "polls": polls} for d, over, polls in figures}
    )


def measure(bootstrap: Measurement | None, settings: Settings) -> Measurement:
    """Reads the request logs of the bootstrap runs of gcp-setup and of the gcloud script."""
    if bootstrap is None:
        raise BenchError("needs the request logs of the bootstrap measurement, which failed")
    mine = [o for t in bootstrap.logs["gcp-setup"] for o in overshoots(t, settings.latency_s)]
    gcloud = [o for t in bootstrap.logs["gcloud script"] for o in overshoots(t, settings.latency_s)]
    if not mine:
        row = Row(
            "LRO polling overshoot",
            "s",
            None,
            median(gcloud) if gcloud else None,
            0.0,
            note="gcp-setup polled no operation more than once",
        )
    else:
        row = Row(
            "LRO polling overshoot (median)",
            "s",
            median(mine),
            median(gcloud) if gcloud else None,
            0.0,
            note=f"{len(mine)} operations; worst {max(mine):.3f} s",
        )
    return Measurement([row], {"gcp-setup s": mine, "gcloud script s": gcloud})
