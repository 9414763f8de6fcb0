"""3. Cold start: the process time of commands a user types often, against `gcloud version`, the least
any gcloud command costs. Median of several fresh processes."""

from __future__ import annotations

from collections.abc import Sequence

from bootstrap import PROJECT
from harness import GCP_SETUP, Measurement, Row, Settings, Workdir, gcloud_available, median, run_timed

from gcp_setup.emulator.control import EmulatorControl

HELP_GOAL_S = 0.3


def _median_seconds(cmd: Sequence[str], wd: Workdir, runs: int) -> float:
    return median([run_timed(cmd, wd).check().seconds for _ in range(runs)])


def measure(emu: EmulatorControl, settings: Settings, wd: Workdir) -> Measurement:
    """`plan` runs against the finished project the bootstrap measurement left behind."""
    runs = settings.cold_runs
    gcloud = _median_seconds(["gcloud", "version"], wd, runs) if gcloud_available() else None
    help_s = _median_seconds([*GCP_SETUP, "--help"], wd, runs)
    rows = [
        Row(
            "cold start: --help",
            "s",
            help_s,
            gcloud,
            goal=f"< {HELP_GOAL_S}",
            met=help_s < HELP_GOAL_S,
            note="gcloud column: `gcloud version`",
        ),
        Row("cold start: --version", "s", _median_seconds([*GCP_SETUP, "--version"], wd, runs), gcloud),
        Row(
            "cold start: plan, finished project",
            "s",
            _median_seconds([*GCP_SETUP, "plan", "--project", PROJECT], wd, runs),
            note=f"includes its reads at {settings.latency_ms:g} ms latency",
        ),
    ]
    return Measurement(rows, {"runs": runs})
