"""8. verify: how long `gcp-setup verify --env-file .env` takes on a finished project, against its floor.

Its checks are independent of each other's requests, so its floor is its longest check's chain of round
trips: each check is run alone (`--only NAME`) and its requests counted (a check's calls wait for each
other); floor = the most requests of one check x the latency. Time on the network is the whole verify's
first request to its last answer; start-up is the process's start to its first request (Python,
click, google-genai and openai imports). Runs alone with `python bench/verify_speed.py`."""

from __future__ import annotations

import sys

from harness import (
    BILLING_ACCOUNT,
    GCP_SETUP,
    EmulatorProcess,
    Measurement,
    Row,
    Settings,
    Traffic,
    Workdir,
    median,
    round_trips_worth,
    run_timed,
    workdir,
)

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.verify import CHECK_NAMES

PROJECT = "bench-verify-000"
ENV_FILE = "verify.env"
CHECKS = tuple(n for n in CHECK_NAMES if n != "vertex-express")
"""The checks a default apply gives what they need (no express key)."""
NETWORK_GOAL = 1.5
STARTUP_GOAL_S = 0.4


def verify_cmd(*only: str) -> list[str]:
    return [
        *GCP_SETUP,
        "verify",
        "--env-file",
        ENV_FILE,
        "--allow-skipped",
        *(a for n in only for a in ("--only", n)),
    ]


def set_up(wd: Workdir) -> None:
    """A finished project whose .env carries every check's needs (a key-file ADC the emulator issues)."""
    apply = [
        *GCP_SETUP, "apply", "--create", "--yes", "--no-verify", "--project", PROJECT,
        "--billing-account", BILLING_ACCOUNT, "--env-file", ENV_FILE, "--credentials", "key-file",
        "--allow-key-file", "--credentials-file", str(wd.path / "verify-key.json"),
    ]  # fmt: skip
    run_timed(apply, wd).check()


def measure(emu: EmulatorControl, settings: Settings, wd: Workdir) -> Measurement:
    set_up(wd)
    chains = {}
    for name in CHECKS:
        emu.clear_requests()
        run_timed(verify_cmd(name), wd).check()
        chains[name] = len(emu.requests())
    floor = max(chains.values()) * settings.latency_s
    spans, startups = [], []
    for _ in range(settings.repeats):
        emu.clear_requests()
        timed = run_timed(verify_cmd(), wd).check()
        traffic = Traffic.of(emu.requests(), settings.latency_s)
        spans.append(traffic.span_s)
        startups.append(traffic.first_arrival - timed.started_at)
    network, startup = median(spans), median(startups)
    longest = max(chains, key=chains.get)
    rows = [
        Row(
            "verify: time on the network",
            "s",
            network,
            floor=floor,
            goal=f"<= {NETWORK_GOAL}x floor",
            met=network <= NETWORK_GOAL * floor,
            note=f"{round_trips_worth(network, settings.latency_s)}; floor: {longest}'s "
            f"{chains[longest]} requests (the checks run at once)",
        ),
        Row(
            "verify: start-up before the first request",
            "s",
            startup,
            goal=f"<= {STARTUP_GOAL_S} s",
            met=startup <= STARTUP_GOAL_S,
            note="Python, click, google-genai and openai imports",
        ),
    ]
    return Measurement(rows, {"requests per check": chains})


def main() -> int:
    from run import FULL

    with EmulatorProcess(FULL.latency_ms, FULL.operation_polls) as emu, workdir(emu) as wd:
        measured = measure(emu, FULL, wd)
    for row in measured.rows:
        floor = f", floor {row.floor:.3f} s ({row.vs_floor:.2f}x)" if row.floor else ""
        print(
            f"{row.metric}: {row.gcp_setup:.3f} s{floor}; goal {row.goal}: {'met' if row.met else 'missed'}"
        )
        print(f"  {row.note}")
    print(f"requests per check: {measured.details['requests per check']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
