"""Auth keys end to end through the CLI (issue 11): apply makes a key bound to the service account,
migrates gcp-setup's old standard key and a .env holding it, deletes the old key only once the smoke
test has passed with the new one, stops before any write where the organization policy forbids a key it
must bind, and writes a .env whose keys google-genai and openai pick as intended."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.generativelanguage.models import GenerativeModels
from gcp_setup.google.apikeys import ApiKeysClient, key_id
from gcp_setup.google.session import GoogleSession
from gcp_setup.secrets.env_file import read_env_file

PROJECT = "auth-keys-1"
EMAIL = f"{defaults.SERVICE_ACCOUNT_ID}@{PROJECT}.iam.gserviceaccount.com"
CREATE = (
    "--project",
    PROJECT,
    "--create",
    "--billing-account",
    OPEN_ACCOUNT.removeprefix("billingAccounts/"),
)
ORG = "123456789012"


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def env(provision_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """provision_env with the smoke test on and no Google variable from the machine."""
    for name in [
        n
        for n in os.environ
        if n.startswith(("GOOGLE_", "GEMINI_", "OPENAI_", "VERTEX_"))
        and n != "GOOGLE_APPLICATION_CREDENTIALS"
    ]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("GCP_SETUP_VERIFY")
    monkeypatch.setenv("HOME", str(tmp_path))
    return provision_env


def keys(emu, project: str = PROJECT) -> dict[str, dict]:
    """key ID -> key, of every key in the project (deleted ones carry deleteTime)."""
    return {key_id(k): k for k in ApiKeysClient(GoogleSession.create(emu.host)).list(project)}


def live(emu, project: str = PROJECT) -> list[str]:
    return sorted(k for k, v in keys(emu, project).items() if not v.get("deleteTime"))


def old_setup(tmp_path: Path) -> Path:
    """What an older gcp-setup left: the standard key gemini-api-key, and a .env holding its string."""
    env_file = tmp_path / ".env"
    made = gcp_setup(
        "apply", *CREATE, "--api-key-type", "standard", "--env-file", str(env_file), "--no-verify", "--yes"
    )
    assert made.exit_code == 0, made.output
    assert read_env_file(env_file)["GEMINI_API_KEY"].startswith("AIza")
    assert "warning: --api-key-type standard: the Gemini API rejects standard API keys" in made.stderr
    return env_file


def test_migration_replaces_the_standard_key_after_the_smoke_test_passes_with_the_auth_key(env, tmp_path):
    env_file = old_setup(tmp_path)
    old_string = read_env_file(env_file)["GEMINI_API_KEY"]
    env.clear_requests()

    plan = gcp_setup("plan", *CREATE, "--env-file", str(env_file))
    assert plan.exit_code == 0, plan.output
    assert "replace standard key gemini-api-key with an auth key: create auth key gemini-key-1" in plan.stdout
    assert f"bound to {EMAIL}" in plan.stdout
    assert "(replacing its standard key)" in plan.stdout  # the .env
    assert "- old_keys          delete replaced key gemini-api-key (after the smoke test)" in plan.stdout
    assert env.writes() == []

    applied = gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--yes")
    assert applied.exit_code == 0, applied.output
    assert "old_keys           deleted" in applied.stdout
    assert live(env) == ["gemini-key-1"] and keys(env)["gemini-api-key"]["deleteTime"]
    assert keys(env)["gemini-key-1"]["serviceAccountEmail"] == EMAIL
    new_string = read_env_file(env_file)["GEMINI_API_KEY"]
    assert new_string.startswith("AQ.") and old_string not in env_file.read_text()
    assert old_string not in applied.output and new_string not in applied.output
    # The old key went only after the smoke test had called the Gemini API with the new one.
    log = env.requests()
    deleted = next(i for i, r in enumerate(log) if r["method_id"].endswith("keys.delete"))
    smoke = [i for i, r in enumerate(log) if r["method_id"].endswith("generateContent")]
    assert smoke and max(smoke) < deleted

    env.clear_requests()
    again = gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--yes")
    assert again.exit_code == 0, again.output
    assert env.writes() == []


def test_keep_old_key_keeps_it_until_an_apply_without_the_flag(env, tmp_path):
    env_file = old_setup(tmp_path)
    kept = gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--keep-old-key", "--yes")
    assert kept.exit_code == 0, kept.output
    assert live(env) == ["gemini-api-key", "gemini-key-1"]
    assert "keeping replaced key(s) gemini-api-key (--keep-old-key)" in kept.stdout
    later = gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--yes")
    assert later.exit_code == 0, later.output
    assert live(env) == ["gemini-key-1"]


def test_a_failed_smoke_test_keeps_the_old_key(env, world, tmp_path):
    env_file = old_setup(tmp_path)
    world.backend(GenerativeModels).switches.user_location_supported = False
    failed = gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--yes")
    assert failed.exit_code == 1, failed.output
    assert "old_keys           blocked" in failed.stdout
    assert "blocked by the smoke test: kept gemini-api-key" in failed.stdout
    assert live(env) == ["gemini-api-key", "gemini-key-1"]
    assert read_env_file(env_file)["GEMINI_API_KEY"].startswith("AQ.")  # points at a live key
    world.backend(GenerativeModels).switches.user_location_supported = True
    assert gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--yes").exit_code == 0
    assert live(env) == ["gemini-key-1"]


def test_rotation_replaces_the_key_and_the_env_then_deletes_the_old_one(env, tmp_path):
    env_file = tmp_path / ".env"
    assert gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--yes").exit_code == 0
    first = read_env_file(env_file)["GEMINI_API_KEY"]
    rotated = gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--rotate-key", "--yes")
    assert rotated.exit_code == 0, rotated.output
    assert live(env) == ["gemini-key-2"]
    assert read_env_file(env_file)["GEMINI_API_KEY"] not in (first, "")


POLICY_HOME = "policy-home-1"
"""A project of the user's where Org Policy is on: what --billing-project names, so that the policy can
be read with user credentials before the project exists (docs/credentials.md)."""


def in_organization(*extra: str) -> tuple[str, ...]:
    return (
        *("--project", "auth-keys-org-1", *CREATE[2:], "--organization", ORG),
        *("--billing-project", POLICY_HOME, *extra),
    )


@pytest.fixture
def policy_home(make_project) -> str:
    make_project(POLICY_HOME, ("orgpolicy.googleapis.com", "apikeys.googleapis.com"))
    return POLICY_HOME


@pytest.mark.gcloud
def test_the_org_policy_stops_an_express_key_before_any_write(env, gcloud, policy_home):
    """Inside an organization Google enforces iam.managed.disableServiceAccountApiKeyCreation by default;
    it forbids the express key (restricted to Vertex AI), so nothing at all is written."""
    plan = gcp_setup("plan", *in_organization("--vertex-express"))
    assert plan.exit_code == 1, plan.output
    assert "iam.managed.disableServiceAccountApiKeyCreation is enforced on organizations/" in plan.stdout
    assert env.writes() == []

    applied = gcp_setup("apply", *in_organization("--vertex-express", "--yes"))
    assert applied.exit_code == 1, applied.output
    assert "the Vertex AI express mode key vertex-express-key-1" in applied.stdout
    fix = (
        "gcloud org-policies reset iam.managed.disableServiceAccountApiKeyCreation --project=auth-keys-org-1"
    )
    assert fix in applied.stdout and "roles/orgpolicy.policyAdmin" in applied.stdout
    assert "drop --vertex-express" in applied.stdout
    assert env.writes() == []

    assert "once the project exists (apply without --vertex-express creates it)" in applied.stdout

    # As the fix says: the project first, then an organization policy administrator lifts the
    # constraint for it with that gcloud line (the emulator's caller is one), then the express key.
    assert gcp_setup("apply", *in_organization("--yes")).exit_code == 0
    assert (
        "is enforced on projects/auth-keys-org-1"
        in gcp_setup("plan", *in_organization("--vertex-express")).stdout
    )
    gcloud.run("org-policies", "reset", defaults.KEY_BINDING_CONSTRAINT, "--project=auth-keys-org-1")
    lifted = gcp_setup("apply", *in_organization("--vertex-express", "--yes"))
    assert lifted.exit_code == 0, lifted.output
    assert live(env, "auth-keys-org-1") == ["gemini-key-1", "vertex-express-key-1"]


def test_without_a_billing_project_the_policy_is_not_checked_and_google_refuses_the_key(env) -> None:
    """User credentials, a project still to be created, no --billing-project: nothing can bill the Org
    Policy read, so the check says so and names the flag; Google then refuses the forbidden key at its
    creation, and the run that follows the flag's advice finishes the job."""
    flags = ("--project", "auth-keys-org-1", *CREATE[2:], "--organization", ORG, "--vertex-express")
    plan = gcp_setup("plan", *flags)
    assert plan.exit_code == 0, plan.output
    assert "not checked: the project does not exist yet" in plan.output and "--billing-project" in plan.output
    applied = gcp_setup("apply", *flags, "--yes")
    assert applied.exit_code == 1
    assert "iam.managed.disableServiceAccountApiKeyCreation" in applied.stdout
    assert live(env, "auth-keys-org-1") == ["gemini-key-1"]


def test_the_gemini_api_key_is_exempt_from_the_org_policy(env, policy_home):
    """A key restricted to the Gemini API alone may be bound under the enforced constraint."""
    applied = gcp_setup("apply", *in_organization("--yes"))
    assert applied.exit_code == 0, applied.output
    assert live(env, "auth-keys-org-1") == ["gemini-key-1"]


def test_with_the_env_loaded_google_genai_and_openai_pick_the_right_keys(env, tmp_path, monkeypatch):
    """google-genai reads GOOGLE_API_KEY, then GEMINI_API_KEY, for both backends: with the .env loaded,
    genai.Client() reaches the Gemini API with the Gemini key, and the express key, in a variable of its
    own, is passed explicitly. Each call acts as the bound account."""
    from google import genai
    from openai import OpenAI

    env_file = tmp_path / ".env"
    assert (
        gcp_setup("apply", *CREATE, "--env-file", str(env_file), "--vertex-express", "--yes").exit_code == 0
    )
    for name, value in read_env_file(env_file).items():
        monkeypatch.setenv(name, value)
    env.clear_requests()

    client = genai.Client()
    assert client._api_client.vertexai is False and client._api_client.api_key == os.environ["GEMINI_API_KEY"]
    assert client.models.generate_content(model="gemini-3.8-flash", contents="Hi").text
    express = genai.Client(vertexai=True, api_key=os.environ["VERTEX_EXPRESS_API_KEY"])
    assert express.models.generate_content(model="gemini-3.8-flash", contents="Hi").text
    openai = OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ["GEMINI_API_KEY"])
    reply = openai.chat.completions.create(
        model="gemini-3.8-flash", messages=[{"role": "user", "content": "Hi"}]
    )
    assert reply.choices[0].message.content

    calls = [r for r in env.requests() if r["kind"] == "data"]
    assert [(r["path"], r["status"]) for r in calls] == [
        ("/v1/models/gemini-3.8-flash:generateContent", 200),  # google-genai's default for the Gemini API
        ("/v1beta1/publishers/google/models/gemini-3.8-flash:generateContent", 200),  # express mode
        ("/v1beta/openai/chat/completions", 200),
    ]
    assert {r["principal"] for r in calls} == {f"serviceAccount:{EMAIL}"}


@pytest.mark.gcloud
@pytest.mark.parametrize(
    ("era", "restricted", "reason"),
    [
        ("auth-only", True, "API_KEY_INVALID"),  # today: every standard key
        ("restricted-standard", False, "ACCESS_TOKEN_TYPE_UNSUPPORTED"),  # June to September 2026
        ("restricted-standard", True, None),  # a restricted one still worked then
        ("any", False, None),  # before
    ],
)
def test_verify_names_a_standard_key_made_with_gcloud(
    gemini_project, world, gcloud, tmp_path, era, restricted, reason
):
    """Through google-genai and openai: Google's answer for the era, and, when refused, the one-line
    diagnosis with the migration command; the key string is never printed."""
    import json

    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    project = gemini_project.project.project_id
    world.backend(ServicesBackend).enable(gemini_project.project, "apikeys.googleapis.com")
    target = ["--api-target=service=generativelanguage.googleapis.com"] if restricted else []
    gcloud.run("services", "api-keys", "create", "--key-id=by-hand", *target, project=project)
    key = gcloud.json(
        "services", "api-keys", "get-key-string", "by-hand", "--location=global", project=project
    )
    env_file = tmp_path / ".env"
    env_file.write_text(f"GEMINI_API_KEY={key['keyString']}\n")
    gemini_project.emu.set_realism(gemini_key_policy=era)

    result = gcp_setup(
        "verify",
        "--env-file",
        str(env_file),
        "--only",
        "gemini-api",
        "--only",
        "openai-gemini",
        "--format",
        "json",
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert key["keyString"] not in result.output
    if reason is None:
        assert result.exit_code == 0, result.output
        assert checks["gemini-api"]["hint"].startswith("sent a standard key")
        return
    assert result.exit_code == 1, result.output
    for check in checks.values():
        assert (check["status"], check["reason"]) == ("failed", reason)
        assert "is a standard API key: the Gemini API rejects these since September 2026" in check["hint"]
        assert (
            " --api-key-type auth --env-file .env" in check["hint"]
            and "gcp-setup apply --project " in check["hint"]
        )


def test_a_google_api_key_from_the_shell_is_named_when_it_is_the_one_sent(
    gemini_project, monkeypatch, tmp_path
):
    """google-genai prefers GOOGLE_API_KEY to GEMINI_API_KEY: a stale one in the shell wins over the .env."""
    env_file = tmp_path / ".env"
    env_file.write_text(f"GEMINI_API_KEY={os.environ['GEMINI_API_KEY']}\n")
    monkeypatch.setenv("GOOGLE_API_KEY", "AIzaSyStaleKeyFromAnOldTutorial0000000000")
    result = gcp_setup("verify", "--env-file", str(env_file), "--only", "gemini-api")
    assert result.exit_code == 1, result.output
    assert "$GOOGLE_API_KEY (exported in your shell) is the key sent" in result.stdout
    assert "unset GOOGLE_API_KEY" in result.stdout
