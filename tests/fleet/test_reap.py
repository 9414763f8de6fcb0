"""`gcp-setup reap` and the ephemeral projects it deletes, through the real CLI and Resource Manager v3's
projects.search on the emulator: exactly the expired projects gcp-setup created are deleted, among
unlabelled, unexpired and foreign ones; and the scheduled workflow's commands run as written."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend

OURS = {"created-by": "gcp-setup"}
FOLDER = "folders/4242"
WORKFLOW = Path(__file__).parent.parent.parent / "docs" / "examples" / "reap-expired-projects.yml"


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def expires(seconds_from_now: int) -> dict[str, str]:
    return {defaults.EXPIRES_LABEL: str(int(time.time()) + seconds_from_now)}


@pytest.fixture
def mixed_projects(world, provision_env):
    """Two expired gcp-setup projects (one in FOLDER), and five that must stay."""
    projects = {
        "reap-expired-1": ({**OURS, **expires(-60)}, ""),
        "reap-expired-2": ({**OURS, **expires(-3600)}, FOLDER),
        "reap-unexpired-1": ({**OURS, **expires(3600)}, ""),
        "reap-no-ttl-1": (dict(OURS), ""),
        "reap-unlabelled-1": ({}, ""),
        "reap-foreign-1": ({"created-by": "someone-else", **expires(-60)}, ""),
        "reap-foreign-2": (expires(-60), FOLDER),
    }
    backend = world.backend(ProjectsBackend)
    with world.lock:
        for project, (labels, parent) in projects.items():
            backend.create(project, owner=world.default_caller, labels=labels, parent=parent)
    return projects


def states(world) -> dict[str, str]:
    return {p.project_id: p.state for p in world.backend(ProjectsBackend).projects.values()}


def test_reap_deletes_exactly_the_expired_projects_gcp_setup_created(world, mixed_projects, provision_env):
    dry = gcp_setup("reap", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    assert [p["project"] for p in json.loads(dry.stdout)["projects"]] == ["reap-expired-1", "reap-expired-2"]
    assert provision_env.writes() == []

    result = gcp_setup("reap")
    assert result.exit_code == 0, result.output
    assert re.search(r"reap-expired-1 +\S+ +deleted", result.stdout)
    assert "2 project(s) deleted" in result.stdout
    deleted = {p for p, state in states(world).items() if state == "DELETE_REQUESTED"}
    assert deleted == {"reap-expired-1", "reap-expired-2"}
    searches = [r for r in provision_env.requests() if r["method_id"].endswith("projects.search")]
    assert searches, "reap finds its candidates with projects.search"

    again = gcp_setup("reap")
    assert again.exit_code == 0 and "Nothing to reap" in again.stdout  # a deleted project is not ACTIVE


def test_reap_under_a_folder_touches_nothing_outside_it(world, mixed_projects, provision_env):
    result = gcp_setup("reap", "--folder", FOLDER.removeprefix("folders/"))
    assert result.exit_code == 0, result.output
    deleted = {p for p, state in states(world).items() if state == "DELETE_REQUESTED"}
    assert deleted == {"reap-expired-2"}


def test_the_scheduled_workflow_commands_run(world, mixed_projects, provision_env):
    commands = re.findall(r"run: (gcp-setup .+)", WORKFLOW.read_text())
    assert len(commands) == 2
    for command in commands:
        args = command.replace("${{ vars.GCP_CI_FOLDER }}", FOLDER.removeprefix("folders/")).split()[1:]
        result = gcp_setup(*args)
        assert result.exit_code == 0, (command, result.output)
    assert states(world)["reap-expired-2"] == "DELETE_REQUESTED"


def test_apply_with_a_prefix_and_a_ttl_creates_a_project_reap_will_find_later(world, provision_env, tmp_path):
    output = tmp_path / "github_output"
    open_account = OPEN_ACCOUNT.removeprefix("billingAccounts/")
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)}
    actions["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
    before = int(time.time())
    result = CliRunner(env=actions).invoke(
        cli, ["apply", "--project-prefix", "ci-", "--ttl", "2h", "--billing-account", open_account, "--yes"]
    )
    after = time.time()
    assert result.exit_code == 0, result.output
    project = re.search(r"^project_id=(ci-[a-z0-9]{8})$", output.read_text(), re.M)[1]
    assert f"project ID generated: {project}" in result.output
    labels = world.backend(ProjectsBackend).projects[project].labels
    assert labels["created-by"] == "gcp-setup"
    # 2 h after the moment apply read the clock, however long the run took on a busy machine
    assert before + 7200 <= int(labels[defaults.EXPIRES_LABEL]) <= after + 7200
    assert "Nothing to reap" in gcp_setup("reap", "--dry-run").stdout


def test_ttl_without_creation_is_a_usage_error(provision_env):
    result = gcp_setup("apply", "--project", "reap-exists-1", "--ttl", "2h", "--yes")
    assert result.exit_code == 2
    assert "--ttl marks a project gcp-setup creates" in result.output


def test_a_prefix_makes_a_new_project_even_where_the_environment_names_one(provision_env, monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "reap-exists-1")
    account = OPEN_ACCOUNT.removeprefix("billingAccounts/")
    result = gcp_setup(
        "apply",
        "--project-prefix",
        "ci-",
        "--billing-account",
        account,
        "--no-verify",
        "--yes",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    project = json.loads(result.stdout)["project"]
    assert re.fullmatch(r"ci-[a-z0-9]{8}", project), project
    refused = gcp_setup("apply", "--project", "reap-exists-1", "--project-prefix", "ci-", "--yes")
    assert refused.exit_code == 2
    assert "--project and --project-prefix both name the project" in refused.output
