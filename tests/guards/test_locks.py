"""guards/locks.py: runs on the same secret files take turns."""

from __future__ import annotations

import threading
from pathlib import Path

from gcp_setup.guards.locks import exclusive


def test_a_second_run_waits_for_the_lock_on_the_same_secret_files(tmp_path):
    said: list[str] = []
    inside = threading.Event()
    with exclusive([tmp_path / ".env"], said.append):
        waiter = threading.Thread(
            target=lambda: exclusive([tmp_path / "key.json"], said.append).__enter__() and inside.set()
        )
        waiter.start()
        while not said:  # the second run has found the lock taken (structure, not time)
            waiter.join(0.01)
        assert not inside.is_set()
    waiter.join()
    assert said == [f"another gcp-setup run is writing in {tmp_path}; waiting for it to finish"]


def test_one_directory_named_two_ways_is_locked_once(tmp_path, monkeypatch):
    """`--env-file .env --credentials-file $PWD/key.json`: one directory, so one lock (two would be two
    flocks of one process on one directory, the second waiting for the first forever)."""
    monkeypatch.chdir(tmp_path)

    def waited(message: str) -> None:
        raise AssertionError(message)

    with exclusive([Path(".env"), tmp_path / "key.json"], waited):
        pass
