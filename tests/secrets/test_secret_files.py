"""How gcp-setup writes files that hold secrets (issue 13, point 6 and the secret-file rules): through
symlinks to their target, keeping the owner's mode and line endings, never into a world-writable
directory, and with what a killed write leaves behind findable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gcp_setup.errors import UsageError
from gcp_setup.secrets.env_file import merge_env_file
from gcp_setup.secrets.files import loose_mode_note, read_text_exactly, stray_temp_files, write_secret_file


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_symlinked_env_is_written_through_to_its_target_which_keeps_its_mode(tmp_path):
    target = tmp_path / "shared" / "real.env"
    target.parent.mkdir()
    target.write_text("MINE=1\n")
    target.chmod(0o640)
    link = tmp_path / ".env"
    link.symlink_to(target)

    assert merge_env_file(link, {"A": "b"})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "MINE=1\nA=b\n" and mode_of(target) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.env"]  # the temp file went beside it


def test_a_crlf_env_keeps_its_crs_and_a_0400_env_gains_no_write_bit(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(b"# mine\r\nDEBUG=1\r\n")
    env.chmod(0o400)
    assert merge_env_file(env, {"A": "b"})
    assert read_text_exactly(env) == "# mine\r\nDEBUG=1\r\nA=b\r\n"
    assert mode_of(env) == 0o400
    assert not merge_env_file(env, {"A": "b"})  # already current: not rewritten


def test_a_mode_looser_than_0600_is_kept_and_said(tmp_path):
    env = tmp_path / ".env"
    env.write_text("A=1\n")
    env.chmod(0o644)
    write_secret_file(env, "A=2\n")
    assert mode_of(env) == 0o644
    assert (
        loose_mode_note(env)
        == f"{env} is mode 0644, open to other users; kept as you set it (chmod 600 {env} closes it)"
    )
    env.chmod(0o600)
    assert loose_mode_note(env) is None


def test_no_secret_goes_into_a_world_writable_directory(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(UsageError, match="is writable by every user"):
        write_secret_file(shared / "key.json", "secret")
    assert list(shared.iterdir()) == []


def test_the_temp_file_a_killed_write_leaves_is_found(tmp_path):
    key = tmp_path / "key.json"
    left = tmp_path / ".key.json.ab12cd.tmp"
    left.write_text("half a key")
    (tmp_path / ".other.json.x.tmp").write_text("not ours")
    assert stray_temp_files(key) == [left]
