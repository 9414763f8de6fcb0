"""Concurrent runs on the same secret files take turns: `apply` and `destroy` hold an exclusive lock on
the directory of every secret file they may write (the credentials file, the .env) from their first
read to their last write. Without it, five runs that each find no key file each create a key.

The lock is fcntl.flock on the directory itself, rather than the `filelock` package's lock file beside
the secret: flock is the same call filelock makes on Unix, the kernel drops it when its process dies
(even by SIGKILL, so no stale lock ever blocks the next run), and locking the directory leaves no
`.env.lock` behind to clutter, or be committed from, a work tree. Directories are locked in sorted
order, so two runs never wait for each other in a circle.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from gcp_setup.secrets.files import write_target


@contextmanager
def exclusive(
    paths: Iterable[Path], on_wait: Callable[[str], None], if_there: Iterable[Path] = ()
) -> Iterator[None]:
    """Hold the lock of the directory of each of `paths` (created 0700 when missing), and of each of
    `if_there` whose directory exists (files a run may clean up but does not write: no directory is
    made for them); `on_wait` is told when another run holds one and this run waits for it."""
    made = {write_target(p).parent.resolve() for p in paths}  # `.` and its full path: one lock
    there = {d for d in (write_target(p).parent.resolve() for p in if_there) if d.is_dir()}
    with ExitStack() as stack:
        for directory in sorted(made | there):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(directory, os.O_RDONLY)
            stack.callback(os.close, fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                on_wait(f"another gcp-setup run is writing in {directory}; waiting for it to finish")
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
