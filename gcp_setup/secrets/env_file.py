"""The `.env`: read with python-dotenv's parser (what the users' programs load it with), and merged: our
variables replace their old lines in place, other lines stay as they are, and no variable appears twice. A
variable may carry a note, a `# gcp-setup: NAME ...` comment on the line above it, rewritten with it (the
API key's says which key its string is, see credentials)."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path

from gcp_setup.secrets.files import read_text_exactly, write_secret_file

NOTE_PREFIX = "# gcp-setup: "
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
"""A variable's line, as merge_env_text finds the one to replace."""
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_./:@+,=-]*$")


def env_line(name: str, value: str) -> str:
    """`NAME=value`, double-quoted when the value holds anything a dotenv parser could misread, with the
    backslash escapes python-dotenv decodes (backslash and quote; a `$` stays as it is)."""
    if _PLAIN_VALUE.match(value):
        return f"{name}={value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


def parse_env_text(text: str) -> dict[str, str]:
    """The variables of dotenv text, read by python-dotenv's parser (`dotenv_values`, what the users'
    programs load the .env with, `${VAR}` expansion included), so that gcp-setup and they read it alike.
    A name without a value is left out; a later line of a name wins."""
    from dotenv import dotenv_values

    return {
        name: value for name, value in dotenv_values(stream=io.StringIO(text)).items() if value is not None
    }


def parse_env_notes(text: str) -> dict[str, str]:
    """gcp-setup's notes in dotenv text, by variable: `# gcp-setup: NAME note` gives {NAME: note}."""
    notes: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith(NOTE_PREFIX):
            name, _, note = line[len(NOTE_PREFIX) :].partition(" ")
            notes[name] = note
    return notes


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of the dotenv file at `path` (OSError when it cannot be read)."""
    return parse_env_text(Path(path).expanduser().read_text())


def merge_env_text(existing: str, values: Mapping[str, str], notes: Mapping[str, str] | None = None) -> str:
    """`existing` dotenv text with `values` set: a variable's first line is replaced in place, later
    duplicates of it are dropped, new variables are appended; comments and other lines are kept.
    `notes` go on the line above their variable; gcp-setup's older notes of these variables go."""
    notes = notes or {}
    newline = "\r\n" if "\r\n" in existing else "\n"  # a CRLF file stays CRLF
    out: list[str] = []
    written: set[str] = set()
    for line in existing.splitlines():
        if line.startswith(NOTE_PREFIX) and line[len(NOTE_PREFIX) :].partition(" ")[0] in values:
            continue
        match = _ENV_LINE.match(line)
        name = match.group(1) if match else None
        if name is not None and name in values:
            if name not in written:
                out.extend(_variable_lines(name, values[name], notes))
                written.add(name)
            continue
        out.append(line)
    for name, value in values.items():
        if name not in written:
            out.extend(_variable_lines(name, value, notes))
    return newline.join(out) + newline


def _variable_lines(name: str, value: str, notes: Mapping[str, str]) -> list[str]:
    note = [f"{NOTE_PREFIX}{name} {notes[name]}"] if name in notes else []
    return [*note, env_line(name, value)]


def merge_env_file(path: Path, values: Mapping[str, str], notes: Mapping[str, str] | None = None) -> bool:
    """Merge `values` (and their `notes`) into the dotenv file at `path` (0600: it may hold a key).
    True when it changed."""
    path = Path(path).expanduser()
    existing = read_text_exactly(path) if path.exists() else ""
    merged = merge_env_text(existing, values, notes)
    if merged == existing and path.exists():
        return False
    write_secret_file(path, merged)
    return True
