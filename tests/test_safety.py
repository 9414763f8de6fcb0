"""Issue 13's fixes, each kept by a test: through the CLI in-process, real HTTP to the emulator.

- a key created by a run that died before writing it is found and deleted by the next run (point 1);
- runs on the same secret files take turns (point 2);
- destroy never claims what did not happen, and keeps a project gcp-setup did not create (4, 5);
- a secret file git would commit is refused (7); bad input Google can judge and missing permissions
  are refused before any write (8).
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.google.iam import IamClient, key_id_of_file, service_account_email
from gcp_setup.google.session import GoogleSession
from gcp_setup.guards.locks import exclusive

PROJECT = "safety-test-1"
OPEN = OPEN_ACCOUNT.removeprefix("billingAccounts/")
EMAIL = service_account_email(defaults.SERVICE_ACCOUNT_ID, PROJECT)


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def error_line(result) -> str:
    """The one `Error:` line of a refused run (stderr also has the header line)."""
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    return line


def apply(*extra: str):
    return gcp_setup("apply", "--project", PROJECT, "--create", "--billing-account", OPEN, "--yes", *extra)


@pytest.fixture
def env(provision_env, clean_config, monkeypatch):
    monkeypatch.setenv("HOME", str(clean_config))
    return provision_env


def user_keys(env) -> list[str]:
    keys = IamClient(GoogleSession.create(env.host)).list_user_keys(PROJECT, EMAIL)
    return sorted(k["name"].rsplit("/", 1)[-1] for k in keys)


def test_a_key_no_file_holds_after_a_cut_is_deleted_by_the_next_run(env, clean_config):
    key_file = clean_config / "sa-key.json"
    key_flags = ("--credentials", "key-file", "--allow-key-file", "--credentials-file", str(key_file))
    assert apply().exit_code == 0
    env.clear_requests()
    env.set_realism(drop_after_writes=1)  # keys.create is applied, its answer never arrives
    cut = apply(*key_flags)
    assert cut.exit_code == 1
    assert [w["method_id"] for w in env.writes()] == ["iam.projects.serviceAccounts.keys.create"]  # once
    orphan = user_keys(env)
    assert len(orphan) == 1 and not key_file.exists()

    plan = gcp_setup("plan", "--project", PROJECT, *key_flags)
    assert f"- secret_files      delete key {orphan[0]}, which an interrupted run created" in plan.stdout
    assert apply(*key_flags).exit_code == 0
    assert user_keys(env) == [key_id_of_file(key_file.read_bytes())]
    assert sorted(p.name for p in clean_config.iterdir() if p.name.startswith(".sa-key")) == []
    env.clear_requests()
    assert apply(*key_flags).exit_code == 0 and env.writes() == []


def test_a_temp_file_a_killed_write_left_is_planned_and_removed(env, clean_config):
    env_file = clean_config / ".env"
    left = clean_config / "..env.a1b2c3.tmp"  # secrets.files.write_secret_file's name: .NAME.XXXX.tmp
    left.write_text("GEMINI_API_KEY=half")
    assert apply("--env-file", str(env_file)).exit_code == 0
    assert not left.exists()
    plan = gcp_setup("plan", "--project", PROJECT, "--env-file", str(env_file))
    assert "No changes" in plan.stdout


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


def test_destroy_of_a_project_it_cannot_see_fails_and_claims_nothing(env):
    result = gcp_setup("destroy", "--project", "someone-elses-project", "--delete-project", "--yes")
    assert result.exit_code == 2
    assert error_line(result).startswith("Error: cannot see project someone-elses-project")
    assert "gone" not in result.output
    assert env.writes() == []


def test_destroy_after_losing_access_keeps_the_local_key_file(env, world, clean_config):
    key_file = clean_config / "sa-key.json"
    key_flags = ("--credentials", "key-file", "--allow-key-file", "--credentials-file", str(key_file))
    assert apply(*key_flags).exit_code == 0
    with world.lock:
        from gcp_setup.emulator.resourcemanager.models import ProjectsBackend

        project = world.backend(ProjectsBackend).find(PROJECT)
        for binding in project.policy.bindings:
            binding["members"] = [m for m in binding["members"] if m != world.default_caller]
    env.clear_requests()
    result = gcp_setup("destroy", "--project", PROJECT, "--credentials-file", str(key_file), "--yes")
    assert result.exit_code == 2, result.output
    assert error_line(result).startswith(f"Error: cannot see project {PROJECT}")
    assert key_file.exists()
    assert env.writes() == []


def test_delete_project_refuses_a_project_gcp_setup_did_not_create_unless_forced(env, make_project):
    make_project("made-elsewhere-1")
    refused = gcp_setup("destroy", "--project", "made-elsewhere-1", "--delete-project", "--yes")
    assert refused.exit_code == 2
    assert error_line(refused).startswith(
        "Error: project made-elsewhere-1 was not created by gcp-setup (it has no label created-by=gcp-setup)"
    )
    assert env.writes() == []
    forced = gcp_setup("destroy", "--project", "made-elsewhere-1", "--delete-project", "--force", "--yes")
    assert forced.exit_code == 0, forced.output
    assert [w["method_id"] for w in env.writes()] == ["cloudresourcemanager.projects.delete"]

    assert apply().exit_code == 0  # created by gcp-setup: labelled, so deleted without --force
    ours = gcp_setup("destroy", "--project", PROJECT, "--delete-project", "--yes")
    assert ours.exit_code == 0, ours.output
    assert "DELETE_REQUESTED (created by gcp-setup)" in ours.stdout


def git_work_tree(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


def test_a_secret_file_git_would_commit_is_refused_before_any_request(env, clean_config):
    git_work_tree(clean_config)
    env_file = clean_config / ".env"
    refused = apply("--env-file", str(env_file))
    assert refused.exit_code == 2
    assert error_line(refused) == (
        f"Error: --env-file {env_file}: it is inside a git work tree and git does not ignore it, so it could "
        "be committed; add it to .gitignore, or pass --allow-unignored"
    )
    assert env.requests() == []
    assert apply("--env-file", str(env_file), "--allow-unignored").exit_code == 0
    env_file.unlink()
    (clean_config / ".gitignore").write_text(".env\n")
    assert apply("--env-file", str(env_file)).exit_code == 0


def test_without_git_a_secret_file_in_a_work_tree_is_refused_saying_so(env, clean_config, monkeypatch):
    (clean_config / ".git").mkdir()
    monkeypatch.setenv("PATH", str(clean_config / "no-bin"))
    refused = apply("--env-file", str(clean_config / ".env"))
    assert refused.exit_code == 2
    assert "git is not installed to tell whether it is ignored" in error_line(refused)


@pytest.mark.parametrize("command", [("apply", "--yes"), ("plan",)], ids=["apply", "plan"])
def test_missing_permissions_are_named_before_any_write(env, world, command):
    from gcp_setup.emulator.core.roles import VIEWER
    from gcp_setup.emulator.resourcemanager.models import OTHER_OWNER, ProjectsBackend

    with world.lock:
        project = world.backend(ProjectsBackend).create("viewer-only-1", owner=OTHER_OWNER)
        project.policy.add_binding(VIEWER, world.default_caller)
    result = gcp_setup(*command, "--project", "viewer-only-1", "--no-api-key", "--no-service-account")
    assert result.exit_code == 1, result.output
    assert error_line(result).startswith(
        "Error: your account lacks serviceusage.services.enable on project viewer-only-1, which the plan"
    )
    assert env.writes() == []
    assert [r["method_id"] for r in env.requests()].count(
        "cloudresourcemanager.projects.testIamPermissions"
    ) == 1


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ("--billing-account", "000000-000000-000000"),
            "billing account 000000-000000-000000 does not exist",
        ),
        (("--services", "stroage.googleapis.com"), "Google knows no service stroage.googleapis.com"),
        (("--role", "roles/aiplatform.usr"), "Google knows no role roles/aiplatform.usr"),
    ],
)
def test_what_google_does_not_know_is_refused_before_the_project_is_created(env, flags, message):
    result = gcp_setup("apply", "--project", PROJECT, "--create", "--yes", *flags)
    assert result.exit_code == 2, result.output
    assert error_line(result).startswith(f"Error: {message}")
    assert env.writes() == []


def test_an_error_line_drops_the_request_url_and_long_text():
    from gcp_setup.google.errors import readable

    url = "http://127.0.0.1:1/v1/projects/p/services:batchGet?" + "&".join(f"names=s{i}" for i in range(60))
    assert readable(f"GET {url}: Not found or permission denied for service(s): x.", 403) == (
        "Not found or permission denied for service(s): x."
    )
    assert len(readable("word " * 200, 400)) == 300


def test_the_permission_check_names_what_each_federation_needs(env, world):
    from gcp_setup.emulator.core.roles import VIEWER
    from gcp_setup.emulator.resourcemanager.models import OTHER_OWNER, ProjectsBackend

    with world.lock:
        project = world.backend(ProjectsBackend).create("viewer-only-2", owner=OTHER_OWNER)
        project.policy.add_binding(VIEWER, world.default_caller)
    for flag, value in (("--github-repo", "octo/app"), ("--gitlab-project", "group/app")):
        result = gcp_setup("apply", "--project", "viewer-only-2", "--yes", "--no-api-key", flag, value)
        assert result.exit_code == 1, result.output
        assert "iam.googleapis.com/workloadIdentityPools.create" in error_line(result), flag
    assert env.writes() == []


def test_credentials_none_makes_no_directory_for_a_credentials_file(env, clean_config, monkeypatch):
    monkeypatch.setenv("HOME", str(clean_config))
    billing = ("--billing-account", OPEN)
    result = gcp_setup("apply", "--project", PROJECT, "--create", *billing, "--credentials", "none", "--yes")
    assert result.exit_code == 0, result.output
    assert not (clean_config / ".config" / "gcp-setup").exists()
