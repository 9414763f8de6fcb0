"""What every measurement shares: the emulator process, timed CLI runs in an isolated environment, the
emulator's request log summed up, and the rows of the results table."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcp_setup import envvars
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.gcloud_config import write_gcloud_config

ROOT = Path(__file__).resolve().parent.parent
BILLING_ACCOUNT = OPEN_ACCOUNT.removeprefix("billingAccounts/")
"""The open billing account every emulator world starts with, as both CLIs take it."""

_ENTRY_POINT = Path(sys.executable).parent / "gcp-setup"
GCP_SETUP: list[str] = [str(_ENTRY_POINT)] if _ENTRY_POINT.exists() else [sys.executable, "-m", "gcp_setup"]
"""How a user runs the CLI: the installed console script (falls back to `python -m gcp_setup`)."""


class BenchError(Exception):
    """A measurement could not be taken, or the two sides disagree: the benchmark fails loudly."""


# -- the emulator, as a separate process (as a user runs it) ------------------------------------------
@dataclass
class EmulatorProcess:
    latency_ms: float
    operation_polls: int
    process: subprocess.Popen | None = None
    control: EmulatorControl | None = None

    def start(self) -> EmulatorControl:
        cmd = [
            *GCP_SETUP,
            "emulator",
            "--port",
            str(free_port()),
            "--latency-ms",
            str(self.latency_ms),
            "--operation-polls",
            str(self.operation_polls),
        ]
        self.process = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        host = _read_emulator_host(self.process)
        self.control = EmulatorControl(f"http://{host}")
        deadline = time.monotonic() + 20
        while not self.control.healthy():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise BenchError(f"the emulator at {host} did not become healthy")
            time.sleep(0.05)
        return self.control

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used (user + system), from /proc: does it keep up?"""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> EmulatorControl:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_emulator_host(process: subprocess.Popen) -> str:
    """The emulator prints `export GCP_SETUP_EMULATOR_HOST=HOST:PORT` on stdout once it listens."""
    assert process.stdout is not None
    for line in process.stdout:
        match = re.match(rf"export {envvars.EMULATOR_HOST}=(\S+)", line.strip())
        if match:
            return match.group(1)
    raise BenchError(f"the emulator exited ({process.wait()}) before printing {envvars.EMULATOR_HOST}")


# -- timed CLI runs ---------------------------------------------------------------------------------
@dataclass
class Workdir:
    """A scratch directory per run: the working directory (so no gcp-setup.toml or .env of the repository
    is read or written) and a throwaway gcloud configuration pointed at the emulator."""

    path: Path
    emulator: EmulatorControl

    @property
    def env(self) -> dict[str, str]:
        """The environment of a run: nothing of the machine's Google settings, and a login the emulator
        issued just now (a reset between runs forgets earlier ones), as a user's ADC."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLOUDSDK_", "GOOGLE_", "GCP_SETUP_", "GEMINI_", "OPENAI_", "GITHUB_"))
        }
        adc = self.path / "application_default_credentials.json"
        adc.write_text(json.dumps(self.emulator.credentials()))
        adc.chmod(0o600)
        env[envvars.CREDENTIALS] = str(adc)
        env[envvars.EMULATOR_HOST] = self.emulator.host
        env[envvars.CLOUDSDK_CONFIG] = str(self.path / "gcloud-config")
        env["CLOUDSDK_CORE_DISABLE_PROMPTS"] = "1"
        return env


@contextmanager
def workdir(emulator: EmulatorControl) -> Iterator[Workdir]:
    with tempfile.TemporaryDirectory(prefix="gcp-setup-bench-") as tmp:
        path = Path(tmp)
        write_gcloud_config(path / "gcloud-config", emulator.url)
        yield Workdir(path, emulator)


@dataclass
class Timed:
    cmd: Sequence[str]
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    started_at: float
    """Wall clock (time.time, as the emulator's log stamps) when the process was started."""

    def check(self) -> Timed:
        if self.returncode != 0:
            tail = "\n".join((self.stderr or self.stdout).strip().splitlines()[-8:])
            raise BenchError(f"`{' '.join(self.cmd)}` exited {self.returncode}:\n{tail}")
        return self


def run_timed(
    cmd: Sequence[str], wd: Workdir, extra_env: dict[str, str] | None = None, timeout: float = 300
) -> Timed:
    env = {**wd.env, **(extra_env or {})}
    started_at, start = time.time(), time.perf_counter()
    done = subprocess.run(
        list(cmd),
        cwd=wd.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Timed(cmd, time.perf_counter() - start, done.returncode, done.stdout, done.stderr, started_at)


def start_process(cmd: Sequence[str], wd: Workdir) -> subprocess.Popen:
    return subprocess.Popen(
        list(cmd), cwd=wd.path, env=wd.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def gcloud_available() -> bool:
    return shutil.which("gcloud") is not None


def cores() -> int:
    """The cores this process may run on (what `nproc` prints)."""
    return len(os.sched_getaffinity(0))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def round_trips_worth(seconds: float, latency_s: float) -> str:
    """e.g. "12 round trips' worth": how many round trips a span of time amounts to."""
    n = round(seconds / latency_s)
    return f"{n} round trip's worth" if n == 1 else f"{n} round trips' worth"


# -- the request log -------------------------------------------------------------------------------
@dataclass
class Traffic:
    """The emulator's request log of one run, summed up."""

    requests: int
    writes: int
    reads: int
    client_errors: int
    server_errors: int
    first_arrival: float
    """Wall clock when the first request arrived (its answer's stamp minus the added latency)."""
    span_s: float
    """From the first request's arrival to the last answer: the run's time on the network, without the
    process's start-up. The log stamps each answer; arrival is that stamp minus the added latency."""
    entries: list[dict[str, Any]] = field(repr=False, default_factory=list)

    @classmethod
    def of(cls, entries: list[dict[str, Any]], latency_s: float) -> Traffic:
        stamps = [e["at"] for e in entries] or [0.0]
        first_arrival = min(stamps) - latency_s
        return cls(
            requests=len(entries),
            writes=sum(1 for e in entries if e["kind"] == "write" and e["status"] < 400),
            reads=sum(1 for e in entries if e["kind"] == "read"),
            client_errors=sum(1 for e in entries if 400 <= e["status"] < 500),
            server_errors=sum(1 for e in entries if e["status"] >= 500),
            first_arrival=first_arrival,
            span_s=max(stamps) - first_arrival,
            entries=entries,
        )


# -- results -----------------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the table. `ratio` is gcloud script / gcp-setup (how many times faster, or fewer
    calls); `vs_floor` is gcp-setup / floor."""

    metric: str
    unit: str
    gcp_setup: float | None
    gcloud: float | None = None
    floor: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.gcp_setup and self.gcloud is not None:
            return self.gcloud / self.gcp_setup
        return None

    @property
    def vs_floor(self) -> float | None:
        if self.gcp_setup is not None and self.floor:
            return self.gcp_setup / self.floor
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "gcp_setup": self.gcp_setup,
            "gcloud_script": self.gcloud,
            "ratio": self.ratio,
            "floor": self.floor,
            "vs_floor": self.vs_floor,
            "goal": self.goal,
            "met": self.met,
            "note": self.note,
        }


@dataclass
class Settings:
    """What a measurement may vary between the full run and the quick one (the smoke test)."""

    quick: bool
    latency_ms: float
    operation_polls: int
    repeats: int
    """Bootstrap and no-op runs per side; the median is reported."""
    cold_runs: int
    scale: tuple[int, ...]

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000


@dataclass
class Measurement:
    """What one module measured: rows for the table, and details for results.json."""

    rows: list[Row]
    details: dict[str, Any] = field(default_factory=dict)
    """Goes into results.json."""
    logs: dict[str, list[Traffic]] = field(default_factory=dict)
    """Request logs other measurements read (the bootstrap's, for the polling overshoot)."""
