"""4. Long-running operation polling overshoot: how long after an operation is done the client notices.

The emulator finishes an operation on a poll count: it answers done=false `operation_polls` times, then
done. So the operation is done from the moment its last not-done poll was answered, and the client
notices with the next poll. From the request log (each entry stamped when answered):

    overshoot = (answer of the done poll - answer of the last not-done poll) - one round trip

which is the time the client slept (or spent between calls) before asking again. Zero is the floor;
exponential backoff with a small first interval keeps it small while operations are quick.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from harness import BenchError, Measurement, Row, Settings, Traffic, median


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
