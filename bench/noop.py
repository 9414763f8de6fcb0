"""2. No-op re-run: `apply` again on the finished project, as every CI job does. It must change nothing,
read little, and issue its reads concurrently. The round-trip goal is checked on the time on the
network: the process's wall time also holds Python's start-up and the client libraries' imports
(about 0.4 s before the first request), which no number of round trips accounts for."""

from __future__ import annotations

from bootstrap import PROJECT, apply_cmd
from floor import NOOP_FLOOR_ROUND_TRIPS
from harness import Measurement, Row, Settings, Traffic, Workdir, median, round_trips_worth, run_timed

from gcp_setup.emulator.control import EmulatorControl

MAX_READS = 6


def measure(emu: EmulatorControl, settings: Settings, wd: Workdir) -> Measurement:
    """Runs after the bootstrap measurement, which leaves gcp-setup's finished project and .env in `wd`."""
    if not any(p["project_id"] == PROJECT for p in emu.state()["backends"]["projects"]["projects"]):
        run_timed(apply_cmd(PROJECT), wd).check()
    runs: list[tuple[float, Traffic]] = []
    startups: list[float] = []
    for _ in range(settings.repeats):
        emu.clear_requests()
        timed = run_timed(apply_cmd(PROJECT), wd).check()
        traffic = Traffic.of(emu.requests(), settings.latency_s)
        runs.append((timed.seconds, traffic))
        startups.append(traffic.first_arrival - timed.started_at)
    traffic = runs[-1][1]
    mutating = sum(
        1 for e in traffic.entries if e["kind"] == "write"
    )  # answered or refused: any is one too many
    floor = NOOP_FLOOR_ROUND_TRIPS * settings.latency_s
    network = median([t.span_s for _, t in runs])
    rows = [
        Row("no-op re-run: mutating requests", "", mutating, goal="0", met=mutating == 0),
        Row("no-op re-run: reads", "", traffic.reads, goal=f"<= {MAX_READS}", met=traffic.reads <= MAX_READS),
        Row(
            "no-op re-run: time on the network",
            "s",
            network,
            floor=floor,
            goal="<= floor + 2 round trips",
            met=network <= floor + 2 * settings.latency_s,
            note=round_trips_worth(network, settings.latency_s),
        ),
        Row(
            "no-op re-run: wall time",
            "s",
            median([s for s, _ in runs]),
            floor=floor,
            note=f"{median(startups):.3f} s of it before the first request (start-up, imports)",
        ),
    ]
    details = {"calls": [f"{e['method']} {e['path']} {e['status']}" for e in traffic.entries]}
    return Measurement(rows, details)
