"""Where secrets (an API key string, a service-account key, an ADC file) may go, and how.

- Files holding secrets are written atomically (a temporary file in the same directory, then
  rename), created with mode 0600 from the start, so no reader ever sees half a file or a
  world-readable one. A file that exists keeps the mode its owner gave it (gcp-setup neither loosens
  nor tightens it; `loose_mode_note` says when it is looser than 0600). A symlink is written through:
  the temporary file goes beside its target and is renamed onto it, so the link stays a link and no
  other file's content is copied anywhere. The directory must not be world-writable (anyone could
  swap the file there). A kill between the temporary file and the rename leaves `.NAME.XXXX.tmp`
  behind; `stray_temp_files` finds it for the next run's plan.
- A `.env` is read with python-dotenv's parser (what the users' programs load it with), and merged:
  our variables replace their old lines in place, other lines stay as they are, and no variable
  appears twice. A variable may carry a note, a `# gcp-setup: NAME ...` comment on the
  line above it, rewritten with it (the API key's says which key its string is, see credentials).
- In GitHub Actions, `$GITHUB_ENV` gets `NAME=value` lines, and every secret value is first
  registered with the `::add-mask::` workflow command so the runner hides it in all later logs. The
  command goes to stderr: the runner reads workflow commands from both streams, and stdout stays
  exactly the `--format json` document. A mask covers one line, so each line of a value is masked.
  Outside GitHub Actions that command is not printed.
"""

from __future__ import annotations

import glob
import io
import os
import re
import secrets
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from gcp_setup.errors import UsageError


@dataclass(frozen=True)
class Secret:
    """A value that must not be printed (an API key string): str(), repr(), format() and a JSON encoder's
    `default=str` all give ***. Only the code that writes it where it belongs calls `reveal()`."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)


def revealed(value: str | Secret) -> str:
    return value.reveal() if isinstance(value, Secret) else value


def revealed_all(values: Mapping[str, str | Secret]) -> dict[str, str]:
    """`values` with every Secret unwrapped: for the writers that put them where they belong."""
    return {name: revealed(value) for name, value in values.items()}


SECRET_MODE = 0o600
TEMP_SUFFIX = ".tmp"
NOTE_PREFIX = "# gcp-setup: "
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
"""A variable's line, as merge_env_text finds the one to replace."""
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_./:@+,=-]*$")


def write_secret_file(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` atomically: mode 0600 for a new file, the mode it has for an existing one
    (the parent directory is created 0700). A symlink is written through to its target."""
    target = write_target(path)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    problem = directory_problem(target.parent)
    if problem:
        raise UsageError(f"will not write a secret to {target}: {problem}")
    mode = target.stat().st_mode & 0o777 if target.exists() else SECRET_MODE
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)  # 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_target(path: Path) -> Path:
    """The file a write to `path` changes: `path` itself, or the file its symlinks lead to."""
    path = Path(path).expanduser()
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def directory_problem(directory: Path) -> str | None:
    """Why a secret must not go into `directory` (world-writable: anyone may replace or pre-create the
    file there), or None."""
    try:
        mode = directory.stat().st_mode
    except OSError:
        return None  # missing: created 0700 by the writer, or reported by the checks before any write
    if mode & stat.S_IWOTH:
        return f"{directory} is writable by every user; choose a directory only you can write to"
    return None


def loose_mode_note(path: Path) -> str | None:
    """A note when the file at `path` is readable or writable by others (looser than 0600): gcp-setup
    keeps the mode its owner set, and says so."""
    try:
        mode = write_target(path).stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077 == 0:
        return None
    return f"{path} is mode {mode:04o}, open to other users; kept as you set it (chmod 600 {path} closes it)"


def stray_temp_files(path: Path) -> list[Path]:
    """Temporary files a killed write of `path` left beside it (or beside its symlink's target)."""
    target = write_target(path)
    try:
        return sorted(target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"))
    except OSError:
        return []


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


def read_text_exactly(path: Path) -> str:
    """The text of `path` with its line endings as they are (read_text() would turn CRLF into LF)."""
    with open(Path(path).expanduser(), encoding="utf-8", newline="") as f:
        return f.read()


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
