"""`gcp-setup apply` ends with verify's smoke test: the checks run on what apply just set up (the config's
project and location, the managed API key, the credentials file it wrote), through the real google-genai
and openai libraries against the emulator."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.apikeys.models import ApiKeysBackend
from gcp_setup.emulator.billing.models import CLOSED_ACCOUNT, OPEN_ACCOUNT, BillingBackend
from gcp_setup.emulator.generativelanguage.models import GenerativeModels
from gcp_setup.emulator.iam.models import ServiceAccountsBackend
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
from gcp_setup.secrets.env_file import read_env_file
from gcp_setup.verify import CHECK_NAMES

PROJECT = "apply-verify-1"
BILLING = OPEN_ACCOUNT.removeprefix("billingAccounts/")
SMOKE_TEST = "Smoke test (gcp-setup verify):"


@pytest.fixture
def env(provision_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """provision_env with the smoke test on, and no Google variable or ADC from the machine."""
    for name in [
        n
        for n in os.environ
        if n.startswith(("GOOGLE_", "GEMINI_", "OPENAI_")) and n != "GOOGLE_APPLICATION_CREDENTIALS"
    ]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("GCP_SETUP_VERIFY")
    monkeypatch.setenv("HOME", str(tmp_path))
    return provision_env


def settings(tmp_path: Path) -> list[str]:
    """A service-account key file as the ADC, so that every check can run offline."""
    return [
        "--project",
        PROJECT,
        "--create",
        "--billing-account",
        BILLING,
        "--credentials",
        "key-file",
        "--allow-key-file",
        "--credentials-file",
        str(tmp_path / "key.json"),
    ]


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def key_string(world) -> str:
    (key,) = world.backend(ApiKeysBackend).keys.values()
    return key.key_string


def test_apply_ends_with_every_check_passed_and_no_secret_shown(env, world, tmp_path) -> None:
    result = gcp_setup("apply", *settings(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    summary, _, smoke = result.stdout.partition(SMOKE_TEST)
    assert "7 changed" in summary
    assert "6 passed, 0 failed, 0 skipped" in smoke
    assert f"serviceAccount:gemini-client@{PROJECT}.iam.gserviceaccount.com" in smoke  # the key file's ADC
    assert key_string(world) not in result.output


def test_json_document_carries_verify_without_duplicates(env, world, tmp_path) -> None:
    result = gcp_setup("apply", *settings(tmp_path), "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    verify = document["verify"]
    assert list(verify) == ["ok", "problem", "location", "model", "checks"]
    assert verify["ok"] is True and verify["location"] == "global"
    expected = [(n, "passed") for n in CHECK_NAMES if n != "vertex-express"]  # only with --vertex-express
    assert [(c["name"], c["status"]) for c in verify["checks"]] == expected
    assert key_string(world) not in result.output


def test_a_no_op_apply_verifies_too_and_what_that_costs(env, tmp_path) -> None:
    """docs/provisioning.md's figures: the smoke test adds one control-plane read (getKeyString), two
    model lists (the emulator logs them as reads), ten data-plane calls (six model calls, two interactions
    and their deletes) and one token; never a mutating request."""
    assert gcp_setup("apply", *settings(tmp_path), "--yes").exit_code == 0
    env.clear_requests()
    unverified = gcp_setup("apply", *settings(tmp_path), "--yes", "--no-verify")
    assert unverified.exit_code == 0 and SMOKE_TEST not in unverified.stdout
    without = Counter(r["kind"] for r in env.requests())
    env.clear_requests()
    verified = gcp_setup("apply", *settings(tmp_path))  # no --yes: nothing to do, said as a plan
    assert verified.exit_code == 0, verified.output
    assert "No changes" in verified.stdout and "6 passed" in verified.stdout
    requests = env.requests()
    assert env.writes() == []
    added = {kind: n - without[kind] for kind, n in Counter(r["kind"] for r in requests).items()}
    assert added == {"read": 3, "data": 10, "auth": 1}, [r["path"] for r in requests]
    reads = [r["path"] for r in requests if r["kind"] == "read"]
    assert sorted(p for p in reads if p.endswith("/models")) == ["/v1beta/models", "/v1beta/openai/models"]
    assert len([p for p in reads if p.endswith(f"/keys/{defaults.API_KEY_ID_PREFIX}1/keyString")]) == 1
    assert without == {
        "read": 7,
        "auth": 1,
    }  # provisioning alone: a token, one read per step, two for the account


def test_a_broken_setup_fails_apply_with_verifys_diagnosis(env, world, tmp_path) -> None:
    assert gcp_setup("apply", *settings(tmp_path), "--yes", "--no-verify").exit_code == 0
    world.backend(GenerativeModels).switches.user_location_supported = False
    result = gcp_setup("apply", *settings(tmp_path), "--yes")
    assert result.exit_code == 1
    assert "0 failed." in result.stdout  # the provisioning itself is fine
    assert "FAIL gemini-api" in result.stdout and "network location" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "apply succeeded; the smoke test failed: gemini-api (FAILED_PRECONDITION); "
        "interactions (FAILED_PRECONDITION); openai-gemini (FAILED_PRECONDITION)"
    )
    assert key_string(world) not in result.output


def test_a_disabled_service_account_is_enabled_again_and_the_smoke_test_passes(env, world, tmp_path) -> None:
    assert gcp_setup("apply", *settings(tmp_path), "--yes", "--no-verify").exit_code == 0
    accounts = world.backend(ServiceAccountsBackend)
    (account,) = accounts.in_project(PROJECT)
    accounts.set_disabled(account, True)
    result = gcp_setup("apply", *settings(tmp_path), "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    outcomes = {s["name"]: s["outcome"] for s in document["steps"]}
    assert outcomes["service_account"] == "updated"
    assert not account.disabled
    assert [c["status"] for c in document["verify"]["checks"]] == ["passed"] * 6


def test_when_apply_fails_the_smoke_test_does_not_run(env, world, tmp_path) -> None:
    assert gcp_setup("apply", *settings(tmp_path), "--yes", "--no-verify").exit_code == 0
    world.backend(BillingBackend).link(world.backend(ProjectsBackend).find(PROJECT), "")
    closed = [
        CLOSED_ACCOUNT.removeprefix("billingAccounts/") if s == BILLING else s for s in settings(tmp_path)
    ]
    env.clear_requests()
    result = gcp_setup("apply", *closed, "--yes")
    assert result.exit_code == 2  # bad input: a closed account
    assert "is closed" in result.output
    assert SMOKE_TEST not in result.stdout and "smoke test" not in result.stderr
    assert not [r for r in env.requests() if r["kind"] == "data"]
    assert [r["path"] for r in env.requests() if r["kind"] == "auth"] == ["/token"]  # the run's own login


def test_no_verify_env_and_toml_turn_it_off_and_plan_status_never_verify(env, tmp_path, monkeypatch) -> None:
    assert gcp_setup("apply", *settings(tmp_path), "--yes", "--no-verify").exit_code == 0
    monkeypatch.setenv("GCP_SETUP_VERIFY", "false")
    assert SMOKE_TEST not in gcp_setup("apply", *settings(tmp_path), "--yes").stdout
    monkeypatch.delenv("GCP_SETUP_VERIFY")
    (tmp_path / "gcp-setup.toml").write_text("verify = false\n")
    assert SMOKE_TEST not in gcp_setup("apply", *settings(tmp_path), "--yes").stdout
    assert "6 passed" in gcp_setup("apply", *settings(tmp_path), "--yes", "--verify").stdout  # flag wins
    env.clear_requests()
    for command in ("plan", "status"):
        result = gcp_setup(command, *settings(tmp_path))
        assert result.exit_code == 0 and SMOKE_TEST not in result.stdout
    assert not [r for r in env.requests() if r["kind"] == "data" or r["path"].endswith("keyString")]
    assert [r["path"] for r in env.requests() if r["kind"] == "auth"] == ["/token"] * 2  # each run's login


def test_the_readme_figure_for_a_no_op_apply_with_the_defaults(env) -> None:
    """Your own ADC, no .env: 6 reads of provisioning, 3 of the smoke test, 10 data-plane calls, a token for
    each (docs/provisioning.md), and tokeninfo for who the token's user is."""
    create = ["--project", PROJECT, "--create", "--billing-account", BILLING, "--yes"]
    assert gcp_setup("apply", *create).exit_code == 0
    env.clear_requests()
    result = gcp_setup("apply", *create)
    assert result.exit_code == 0, result.output
    assert "6 passed, 0 failed, 0 skipped" in result.stdout
    assert "user credentials; principal user:developer@example.com" in result.stdout
    assert Counter(r["kind"] for r in env.requests()) == {"read": 9, "data": 10, "auth": 3}
    assert [r["path"] for r in env.requests() if r["kind"] == "auth"] == ["/token", "/token", "/tokeninfo"]


def test_a_key_string_that_cannot_be_read_skips_the_key_checks_and_says_why(env) -> None:
    from gcp_setup.engine import RunResult, StepResult
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.steps.base import Outcome
    from gcp_setup.verify.smoke import managed_key_string

    name = f"projects/{PROJECT}/locations/global/keys/{defaults.API_KEY_ID_PREFIX}1"  # no such project
    run = RunResult(
        "apply", [StepResult("api_key", Outcome.UNCHANGED, outputs={"name": name, "exists": True})]
    )
    said: list[str] = []
    assert managed_key_string(run, GoogleSession.create(env.host), said.append, "api_key") is None
    (message,) = said
    assert message.startswith(f"smoke test: cannot read the string of {name} (")
    assert message.endswith("); its checks are skipped"), message
    assert "not found or deleted" in message  # API Keys bills the project, which does not exist


def test_apply_with_an_env_file_never_reads_the_key_string(env, tmp_path) -> None:
    """The .env and the smoke test share the key string: taken from the key's creation in a new project,
    from the .env (whose note vouches for it) in a re-run."""
    env_file = tmp_path / ".env"
    for run, reads in (("new project", 0), ("no-op re-run", 0)):
        env.clear_requests()
        result = gcp_setup("apply", *settings(tmp_path), "--env-file", str(env_file), "--yes")
        assert result.exit_code == 0, result.output
        assert "6 passed" in result.stdout, run
        paths = [r["path"] for r in env.requests()]
        assert (
            len([p for p in paths if p.endswith(f"/keys/{defaults.API_KEY_ID_PREFIX}1/keyString")]) == reads
        ), run


@pytest.mark.parametrize(
    "statuses, proven",
    [
        ({"gemini-api": "passed", "vertex": "passed"}, True),
        ({"gemini-api": "skipped", "vertex": "passed"}, False),  # a skip proves nothing of the key
        ({"gemini-api": "passed", "vertex-express": "skipped"}, False),
        ({"gemini-api": "passed", "vertex": "skipped"}, True),  # not a key's check
    ],
)
def test_replaced_keys_wait_for_their_own_checks_to_pass(statuses, proven) -> None:
    from gcp_setup.verify.core import CheckResult
    from gcp_setup.verify.smoke import SmokeTest

    results = [CheckResult(name, name, status) for name, status in statuses.items()]
    assert SmokeTest(vctx=None, results=results).proves_the_keys is proven
    assert SmokeTest(vctx=None, results=results).passed  # apply itself accepts the skips


def test_apply_without_billing_sets_up_the_gemini_api_and_says_what_waits(env, world, tmp_path) -> None:
    """A Gemini-API-only setup is a supported outcome: exit 0, the Gemini API proven on its free tier,
    Vertex AI's checks skipped with the reason, and the way to link billing said once."""
    without_billing = [s for s in settings(tmp_path) if s not in ("--billing-account", BILLING)]
    result = gcp_setup("apply", *without_billing, "--env-file", str(tmp_path / ".env"), "--yes")
    assert result.exit_code == 0, result.output
    assert "the Gemini API works on its free tier" in result.stdout
    assert "Agent Platform (Vertex AI) (aiplatform.googleapis.com) waits for billing" in result.stdout
    assert f"gcloud billing projects link {PROJECT} --billing-account=ACCOUNT_ID" in result.stdout
    document = json.loads(gcp_setup("apply", *without_billing, "--yes", "--format", "json").stdout)
    checks = {c["name"]: c for c in document["verify"]["checks"]}
    assert {n: c["status"] for n, c in checks.items()} == {
        "credentials": "passed",
        "gemini-api": "passed",
        "interactions": "passed",
        "vertex": "skipped",
        "openai-gemini": "passed",
        "openai-vertex": "skipped",
    }
    assert (
        checks["vertex"]["hint"]
        == f"Agent Platform (Vertex AI) waits for billing on {PROJECT} (see the billing step)"
    )


def test_apply_writes_use_enterprise_and_warns_of_a_shell_that_overrides_it(
    env, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_ENTERPRISE", "true")
    env_file = tmp_path / ".env"
    result = gcp_setup("apply", *settings(tmp_path), "--env-file", str(env_file), "--yes", "--no-verify")
    assert result.exit_code == 0, result.output
    written = read_env_file(env_file)
    assert written["GOOGLE_GENAI_USE_ENTERPRISE"] == written["GOOGLE_GENAI_USE_VERTEXAI"] == "false"
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("warning: $")]
    assert "$GOOGLE_GENAI_USE_ENTERPRISE in your environment overrides the .env: google-genai" in line


def test_a_terminal_sees_each_step_and_check_as_it_finishes_on_one_live_line(
    env, tmp_path, monkeypatch
) -> None:
    """On a terminal, apply rewrites one stderr line in place as each step changes and each check of its
    smoke test finishes, and clears it before the table; a log (a pipe) gets none of it."""
    import click.testing

    from gcp_setup.output import report

    assert report.LIVE_LINE not in gcp_setup("apply", *settings(tmp_path), "--yes").output  # no terminal
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    result = gcp_setup("apply", *settings(tmp_path), "--rotate-key", "--yes")
    assert result.exit_code == 0, result.output
    shown = [part.split("\n")[0].strip() for part in result.stderr.split(report.LIVE_LINE)]
    assert any(line.startswith("[api_key] created in") for line in shown)
    checks = [line.split(":")[0] for line in shown if line.startswith("[verify]")]
    assert checks == [f"[verify] {name}" for name in CHECK_NAMES if name != "vertex-express"]
