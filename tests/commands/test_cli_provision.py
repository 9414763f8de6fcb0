"""`gcp-setup plan / apply / status` end to end: the CLI in-process (click's CliRunner), real HTTP to
the emulator, and the real gcloud CLI to look at the result."""

from __future__ import annotations

import json
import logging
import re

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT

PROJECT = "cli-provision-1"
OPEN = OPEN_ACCOUNT.removeprefix("billingAccounts/")
CREATE = ["--project", PROJECT, "--create", "--billing-account", OPEN]


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_apply_from_empty_then_second_apply_changes_nothing(provision_env):
    first = gcp_setup("apply", *CREATE, "--yes")
    assert first.exit_code == 0, first.output
    assert re.search(r"^  project +created ", first.stdout, re.MULTILINE)
    assert "0 failed." in first.stdout
    provision_env.clear_requests()

    second = gcp_setup("apply", *CREATE, "--yes", "--format", "json")
    assert second.exit_code == 0, second.output
    document = json.loads(second.stdout)
    assert document["ok"] is True
    assert {s["outcome"] for s in document["steps"]} <= {"unchanged", "skipped"}
    assert provision_env.writes() == []
    reads = [r for r in provision_env.requests() if r["kind"] == "read"]
    assert len(reads) <= 6, [r["path"] for r in reads]  # issue 6's bound (docs/provisioning.md: 6 today)


def test_a_bootstrap_reads_back_nothing_it_wrote_and_nothing_inside_the_new_project(provision_env, tmp_path):
    """Every write's answer tells its step the new state, and a project this run created holds nothing
    yet: after the first write, the only reads are operation polls and the project policy that the role
    grant must read to modify. The key string comes with the key's creation (no getKeyString)."""
    provision_env.set_realism(operation_polls=1)
    result = gcp_setup("apply", *CREATE, "--yes", "--no-verify", "--env-file", str(tmp_path / ".env"))
    assert result.exit_code == 0, result.output
    log = provision_env.requests()
    first_write = next(i for i, r in enumerate(log) if r["kind"] == "write")
    # The run's one token first; then every step's speculative first read was answered before the first
    # write left (engine), each refused or empty in a project that does not exist yet: the same six,
    # every run (API Keys refuses to bill a project that does not exist: 400 USER_PROJECT_DENIED); and
    # the plan that apply carries out asked whether --billing-account exists and is open before
    # creating anything.
    assert log[0]["method_id"] == "oauth2.token"
    assert sorted((r["method_id"], r["status"]) for r in log[1:first_write]) == [
        ("apikeys.projects.locations.keys.list", 400),
        ("cloudbilling.billingAccounts.get", 200),
        ("cloudbilling.projects.getBillingInfo", 403),
        ("cloudresourcemanager.projects.get", 403),
        ("cloudresourcemanager.projects.getIamPolicy", 403),
        ("iam.projects.serviceAccounts.get", 404),
        ("serviceusage.services.batchGet", 403),
    ]
    reads_after = {r["method_id"] for r in log[first_write:] if r["kind"] == "read"}
    assert reads_after == {
        "cloudresourcemanager.operations.get",
        "serviceusage.operations.get",
        "apikeys.operations.get",
        "cloudresourcemanager.projects.getIamPolicy",
    }, [r["path"] for r in log]
    assert sorted(r["method_id"] for r in provision_env.writes()) == [
        "apikeys.projects.locations.keys.create",
        "cloudbilling.projects.updateBillingInfo",
        "cloudresourcemanager.projects.create",
        "cloudresourcemanager.projects.setIamPolicy",
        "iam.projects.serviceAccounts.create",
        "serviceusage.services.batchEnable",
    ]
    assert "GEMINI_API_KEY=AQ." in (tmp_path / ".env").read_text()
    assert len(log) == 18  # a token, 6 first reads, the billing account, 6 writes, 3 polls, the grant's read


def test_a_first_run_asks_for_the_billing_account_with_the_first_reads_and_a_re_run_not_at_all(
    provision_env, tmp_path
):
    """steps/billing.py early_reads: with an --env-file still to be written (a first run here) the plan's
    question "is --billing-account open?" goes out beside the six first reads, not a round trip after
    them: the emulator holds requests until seven are in flight together, which a read sent after the
    others' answers never reaches. The re-run (the .env exists) reads six, the account not among them."""
    args = ["apply", *CREATE, "--yes", "--no-verify", "--env-file", str(tmp_path / ".env")]
    provision_env.set_realism(barrier=7)
    assert gcp_setup(*args).exit_code == 0
    first_reads = [r["method_id"] for r in provision_env.requests()[1:8]]  # after the token
    assert "cloudbilling.billingAccounts.get" in first_reads
    assert provision_env.concurrency()["barrier_timeouts"] == 0
    assert [r["method_id"] for r in provision_env.requests()].count("cloudbilling.billingAccounts.get") == 1
    provision_env.clear_requests()

    assert gcp_setup(*args).exit_code == 0
    reads = [r["method_id"] for r in provision_env.requests() if r["kind"] == "read"]
    assert len(reads) == 6 and "cloudbilling.billingAccounts.get" not in reads, reads


def test_a_billing_account_that_is_not_there_is_asked_about_once_and_nothing_is_written(
    provision_env, tmp_path
):
    """The early read's answer, a 403, is the one the plan reports (GoogleSession.read_once): one line
    naming the account, exit 2, no write, and the account asked about once."""
    args = ["apply", "--project", PROJECT, "--create", "--billing-account", "000000-ABCDEF-000009"]
    result = gcp_setup(*args, "--yes", "--no-verify", "--env-file", str(tmp_path / ".env"))
    assert result.exit_code == 2, result.output
    assert "billing account 000000-ABCDEF-000009 does not exist or you may not use it" in result.output
    assert provision_env.writes() == []
    asked = [r for r in provision_env.requests() if r["method_id"] == "cloudbilling.billingAccounts.get"]
    assert len(asked) == 1


def test_plan_lists_creations_and_detailed_exitcode_says_if_changes_are_pending(provision_env):
    plan = gcp_setup("plan", *CREATE, "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert re.search(rf"\+ project +create project {PROJECT}\n", plan.stdout)
    assert re.search(rf"~ billing +link project {PROJECT} to billing account {OPEN}\n", plan.stdout)
    assert "Plan: " in plan.stdout
    assert provision_env.writes() == []
    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0
    unchanged = gcp_setup("plan", *CREATE, "--detailed-exitcode")
    assert unchanged.exit_code == 0, unchanged.output
    assert "No changes" in unchanged.stdout
    assert gcp_setup("plan", *CREATE).exit_code == 0


def test_apply_without_yes_refuses_when_nobody_can_confirm(provision_env):
    result = gcp_setup("apply", *CREATE)
    assert result.exit_code == 2
    assert "pass --yes" in result.stderr
    assert provision_env.writes() == []


def test_status_shows_state_and_json_has_no_secrets(provision_env):
    gcp_setup("apply", *CREATE, "--yes")
    status = gcp_setup("status", "--project", PROJECT)
    assert status.exit_code == 0, status.output
    assert "In sync." in status.stdout
    document = gcp_setup("apply", *CREATE, "--yes", "--format", "json").stdout
    assert "keyString" not in document and "AQ." not in document and "AIza" not in document


@pytest.mark.parametrize(
    ("project", "message"),
    [
        ("ab", "project ID 'ab' is 2 characters long; it must have 6 to 30"),
        ("my_project", "project ID 'my_project' contains '_'"),
        ("google-fan-1", "project ID 'google-fan-1' must not contain the reserved word 'google'"),
    ],
)
def test_bad_project_id_is_a_one_line_usage_error(provision_env, project, message):
    result = gcp_setup("apply", "--project", project, "--yes")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}")
    assert result.stderr.count("\n") == 1
    assert provision_env.requests() == []


@pytest.mark.parametrize("command", ["plan", "apply", "status", "destroy", "config", "verify", "models"])
def test_every_command_speaks_one_format_vocabulary(provision_env, command):
    result = gcp_setup(command, "--format", "human")
    assert result.exit_code == 2
    assert "'human' is not one of 'table', 'json'" in result.stderr
    assert provision_env.requests() == []


def test_someone_elses_project_fails_with_exit_1(provision_env):
    result = gcp_setup("apply", "--project", "someone-elses-project", "--create", "--yes")
    assert result.exit_code == 1
    assert "already taken" in result.stdout and "choose another --project ID" in result.stdout


@pytest.mark.gcloud
def test_gcloud_sees_the_result_and_state_made_with_gcloud_is_adopted(provision_env, gcloud):
    gcloud.run("projects", "create", PROJECT)
    gcloud.run("services", "enable", "generativelanguage.googleapis.com", project=PROJECT)
    result = gcp_setup("apply", "--project", PROJECT, "--billing-account", OPEN, "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    assert steps["project"]["outcome"] == "unchanged"
    assert "generativelanguage" not in json.dumps(steps["services"]["actions"])

    assert gcloud.json("projects", "describe", PROJECT)["lifecycleState"] == "ACTIVE"
    enabled = {s["config"]["name"] for s in gcloud.json("services", "list", "--enabled", project=PROJECT)}
    assert {"generativelanguage.googleapis.com", "aiplatform.googleapis.com", "iam.googleapis.com"} <= enabled
    assert gcloud.json("billing", "projects", "describe", PROJECT)["billingEnabled"] is True


@pytest.mark.parametrize("drop_after", range(1, 7))
def test_apply_interrupted_after_any_write_is_finished_by_the_next_run(provision_env, drop_after):
    """The emulator applies the N-th write and then cuts the connection; the next run completes the
    job without duplicates, and the run after that has nothing to do."""
    provision_env.set_realism(drop_after_writes=drop_after)
    gcp_setup("apply", *CREATE, "--yes")
    provision_env.set_realism(drop_after_writes=None)
    finished = gcp_setup("apply", *CREATE, "--yes")
    assert finished.exit_code == 0, finished.output
    provision_env.clear_requests()
    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0
    assert provision_env.writes() == []
    backends = provision_env.state()["backends"]
    assert [p["project_id"] for p in backends["projects"]["projects"]] == ["someone-elses-project", PROJECT]
    assert len(backends["iam"]["accounts"]) == 1
    assert len(backends["apikeys"]["keys"]) == 1


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_apply_converges_under_faults_and_propagation_delays(provision_env, seed):
    provision_env.set_realism(
        fault_rate=0.2,
        seed=seed,
        operation_polls=1,
        service_account_propagation_s=0.3,
        service_enable_propagation_s=0.3,
    )
    result = gcp_setup("apply", *CREATE, "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    provision_env.set_realism(fault_rate=0)
    provision_env.clear_requests()
    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0
    assert provision_env.writes() == []


@pytest.mark.slow
def test_make_demo_runs_offline():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "gcp_setup.commands.demo"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "The second apply sent 0 mutating requests" in result.stdout
    assert "0 getKeyString" in result.stdout  # its .env vouches for the key string
    assert len((result.stdout + result.stderr).splitlines()) < 60  # a screen, not a wall


def test_the_api_key_string_is_printed_only_with_show_secrets(provision_env):
    hidden = gcp_setup("apply", *CREATE, "--yes")
    assert hidden.exit_code == 0 and "key_string" not in hidden.stdout
    shown = gcp_setup("apply", *CREATE, "--yes", "--show-secrets")
    assert "api_key.key_string: AQ." in shown.stdout
    document = json.loads(
        gcp_setup("status", "--project", PROJECT, "--show-secrets", "--format", "json").stdout
    )
    api_key = next(s for s in document["steps"] if s["name"] == "api_key")
    assert api_key["outputs"]["key_string"].startswith("AQ.")


def test_an_unreachable_endpoint_is_one_clear_line_and_no_false_all_clear(provision_env, monkeypatch):
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("GCP_SETUP_EMULATOR_HOST", f"127.0.0.1:{port}")
    result = gcp_setup("plan", "--project", PROJECT)
    assert result.exit_code == 1
    assert f"nothing listens at 127.0.0.1:{port} (127.0.0.1:{port}: Connection refused)" in result.stdout
    assert f"start the emulator there: gcp-setup emulator --port {port}" in result.stdout
    assert "No changes" not in result.stdout
    assert "Plan incomplete: 1 step(s) failed" in result.stdout
    assert "Traceback" not in result.output


def test_only_the_run_that_enabled_an_api_waits_for_it_to_propagate(provision_env, make_project, caplog):
    """SERVICE_DISABLED is waited out (up to minutes) only for the APIs the same run enabled: a later
    run in the same process, on a project where they are off, takes them as off at once."""
    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0  # enables the APIs in PROJECT
    make_project("apis-off-1")
    caplog.set_level(logging.INFO, logger="gcp_setup.google.retry")
    result = gcp_setup("status", "--project", "apis-off-1", "--billing-account", OPEN)
    assert result.exit_code == 0, result.output
    assert "+ api_key           no Gemini API key yet" in result.stdout  # assumed: API Keys is off
    # Had the first run's enablement leaked into this one, its SERVICE_DISABLED answers would be retried.
    assert [r.getMessage() for r in caplog.records if r.name == "gcp_setup.google.retry"] == []
