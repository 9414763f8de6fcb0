"""The suites `make reliability` runs and counts (issue 13): fault seeds, SIGKILLs, concurrent applies,
bad inputs, emulator fuzz, and a scan of everything gcp-setup printed for the run's actual secrets.

Each test adds its counts to `tally` (`tally.add(row, **counts)`), a JSON-lines file named by
RELIABILITY_REPORT; `python -m tests.reliability.table FILE` prints the table docs/safety.md quotes.
Every suite is marked `reliability` (and `slow`): `make test` leaves them to `make reliability`. This
is their shared kit: the tally, the secret scan, and gcp-setup in a process of its own (no conftest.py
here: tests elsewhere import the top conftest by name).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gcp_setup.emulator.control import EmulatorControl

REPORT = os.environ.get("RELIABILITY_REPORT")
MARKS = [pytest.mark.reliability, pytest.mark.slow]


class Tally:
    def add(self, row: str, **counts: int) -> None:
        if REPORT:
            with open(REPORT, "a", encoding="utf-8") as f:
                f.write(json.dumps({"row": row, **counts}) + "\n")


tally = Tally()


def secret_values(state: dict[str, Any], world: Any = None, files: Iterable[Path] = ()) -> set[str]:
    """The run's actual secrets: every API key string and private key the emulator holds (and each line
    of a PEM body, so that part of one is found too), the access tokens it issued, and the private key of
    every key file given."""
    found: set[str] = set()

    def walk(value: Any, name: str = "") -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, str(key))
        elif isinstance(value, list):
            for item in value:
                walk(item, name)
        elif isinstance(value, str) and re.search(r"key_string|keyString|private|token|secret", name, re.I):
            add(value)

    def add(text: str) -> None:
        if "PRIVATE KEY" in text:
            found.update(line for line in text.splitlines() if len(line) >= 40 and "-----" not in line)
        elif len(text) >= 16:
            found.add(text)

    walk(state)
    if world is not None:
        with world.lock:
            for token in list(world.tokens.by_value):
                add(token)
    for path in files:
        if path.is_file():
            with contextlib.suppress(ValueError):
                add(json.loads(path.read_text()).get("private_key", ""))
    return found


def secrets_in(texts: Iterable[str], secrets: set[str]) -> int:
    """How many (text, secret) pairs have the secret inside the text."""
    return sum(1 for text in texts for secret in secrets if secret in text)


@dataclass
class Outputs:
    """Everything gcp-setup printed in a test, for the secret scan."""

    texts: list[str] = field(default_factory=list)

    def keep(self, *texts: str | None) -> None:
        self.texts.extend(t for t in texts if t)


def run_cli(emu: EmulatorControl, home: Path, *args: str, **popen: Any) -> subprocess.Popen:
    """`gcp-setup ARGS` in a process of its own (what SIGKILL and concurrency need), on the emulator,
    in `home` (its HOME and working directory), with no settings from this machine: only the login the
    emulator issued for the test (the `emu` fixture's ADC file)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GCP_SETUP_", "GOOGLE_", "CLOUDSDK_", "GEMINI_", "OPENAI_", "GITHUB_"))
    }
    env |= {
        "GCP_SETUP_EMULATOR_HOST": emu.host,
        "GOOGLE_APPLICATION_CREDENTIALS": os.environ["GOOGLE_APPLICATION_CREDENTIALS"],
        "HOME": str(home),
        "CLOUDSDK_CONFIG": str(home / "gcloud"),
        "NO_GCE_CHECK": "True",
        "GCP_SETUP_VERIFY": "false",  # the smoke test is the fault seeds' business
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gcp_setup", *args],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )
