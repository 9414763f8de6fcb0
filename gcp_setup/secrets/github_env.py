"""GitHub Actions' environment files: `$GITHUB_ENV` gets `NAME=value` lines, and every secret value is
first registered with the `::add-mask::` workflow command so the runner hides it in all later logs. The
command goes to stderr: the runner reads workflow commands from both streams, and stdout stays exactly the
`--format json` document. A mask covers one line, so each line of a value is masked. Outside GitHub
Actions that command is not printed."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from gcp_setup.secrets.secret import Secret, revealed_all


def append_github_env(path: Path, values: Mapping[str, str | Secret], commands: TextIO | None = None) -> None:
    """Export `values` to later steps of a GitHub Actions job; mask the Secret ones first. The mask
    command carries the secret itself, so it is written only inside GitHub Actions (GITHUB_ACTIONS=true),
    where the runner consumes it, never to a terminal or a local log."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        commands = commands or sys.stderr
        masked = {n: v for n, v in values.items() if isinstance(v, Secret)}
        for name in sorted(masked):
            for line in masked[name].reveal().splitlines():
                if line.strip():
                    commands.write(f"::add-mask::{line}\n")
        commands.flush()
    append_workflow_file(path, revealed_all(values))


def append_workflow_file(path: Path, values: Mapping[str, str]) -> None:
    """Append `values` to a GitHub Actions environment file ($GITHUB_ENV, $GITHUB_OUTPUT): `NAME=value`,
    or for a multi-line value GitHub's `NAME<<DELIMITER` syntax, with a delimiter that cannot occur in it."""
    with open(Path(path), "a", encoding="utf-8") as f:
        for name, value in values.items():
            if "\n" in value or "\r" in value:
                delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
                f.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                f.write(f"{name}={value}\n")


def github_env_has(path: Path, values: Mapping[str, str]) -> bool:
    """$GITHUB_ENV already sets every one of `values` to that value (its last assignment wins)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return False
    current: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and "<<" not in name:
            current[name] = value
    return all(current.get(name) == value for name, value in values.items())
