"""The credentials steps (one per ADC kind), the .env and $GITHUB_ENV writers, and the secret-file
helpers, against the emulator.

Each test gets its own HOME and CLOUDSDK_CONFIG, so the user's real gcloud files are never read.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from gcp_setup import defaults
from gcp_setup.engine import Engine
from gcp_setup.google.client import Client
from gcp_setup.google.iam import IamClient
from gcp_setup.google.iam_policy import unconditional_members
from gcp_setup.google.session import GoogleSession
from gcp_setup.secrets.env_file import merge_env_text, parse_env_notes, read_env_file
from gcp_setup.secrets.files import write_secret_file
from gcp_setup.settings.config import Config
from gcp_setup.steps.adc.modes import credentials_step
from gcp_setup.steps.api_key import ApiKeyStep
from gcp_setup.steps.base import Context, Outcome
from gcp_setup.steps.env_file import EnvFileStep
from gcp_setup.steps.github_env import GithubEnvStep
from gcp_setup.steps.service_account import ServiceAccountStep

TOKEN_CREATOR = defaults.TOKEN_CREATOR


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.delenv("GITHUB_ENV", raising=False)
    return tmp_path


@pytest.fixture
def run(emulator_env, identity_project, home):
    def run_steps(mode: str = "apply", **settings):
        config = Config(project=identity_project, **settings)
        ctx = Context(config, GoogleSession.create(emulator_env.host))
        steps = [ServiceAccountStep(), ApiKeyStep(), credentials_step(config), EnvFileStep(), GithubEnvStep()]
        return Engine().run(steps, ctx, mode)

    return run_steps


def test_env_file_is_merged_and_stable_and_keeps_the_mode_its_owner_set(run, emu, home, identity_project):
    env_file = home / "app" / ".env"
    env_file.parent.mkdir()
    env_file.write_text("# mine\nDEBUG=1\nGOOGLE_CLOUD_PROJECT=old-project\nGOOGLE_CLOUD_PROJECT=dup\n")
    env_file.chmod(0o640)

    first = run(env_file=env_file)
    assert first.ok, [(r.name, r.detail) for r in first.results]
    values = read_env_file(env_file)
    assert values["DEBUG"] == "1" and env_file.read_text().startswith("# mine\n")
    assert env_file.read_text().count("GOOGLE_CLOUD_PROJECT=") == 1
    assert values["GOOGLE_CLOUD_PROJECT"] == identity_project
    assert values["GOOGLE_CLOUD_LOCATION"] == "global"
    assert values["GOOGLE_GENAI_USE_VERTEXAI"] == "false"
    assert values["GEMINI_API_KEY"].startswith("AQ.")
    assert values["OPENAI_BASE_URL"] == f"http://{emu.host}/v1beta/openai/"
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in values  # user mode writes no credentials file
    assert mode_of(env_file) == 0o640  # neither loosened nor tightened

    emu.clear_requests()
    second = run(env_file=env_file)
    assert {r.outcome for r in second.results} == {Outcome.UNCHANGED, Outcome.SKIPPED}  # $GITHUB_ENV: off
    assert emu.writes() == []
    reads = [r["method_id"].rsplit(".", 1)[-1] for r in emu.requests() if r["kind"] != "auth"]
    assert sorted(reads) == ["get", "list"]  # the .env's note vouches for its key string


def key_string_reads(emu) -> int:
    return sum(1 for r in emu.requests() if r["method_id"].endswith("getKeyString"))


def test_the_env_files_note_vouches_for_its_key_until_the_key_or_the_value_changes(
    run, emu, home, identity_project
):
    env_file = home / ".env"
    assert run(env_file=env_file).ok
    key_string = read_env_file(env_file)["GEMINI_API_KEY"]
    text = env_file.read_text()
    (note,) = [line for line in text.splitlines() if line.startswith("# gcp-setup: GEMINI_API_KEY ")]
    assert note.startswith("# gcp-setup: GEMINI_API_KEY is the string of projects/")
    assert key_string not in note and text.index(note) < text.index("GEMINI_API_KEY=")

    def rerun(expected: Outcome, reads: int) -> None:
        emu.clear_requests()
        result = run(env_file=env_file)
        assert result.by_name("env_file").outcome is expected, result.by_name("env_file").detail
        assert key_string_reads(emu) == reads
        assert read_env_file(env_file)["GEMINI_API_KEY"] == key_string

    rerun(Outcome.UNCHANGED, 0)

    env_file.write_text(text.replace(key_string, "AIzaSomeoneElsesKeyPastedHere0000000000"))
    rerun(Outcome.UPDATED, 1)  # the value no longer has the noted hash: read, and put back
    rerun(Outcome.UNCHANGED, 0)

    session = GoogleSession.create(emu.host)
    keys = session.discovery("apikeys", "v2", "projects.locations.keys")
    name = f"projects/{identity_project}/locations/global/keys/{defaults.API_KEY_ID_PREFIX}1"
    patch = keys.patch(name=name, updateMask="displayName", body={"displayName": "renamed"})
    Client(session).execute(Client(session).billed(patch, identity_project))
    rerun(Outcome.UPDATED, 1)  # the key changed (a new etag; it could have been regenerated): read
    assert env_file.read_text() != text  # the same string, noted at the new etag
    rerun(Outcome.UNCHANGED, 0)

    env_file.write_text(
        "".join(line + "\n" for line in env_file.read_text().splitlines() if "# gcp-setup" not in line)
    )
    rerun(Outcome.UPDATED, 1)  # a .env with no note (an older gcp-setup wrote it) gains one
    rerun(Outcome.UNCHANGED, 0)


def test_user_mode_names_the_adc_it_uses(run, home):
    result = run("status", credentials="user")
    assert (
        result.by_name("credentials").detail
        == f"your own ADC ({os.environ['GOOGLE_APPLICATION_CREDENTIALS']})"
    )


def test_impersonation_grants_token_creator_and_writes_adc(run, emu, home, identity_project):
    target = home / "adc.json"

    first = run(credentials="impersonate", credentials_file=target, impersonator="me@example.com")
    assert first.ok, [(r.name, r.detail, r.hint) for r in first.results]
    email = first.by_name("service_account").outputs["email"]
    adc = json.loads(target.read_text())
    assert adc["type"] == "impersonated_service_account"
    assert adc["source_credentials"] == json.loads(
        Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).read_text()
    )
    assert adc["service_account_impersonation_url"] == (
        f"http://{emu.host}/v1/projects/-/serviceAccounts/{email}:generateAccessToken"
    )
    assert mode_of(target) == 0o600
    policy = IamClient(GoogleSession.create(emu.host)).service_account_policy(identity_project, email).get()
    assert unconditional_members(policy, TOKEN_CREATOR) == {"user:me@example.com"}

    from google.auth import impersonated_credentials

    credentials = impersonated_credentials.Credentials.from_impersonated_service_account_info(adc)
    assert credentials.service_account_email == email  # google-auth reads the file as we wrote it

    emu.clear_requests()
    assert run(credentials="impersonate", credentials_file=target, impersonator="me@example.com").ok
    assert emu.writes() == []


def test_impersonation_without_user_adc_fails_before_changing_anything(run, emu, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    result = run(credentials="impersonate", api_key=False, service_account="gemini-client")
    step = result.by_name("service_account")  # the first request already needs a login
    assert step.outcome is Outcome.FAILED
    assert (
        "gcp-setup emulator --adc-file" in step.hint and "gcloud auth application-default login" in step.hint
    )
    assert result.by_name("credentials").outcome is Outcome.BLOCKED
    assert not [
        w for w in emu.writes() if w["path"].endswith(":setIamPolicy") and "serviceAccounts" in w["path"]
    ]


def test_key_file_is_0600_and_not_recreated(run, emu, home, identity_project):
    target = home / "key.json"
    first = run(credentials="key-file", allow_key_file=True, credentials_file=target, env_file=home / ".env")
    assert first.ok, [(r.name, r.detail) for r in first.results]
    key = json.loads(target.read_text())
    assert key["type"] == "service_account" and mode_of(target) == 0o600
    assert read_env_file(home / ".env")["GOOGLE_APPLICATION_CREDENTIALS"] == str(target)

    emu.clear_requests()
    assert run(
        credentials="key-file", allow_key_file=True, credentials_file=target, env_file=home / ".env"
    ).ok
    assert emu.writes() == []
    email = first.by_name("service_account").outputs["email"]
    assert len(IamClient(GoogleSession.create(emu.host)).list_user_keys(identity_project, email)) == 1


def test_key_file_refused_under_org_policy(run, emu, home):
    emu.set_org_policies(disable_service_account_key_creation=True)
    result = run(credentials="key-file", allow_key_file=True, credentials_file=home / "key.json")
    step = result.by_name("credentials")
    assert step.outcome is Outcome.FAILED
    assert "iam.disableServiceAccountKeyCreation" in step.detail
    assert "impersonate" in step.hint and "Workload Identity Federation" in step.hint
    assert not (home / "key.json").exists()


def test_github_env_gets_masked_values(run, home, monkeypatch, capsys):
    github_env = home / "github_env"
    github_env.write_text("EARLIER=1\n")
    monkeypatch.setenv("GITHUB_ENV", str(github_env))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run(github_env=True)
    assert result.ok, [(r.name, r.detail) for r in result.results]
    exported = read_env_file(github_env)
    key = exported["GEMINI_API_KEY"]
    assert key.startswith("AQ.") and exported["EARLIER"] == "1"
    captured = capsys.readouterr()
    assert f"::add-mask::{key}\n" in captured.err and key not in captured.out  # stdout: the document only
    lines = github_env.read_text().count("\n")
    assert run(github_env=True).by_name("credentials").outcome is Outcome.UNCHANGED
    assert github_env.read_text().count("\n") == lines


def test_secret_files_are_atomic_and_private(tmp_path):
    path = tmp_path / "deep" / "secret.json"
    write_secret_file(path, "one")
    assert mode_of(path) == 0o600 and mode_of(path.parent) == 0o700
    write_secret_file(path, b"two")
    assert path.read_text() == "two" and mode_of(path) == 0o600
    assert os.listdir(path.parent) == ["secret.json"]  # no temporary file left behind


def test_env_merge_quotes_and_keeps_export_lines():
    merged = merge_env_text("export A=1\nB=2\n", {"A": "x y", "C": defaults.GEMINI_OPENAI_BASE_URL})
    assert merged == f'A="x y"\nB=2\nC={defaults.GEMINI_OPENAI_BASE_URL}\n'


def test_env_merge_puts_a_note_above_its_variable_and_replaces_the_old_one():
    existing = "# gcp-setup: A old note\nB=2\n# gcp-setup: B kept, B is not written\nA=1\n# mine\n"
    merged = merge_env_text(existing, {"A": "x", "C": "3"}, {"A": "new note", "C": "c note"})
    assert merged == (
        "B=2\n# gcp-setup: B kept, B is not written\n# gcp-setup: A new note\nA=x\n# mine\n"
        "# gcp-setup: C c note\nC=3\n"
    )
    assert parse_env_notes(merged) == {"B": "kept, B is not written", "A": "new note", "C": "c note"}
    assert merge_env_text(merged, {"A": "x", "C": "3"}, {"A": "new note", "C": "c note"}) == merged
    assert merge_env_text(merged, {"A": "x"}) == merged.replace("# gcp-setup: A new note\n", "")


def test_impersonator_is_the_adc_identity_then_gcloud_account(run, emu, world, home, identity_project):
    """The identity behind the ADC, asked of tokeninfo; a token that names no email (no email scope in
    the login's grant) leaves gcloud's core/account."""
    from gcp_setup.emulator.oauth.models import OAuthBackend

    first = run(credentials="impersonate", api_key=False, credentials_file=home / "first.json")
    email = first.by_name("service_account").outputs["email"]
    policy = IamClient(GoogleSession.create(emu.host)).service_account_policy(identity_project, email).get()
    assert unconditional_members(policy, TOKEN_CREATOR) == {"user:developer@example.com"}

    (home / "gcloud" / "configurations").mkdir(parents=True)
    (home / "gcloud" / "configurations" / "config_default").write_text("[core]\naccount = dev@example.com\n")
    adc = json.loads(Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    with world.lock:
        scope = ("https://www.googleapis.com/auth/cloud-platform",)
        adc["refresh_token"] = world.backend(OAuthBackend).issue_refresh_token(
            "user:developer@example.com", scope
        )
    Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).write_text(json.dumps(adc))
    result = run(credentials="impersonate", api_key=False)
    assert result.ok, [(r.name, r.detail) for r in result.results]
    email = result.by_name("service_account").outputs["email"]
    policy = IamClient(GoogleSession.create(emu.host)).service_account_policy(identity_project, email).get()
    assert unconditional_members(policy, TOKEN_CREATOR) == {
        "user:developer@example.com",
        "user:dev@example.com",
    }
    default_file = home / ".config" / "gcp-setup" / identity_project / "gemini-client-impersonated.json"
    assert mode_of(default_file) == 0o600


def test_github_env_outside_actions_prints_no_secret(run, home, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ENV", str(home / "github_env"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert run(github_env=True).ok
    key = read_env_file(home / "github_env")["GEMINI_API_KEY"]
    captured = capsys.readouterr()
    assert key not in captured.out and key not in captured.err
