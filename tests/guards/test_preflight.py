"""guards/preflight.py: a secret destination that cannot work, or that git would commit, is refused before
any request; --credentials none makes no directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

from safety_kit import OPEN, PROJECT, apply, error_line, gcp_setup


def git_work_tree(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


def test_a_secret_file_git_would_commit_is_refused_before_any_request(home_env, clean_config):
    git_work_tree(clean_config)
    env_file = clean_config / ".env"
    refused = apply("--env-file", str(env_file))
    assert refused.exit_code == 2
    assert error_line(refused) == (
        f"Error: --env-file {env_file}: it is inside a git work tree and git does not ignore it, so it could "
        "be committed; add it to .gitignore, or pass --allow-unignored"
    )
    assert home_env.requests() == []
    assert apply("--env-file", str(env_file), "--allow-unignored").exit_code == 0
    env_file.unlink()
    (clean_config / ".gitignore").write_text(".env\n")
    assert apply("--env-file", str(env_file)).exit_code == 0


def test_without_git_a_secret_file_in_a_work_tree_is_refused_saying_so(home_env, clean_config, monkeypatch):
    (clean_config / ".git").mkdir()
    monkeypatch.setenv("PATH", str(clean_config / "no-bin"))
    refused = apply("--env-file", str(clean_config / ".env"))
    assert refused.exit_code == 2
    assert "git is not installed to tell whether it is ignored" in error_line(refused)


def test_credentials_none_makes_no_directory_for_a_credentials_file(home_env, clean_config, monkeypatch):
    monkeypatch.setenv("HOME", str(clean_config))
    billing = ("--billing-account", OPEN)
    result = gcp_setup("apply", "--project", PROJECT, "--create", *billing, "--credentials", "none", "--yes")
    assert result.exit_code == 0, result.output
    assert not (clean_config / ".config" / "gcp-setup").exists()
