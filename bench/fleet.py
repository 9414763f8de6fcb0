"""6. Fleet: N projects from one fleet file in one process, beside one `apply`, N processes at once
(the scale measurement) and N gcloud scripts run 8 at a time; the fleet's no-op re-run (writes, reads
and waves per project); and where the start-up before the first request goes (`python -X importtime`).

    .venv/bin/python bench/fleet.py                 # alone: 50 projects at 50 ms latency
    .venv/bin/python bench/fleet.py --projects 10 --no-gcloud

Waves: a project's request belongs to wave k+1 when it arrived after the emulator answered one of its
wave k (the request log's `arrived` and `at` stamps): the longest chain of requests that waited for each
other. Max in flight is the emulator's own record (GET /_emulator/concurrency).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # gcp_setup, when run as a script

import endstate
from bootstrap import GCLOUD_SCRIPT, apply_cmd, gcloud_script_env
from harness import (
    BILLING_ACCOUNT,
    GCP_SETUP,
    EmulatorProcess,
    Measurement,
    Row,
    Settings,
    Traffic,
    Workdir,
    gcloud_available,
    run_timed,
    workdir,
)
from scale import run_processes

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.settings.fleet import PARALLELISM

GCLOUD_AT_ONCE = 8
THROUGHPUT_GOAL = 20.0
MAX_READS, MAX_WAVES = 6, 3


def _project(tag: str, i: int) -> str:
    return f"bf-{tag}-{i:03d}"


def write_fleet_file(wd: Workdir, projects: list[str]) -> None:
    lines = [f'billing-account = "{BILLING_ACCOUNT}"', "create = true", "verify = false"]
    for project in projects:
        lines += ["", "[[projects]]", f'project = "{project}"', f'env-file = "{project}.env"']
    (wd.path / "gcp-setup.toml").write_text("\n".join(lines) + "\n")


def fleet_apply(wd: Workdir, parallelism: int):
    return run_timed([*GCP_SETUP, "apply", "--yes", "--parallelism", str(parallelism)], wd, timeout=900)


def waves_per_project(entries: list[dict[str, Any]], project: str, latency_s: float) -> int:
    mine = sorted((e.get("arrived") or e["at"] - latency_s, e["at"]) for e in entries if project in e["path"])
    waves: list[tuple[float, int]] = []  # (answered at, wave)
    for arrived, answered in mine:
        wave = 1 + max((w for at, w in waves if at <= arrived), default=0)
        waves.append((answered, wave))
    return max((w for _, w in waves), default=0)


def _gcloud_fleet(emu: EmulatorControl, projects: list[str]) -> tuple[float, int]:
    """Each project by the gcloud script, GCLOUD_AT_ONCE at a time; wall time and failures."""

    def one(project: str) -> int:
        with workdir(emu) as wd:
            return run_timed(
                ["bash", str(GCLOUD_SCRIPT)], wd, gcloud_script_env(project), timeout=900
            ).returncode

    start = time.perf_counter()
    with ThreadPoolExecutor(GCLOUD_AT_ONCE) as pool:
        codes = list(pool.map(one, projects))
    return time.perf_counter() - start, sum(1 for c in codes if c)


def startup_profile() -> dict[str, float]:
    """Seconds per top-level package imported before the first request (`python -X importtime`)."""
    code = (
        "import gcp_setup.cli, gcp_setup.commands.provision, gcp_setup.commands.common;"
        "from gcp_setup.google.transport import import_client_libraries; import_client_libraries()"
    )
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if found and len(found[3]) == 1:  # top level: one space of indentation
            package = found[4].split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(found[2]) / 1e6
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def measure(
    server: EmulatorProcess, settings: Settings, scale: Measurement | None = None, gcloud: bool = True
) -> Measurement:
    emu = server.control
    assert emu is not None, "the emulator is not running"
    n = max(settings.scale)
    rows, details = [], {}
    with workdir(emu) as wd:
        emu.reset()
        one = run_timed(apply_cmd(_project("one", 0)), wd).check().seconds
        for parallelism in sorted({8, 16, 32, PARALLELISM} if not settings.quick else {PARALLELISM}):
            emu.reset()
            projects = [_project(f"p{parallelism}", i) for i in range(n)]
            write_fleet_file(wd, projects)
            timed = fleet_apply(wd, parallelism).check()
            traffic = Traffic.of(emu.requests(), settings.latency_s)
            state = emu.state()
            for project in projects:
                endstate.require_complete(endstate.summary(state, project), f"fleet apply of {project}")
            refused = sum(1 for e in traffic.entries if e["status"] == 429)
            ratio = n * one / timed.seconds
            rows.append(
                Row(
                    f"fleet: {n} projects from one file, one process, parallelism {parallelism}",
                    "s",
                    timed.seconds,
                    goal=f">= {THROUGHPUT_GOAL:g}x the throughput of one apply, 0 5xx",
                    met=ratio >= THROUGHPUT_GOAL and not traffic.server_errors,
                    note=f"{ratio:.1f}x one apply ({one:.2f} s); {traffic.requests} requests, "
                    f"{traffic.server_errors} 5xx, {refused} 429",
                )
            )
            details[f"parallelism {parallelism}"] = {"wall s": timed.seconds, "429": refused, "ratio": ratio}
        rows += _noop(emu, wd, projects, settings, parallelism)  # on the last fleet, before a reset
        rows += _beside(scale, n, one, emu, gcloud)
    profile = startup_profile()
    details["start-up imports s"] = profile
    rows.append(
        Row(
            "start-up: imports before the first request",
            "s",
            sum(profile.values()),
            note=", ".join(f"{name} {s:.2f}" for name, s in list(profile.items())[:5]),
        )
    )
    return Measurement(rows, details)


def _beside(scale: Measurement | None, n: int, one: float, emu: EmulatorControl, gcloud: bool) -> list[Row]:
    rows = []
    processes = (
        next((r.gcp_setup for r in scale.rows if r.metric == f"scale: {n} applies at once"), None)
        if scale
        else None
    )
    if processes is None:
        emu.reset()
        processes = run_processes(emu, n)[0]
    ratio = n * one / processes
    rows.append(Row(f"fleet beside: {n} processes at once", "s", processes, note=f"{ratio:.1f}x one apply"))
    if gcloud and gcloud_available():
        emu.reset()
        wall, failed = _gcloud_fleet(emu, [_project("gcloud", i) for i in range(n)])
        note = f"{n * one / wall:.1f}x one gcp-setup apply; {failed} failed"
        rows.append(
            Row(f"fleet beside: {n} gcloud scripts, {GCLOUD_AT_ONCE} at a time", "s", wall, note=note)
        )
    return rows


def _noop(
    emu: EmulatorControl, wd: Workdir, projects: list[str], settings: Settings, parallelism: int
) -> list[Row]:
    emu.clear_requests()
    timed = fleet_apply(wd, parallelism).check()
    traffic = Traffic.of(emu.requests(), settings.latency_s)
    reads = max(sum(1 for e in traffic.entries if p in e["path"] and e["kind"] == "read") for p in projects)
    waves = max(waves_per_project(traffic.entries, p, settings.latency_s) for p in projects)
    in_flight = emu.concurrency()["max_in_flight"]
    mutating = sum(1 for e in traffic.entries if e["kind"] == "write")
    return [
        Row(
            f"fleet no-op re-run: {len(projects)} projects",
            "s",
            timed.seconds,
            note=f"max {in_flight} in flight",
        ),
        Row("fleet no-op re-run: mutating requests", "", mutating, goal="0", met=mutating == 0),
        Row(
            "fleet no-op re-run: reads per project (max)",
            "",
            reads,
            goal=f"<= {MAX_READS}",
            met=reads <= MAX_READS,
        ),
        Row(
            "fleet no-op re-run: waves per project (max)",
            "",
            waves,
            goal=f"<= {MAX_WAVES}",
            met=waves <= MAX_WAVES,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--no-gcloud", action="store_true", help="skip the gcloud scripts (minutes on 2 cores)"
    )
    args = parser.parse_args()
    settings = Settings(False, args.latency_ms, 2, 1, 1, (args.projects,))
    server = EmulatorProcess(settings.latency_ms, settings.operation_polls)
    with server:
        measured = measure(server, settings, gcloud=not args.no_gcloud)
    for row in measured.rows:
        value = "" if row.gcp_setup is None else f"{row.gcp_setup:.3f}".rstrip("0").rstrip(".")
        print(f"{row.metric:<70} {value:>9} {row.unit:<2} {row.goal:<40} {row.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
