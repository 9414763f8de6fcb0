"""`make bench`: gcp-setup against the gcloud script, on an emulator started as a separate process.

    .venv/bin/python bench/run.py                   # full run (a few minutes on 2 cores)
    .venv/bin/python bench/run.py --quick           # one run of each, small fleet (the smoke test)
    .venv/bin/python bench/run.py --update-readme   # also put the table into bench/README.md

Prints a table (metric, gcp-setup, gcloud script, ratio, floor) and writes bench/results.json. Exits 1
when a measurement could not be taken or the two sides did not reach the same end state; a goal that is
missed is reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # gcp_setup, when run as a script

import bootstrap
import coldstart
import fleet
import lro_polling
import noop
import report
import scale
import verify_speed
from harness import BenchError, EmulatorProcess, Measurement, Settings, cores, workdir

from gcp_setup import __version__

RESULTS = Path(__file__).with_name("results.json")
README = Path(__file__).resolve().parent / "README.md"


FULL = Settings(
    quick=False, latency_ms=50.0, operation_polls=2, repeats=3, cold_runs=7, scale=(1, 5, 10, 25, 50)
)
QUICK = Settings(quick=True, latency_ms=5.0, operation_polls=0, repeats=1, cold_runs=1, scale=(2,))
"""The quick mode (the smoke test) keeps every measurement but makes each cheap: operations done at once
(gcloud sleeps a second or more before each poll), little latency, one run, a fleet of two."""


def settings_from(args: argparse.Namespace) -> Settings:
    preset = QUICK if args.quick else FULL
    return replace(
        preset,
        latency_ms=preset.latency_ms if args.latency_ms is None else args.latency_ms,
        operation_polls=preset.operation_polls if args.operation_polls is None else args.operation_polls,
    )


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    try:
        gcloud = subprocess.run(
            ["gcloud", "version"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
        ).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        gcloud = "not installed"
    return {
        "nproc": cores(),
        "cpu": cpu,
        "python": platform.python_version(),
        "gcloud": gcloud,
        "gcp-setup": __version__,
        "os": platform.platform(),
        "load average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def run_all(settings: Settings) -> tuple[dict[str, Measurement], list[str]]:
    """Every measurement on one emulator; one that fails is reported and the others still run."""
    measurements: dict[str, Measurement] = {}
    errors: list[str] = []

    def attempt(name: str, measure: Callable[[], Measurement]) -> None:
        try:
            measurements[name] = measure()
        except (BenchError, subprocess.SubprocessError) as exc:
            errors.append(f"{name}: {exc}")

    server = EmulatorProcess(settings.latency_ms, settings.operation_polls)
    with server as emu, workdir(emu) as wd:
        attempt("bootstrap", lambda: bootstrap.measure(emu, settings, wd))
        attempt("no-op", lambda: noop.measure(emu, settings, wd))
        attempt("cold start", lambda: coldstart.measure(emu, settings, wd))
        attempt("verify", lambda: verify_speed.measure(emu, settings, wd))
        attempt("lro polling", lambda: lro_polling.measure(measurements.get("bootstrap"), settings))
        attempt("long operations", lambda: lro_polling.measure_long_operations(emu, settings))
        attempt("scale", lambda: scale.measure(server, settings))
        attempt(
            "fleet", lambda: fleet.measure(server, settings, measurements.get("scale"), not settings.quick)
        )
    return measurements, errors


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one run of each and a small fleet")
    parser.add_argument("--latency-ms", type=float, help="emulator latency per request (default 50, quick 5)")
    parser.add_argument(
        "--operation-polls", type=int, help="polls until an operation is done (default 2, quick 0)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the JSON results")
    parser.add_argument("--update-readme", action="store_true", help="put the table into bench/README.md")
    args = parser.parse_args()
    settings = settings_from(args)
    started, host = time.perf_counter(), machine()  # the load average before the bench adds its own
    measurements, errors = run_all(settings)
    results = {
        "machine": host,
        "settings": {
            "latency_ms": settings.latency_ms,
            "operation_polls": settings.operation_polls,
            "quick": settings.quick,
            "repeats": settings.repeats,
            "cold_runs": settings.cold_runs,
            "scale": list(settings.scale),
        },
        "rows": [row.to_json() for m in measurements.values() for row in m.rows],
        "details": {name: m.details for name, m in measurements.items()},
        "errors": errors,
        "seconds": time.perf_counter() - started,
    }
    args.results.write_text(json.dumps(results, indent=1) + "\n")
    table = report.markdown(results)
    print(table)
    print(f"\nwritten {args.results} in {results['seconds']:.0f} s")
    if args.update_readme:
        report.update_readme(README, table)
    for error in errors:
        print(f"\nFAILED {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
