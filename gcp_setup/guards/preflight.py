"""Checks made before any request: where the secret files go. A destination that cannot work (a missing
directory, a directory that is a file, one this user cannot write in, one every user can write in) or
that git would offer to commit is refused with one line naming the fix, before anything is changed.

Whether git ignores a path is asked of the `git` binary (`git check-ignore`), the only judge of the
many places ignore rules live; gcp-setup never shells out to gcloud, but git it may ask. Without git,
a secret file under a directory holding `.git` is refused, saying that git is missing to tell.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from gcp_setup.errors import UsageError
from gcp_setup.secrets.files import directory_problem, write_target
from gcp_setup.settings.config import Config


def check_secret_destinations(config: Config, credentials_file: Path | None) -> None:
    """Refuse (UsageError) a .env or credentials file that cannot be written safely where it is asked for.
    `credentials_file`: where this configuration writes its credentials JSON (None: it writes none)."""
    given = [("--env-file", config.env_file), ("--credentials-file", credentials_file)]
    for flag, path in given:
        if path is None:
            continue
        target = write_target(Path(path).expanduser())
        problem = destination_problem(target, must_exist=flag == "--env-file" or config.credentials_file)
        if problem:
            raise UsageError(f"{flag} {path}: {problem}")
        if not config.allow_unignored:
            problem = unignored_problem(target)
            if problem:
                raise UsageError(f"{flag} {path}: {problem}; add it to .gitignore, or pass --allow-unignored")


def destination_problem(target: Path, must_exist: object = True) -> str | None:
    """Why a secret file cannot be written at `target`, or None. `must_exist`: its directory must exist
    (a path the user gave); gcp-setup's own default directory is created."""
    if target.is_dir():
        return "is a directory; name a file in it, e.g. " + str(target / ".env")
    directory = target.parent
    existing = next((d for d in [directory, *directory.parents] if d.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"{existing} is a file, not a directory"
    if not directory.exists():
        if must_exist:
            return f"directory {directory} does not exist; create it first (mkdir -p {directory})"
        directory = existing or directory
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"you cannot write in {directory}; choose a directory you own"
    return directory_problem(directory)


def unignored_problem(target: Path) -> str | None:
    """Why a secret written at `target` could be committed to git (in a work tree, not ignored), or None."""
    directory = next((d for d in [target.parent, *target.parents] if d.is_dir()), None)
    if directory is None:
        return None
    git = shutil.which("git")
    if git is None:
        root = next((d for d in [directory, *directory.parents] if (d / ".git").exists()), None)
        if root is None:
            return None
        return f"it is in the git work tree {root}, and git is not installed to tell whether it is ignored"
    answer = subprocess.run(
        [git, "-C", str(directory), "check-ignore", "-q", "--", str(target)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if answer.returncode != 1:  # 0: ignored; 128: not in a work tree (or git cannot tell)
        return None
    return "it is inside a git work tree and git does not ignore it, so it could be committed"
