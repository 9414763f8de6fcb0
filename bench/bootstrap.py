"""1. Fresh bootstrap: `gcp-setup apply --create` against bench/gcloud_bootstrap.sh, each in a fresh world
on the same emulator, and the two end states compared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import endstate
from floor import BOOTSTRAP, bootstrap_floor_s, critical_path, fewest_requests
from harness import (
    BILLING_ACCOUNT,
    GCP_SETUP,
    BenchError,
    Measurement,
    Row,
    Settings,
    Timed,
    Traffic,
    Workdir,
    gcloud_available,
    median,
    round_trips_worth,
    run_timed,
)

from gcp_setup import defaults
from gcp_setup.emulator.control import EmulatorControl

PROJECT = "bench-gemini-000"
GCLOUD_SCRIPT = Path(__file__).with_name("gcloud_bootstrap.sh")


def apply_cmd(project: str, *, verify: bool = False) -> list[str]:
    """The one command a user runs: create everything, write the .env. Without verify's smoke test by
    default: provisioning only, as the gcloud script does; one run measures the smoke test's cost."""
    return [
        *GCP_SETUP,
        "apply",
        "--create",
        "--yes",
        "--verify" if verify else "--no-verify",
        "--project",
        project,
        "--billing-account",
        BILLING_ACCOUNT,
        "--env-file",
        ".env",
    ]


def gcloud_script_env(project: str) -> dict[str, str]:
    """What the gcloud script creates: gcp-setup's defaults, so both aim at the same end state."""
    return {
        "PROJECT": project,
        "BILLING_ACCOUNT": BILLING_ACCOUNT,
        "SERVICES": " ".join(defaults.SERVICES),
        "SA_ID": defaults.SERVICE_ACCOUNT_ID,
        "SA_DISPLAY_NAME": defaults.SERVICE_ACCOUNT_DISPLAY_NAME,
        "ROLES": " ".join(defaults.ROLES),
        "KEY_ID": f"{defaults.API_KEY_ID_PREFIX}1",
        "KEY_DISPLAY_NAME": defaults.API_KEY_DISPLAY_NAME,
        "KEY_TARGETS": " ".join(defaults.API_KEY_TARGETS),
        "LOCATION": defaults.LOCATION,
        "ENV_FILE": "gcloud.env",
    }


@dataclass
class Run:
    timed: Timed
    traffic: Traffic
    end_state: dict[str, Any]

    @property
    def startup_s(self) -> float:
        """From starting the process to its first request reaching the emulator."""
        return self.traffic.first_arrival - self.timed.started_at


def _observed(emu: EmulatorControl, settings: Settings, timed: Timed, project: str, who: str) -> Run:
    run = Run(timed.check(), Traffic.of(emu.requests(), settings.latency_s), {})
    run.end_state = endstate.summary(emu.state(), project)
    endstate.require_complete(run.end_state, who)
    if run.traffic.server_errors:
        raise BenchError(f"{who}: the emulator answered {run.traffic.server_errors} request(s) with 5xx")
    return run


def run_gcp_setup(
    emu: EmulatorControl, settings: Settings, wd: Workdir, project: str = PROJECT, *, verify: bool = False
) -> Run:
    emu.reset()
    (wd.path / ".env").unlink(missing_ok=True)  # a fresh world's bootstrap: no .env of an earlier run
    return _observed(
        emu, settings, run_timed(apply_cmd(project, verify=verify), wd), project, "gcp-setup apply"
    )


def run_gcloud_script(emu: EmulatorControl, settings: Settings, wd: Workdir, project: str = PROJECT) -> Run:
    emu.reset()
    timed = run_timed(["bash", str(GCLOUD_SCRIPT)], wd, gcloud_script_env(project))
    return _observed(emu, settings, timed, project, "the gcloud script")


def measure(emu: EmulatorControl, settings: Settings, wd: Workdir) -> Measurement:
    """Alternates the two sides, then times apply with its default smoke test once; that run's finished
    project is left for the no-op measurement."""
    if not gcloud_available():
        raise BenchError("gcloud is not installed: the bootstrap comparison needs it")
    ours: list[Run] = []
    theirs: list[Run] = []
    for _ in range(settings.repeats):
        theirs.append(run_gcloud_script(emu, settings, wd))
        ours.append(run_gcp_setup(emu, settings, wd))
        endstate.require_same(ours[-1].end_state, theirs[-1].end_state)
    verified = run_gcp_setup(emu, settings, wd, verify=True)  # its finished project is left for the no-op
    trips, chain = critical_path(BOOTSTRAP, settings.operation_polls)
    floor = bootstrap_floor_s(settings.latency_s, settings.operation_polls)
    wall = median([r.timed.seconds for r in ours])
    gcloud_wall = median([r.timed.seconds for r in theirs])
    network = median([r.traffic.span_s for r in ours])
    rows = [
        Row(
            "bootstrap: wall time",
            "s",
            wall,
            gcloud_wall,
            floor,
            ">= 3x faster than gcloud",
            gcloud_wall >= 3 * wall,
            "vs floor includes Python start-up",
        ),
        Row(
            "bootstrap: time on the network",
            "s",
            network,
            median([r.traffic.span_s for r in theirs]),
            floor,
            "<= 1.3x floor",
            network <= 1.3 * floor,
            f"first request to last answer: {round_trips_worth(network, settings.latency_s)}",
        ),
        Row(
            "bootstrap: HTTP requests",
            "",
            ours[-1].traffic.requests,
            theirs[-1].traffic.requests,
            fewest_requests(BOOTSTRAP, settings.operation_polls),
            note="floor: mutations and polls only",
        ),
        Row(
            "bootstrap: start-up before the first request",
            "s",
            median([r.startup_s for r in ours]),
            median([r.startup_s for r in theirs]),
        ),
        Row("bootstrap: mutating requests", "", ours[-1].traffic.writes, theirs[-1].traffic.writes),
        Row(
            "bootstrap with apply's smoke test: wall time",
            "s",
            verified.timed.seconds,
            note=f"{verified.traffic.requests} requests, {_data_calls(verified)} of them to the models",
        ),
    ]
    details = {
        "critical path": {"steps": chain, "round trips": trips, "floor s": floor},
        "gcp-setup": [_run_details(r) for r in ours],
        "gcloud script": [_run_details(r) for r in theirs],
        "gcp-setup with the smoke test": _run_details(verified),
        "end state": ours[-1].end_state,
    }
    logs = {"gcp-setup": [r.traffic for r in ours], "gcloud script": [r.traffic for r in theirs]}
    return Measurement(rows, details, logs)


def _data_calls(run: Run) -> int:
    return sum(1 for e in run.traffic.entries if e["kind"] == "data")


def _run_details(run: Run) -> dict[str, Any]:
    t = run.traffic
    return {
        "wall s": run.timed.seconds,
        "start-up s": run.startup_s,
        "network s": t.span_s,
        "requests": t.requests,
        "writes": t.writes,
        "reads": t.reads,
        "4xx": t.client_errors,
        "calls": [f"{e['method']} {e['path']} {e['status']}" for e in t.entries],
    }
