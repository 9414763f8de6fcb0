"""Files that hold secrets (an API key string, a service-account key, an ADC file).

They are written atomically (a temporary file in the same directory, then rename), created with mode 0600
from the start, so no reader ever sees half a file or a world-readable one. A file that exists keeps the
mode its owner gave it (gcp-setup neither loosens nor tightens it; `loose_mode_note` says when it is looser
than 0600). A symlink is written through: the temporary file goes beside its target and is renamed onto
it, so the link stays a link and no other file's content is copied anywhere. The directory must not be
world-writable (anyone could swap the file there). A kill between the temporary file and the rename leaves
`.NAME.XXXX.tmp` behind; `stray_temp_files` finds it for the next run's plan.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile
from pathlib import Path

from gcp_setup.errors import UsageError

SECRET_MODE = 0o600
TEMP_SUFFIX = ".tmp"


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


def read_text_exactly(path: Path) -> str:
    """The text of `path` with its line endings as they are (read_text() would turn CRLF into LF)."""
    with open(Path(path).expanduser(), encoding="utf-8", newline="") as f:
        return f.read()
