"""5. Scale: N `gcp-setup apply --create` processes at once, each on its own project, against one emulator.
Wall time until the last one finishes, requests, and whether the emulator kept up (no 5xx, none failed)."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack

import endstate
from bootstrap import apply_cmd
from floor import bootstrap_floor_s
from harness import (
    EmulatorProcess,
    Measurement,
    Row,
    Settings,
    Traffic,
    Workdir,
    cores,
    start_process,
    workdir,
)

from gcp_setup.emulator.control import EmulatorControl


def _project(n: int, i: int) -> str:
    return f"bench-fleet-{n:02d}-{i:03d}"


def run_processes(emu: EmulatorControl, n: int) -> tuple[float, list[str]]:
    """Starts n applies at once; returns the wall time and the errors of those that failed."""
    with ExitStack() as stack:
        dirs: list[Workdir] = [stack.enter_context(workdir(emu)) for _ in range(n)]
        start = time.perf_counter()
        procs = [start_process(apply_cmd(_project(n, i)), wd) for i, wd in enumerate(dirs)]
        outputs = [p.communicate(timeout=600) for p in procs]
        wall = time.perf_counter() - start
    failures = [
        f"{_project(n, i)} exited {p.returncode}: {err.strip().splitlines()[-1:]}"
        for i, (p, (_, err)) in enumerate(zip(procs, outputs, strict=True))
        if p.returncode
    ]
    return wall, failures


def _children_cpu_seconds() -> float:
    """CPU time of the finished child processes (the applies): on few cores, the fleet is CPU-bound."""
    t = os.times()
    return t.children_user + t.children_system


def measure(server: EmulatorProcess, settings: Settings) -> Measurement:
    emu = server.control
    assert emu is not None, "the emulator is not running"
    rows, details = [], {}
    floor = bootstrap_floor_s(settings.latency_s, settings.operation_polls)
    for n in settings.scale:
        emu.reset()
        cpu_before, clients_before = server.cpu_seconds(), _children_cpu_seconds()
        wall, failures = run_processes(emu, n)
        emulator_cpu = server.cpu_seconds() - cpu_before
        clients_cpu = _children_cpu_seconds() - clients_before
        traffic = Traffic.of(emu.requests(), settings.latency_s)
        state = emu.state()
        for i in range(n):
            if not any(f.startswith(_project(n, i)) for f in failures):
                endstate.require_complete(
                    endstate.summary(state, _project(n, i)), f"apply of {_project(n, i)}"
                )
        kept_up = not failures and not traffic.server_errors
        rows.append(
            Row(
                f"scale: {n} applies at once",
                "s",
                wall,
                floor=floor,
                goal="all succeed, no 5xx",
                met=kept_up,
                note=f"{traffic.requests} requests ({traffic.requests / n:.1f} per project), "
                f"{traffic.server_errors} 5xx, {len(failures)} failed, CPU: emulator {emulator_cpu:.1f} s, "
                f"applies {clients_cpu:.1f} s ({clients_cpu / cores():.1f} s per core)",
            )
        )
        details[str(n)] = {
            "wall s": wall,
            "requests": traffic.requests,
            "5xx": traffic.server_errors,
            "emulator cpu s": emulator_cpu,
            "applies cpu s": clients_cpu,
            "failures": failures,
        }
    return Measurement(rows, details)
