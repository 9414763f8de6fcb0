"""The path every real user takes: gcp-setup with emulator-issued user credentials (the `emu` fixture's
ADC file) against the emulator's strict quota-project rules. Every API request carries a token, and
x-goog-user-project goes only where gcp-setup's policy table says (docs/credentials.md)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.core.quota_project import GCLOUD_CLIENT_PROJECT

PROJECT = "real-creds-1"
OPEN = OPEN_ACCOUNT.removeprefix("billingAccounts/")
CREATE = ["--project", PROJECT, "--create", "--billing-account", OPEN]
CLIENT_BASED = {"apikeys", "orgpolicy"}
"""The APIs whose requests bill the target project with user credentials (google/quota_projects.py)."""


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def api_requests(emu: EmulatorControl) -> list[dict]:
    """The log's API requests (not the token endpoint's)."""
    return [r for r in emu.requests() if not r["method_id"].startswith("oauth2.")]


def project_names(emu: EmulatorControl, project: str) -> set[str]:
    """The project's ID and, once it exists, its number: a request may name it either way."""
    state = emu.state()["backends"]["projects"]["projects"]
    return {project, *(str(p["number"]) for p in state if p["project_id"] == project)}


def policy_violations(emu: EmulatorControl, *projects: str) -> list[str]:
    """Every API request whose credential or quota project breaks the policy table: a token on every
    request but the Gemini API's (the API key, with no quota project: Google refuses the two together),
    and x-goog-user-project only on the client-based APIs, naming one of `projects`."""
    wrong, names = [], set().union(*(project_names(emu, p) for p in projects))
    for r in api_requests(emu):
        api = r["method_id"].split(".", 1)[0]
        expected = names if api in CLIENT_BASED else {""}
        credential = "api-key" if api == "generativelanguage" else "token"
        if r["credential"] != credential or r["quota_project"] not in expected:
            wrong.append(
                f"{r['method_id']}: {r['credential'] or 'no credential'}, quota {r['quota_project']!r}"
            )
    return wrong


def test_apply_create_converges_in_one_run_with_user_credentials(provision_env, tmp_path) -> None:
    result = gcp_setup("apply", *CREATE, "--yes", "--env-file", str(tmp_path / ".env"))
    assert result.exit_code == 0, result.output
    assert "0 failed." in result.stdout
    assert policy_violations(provision_env, PROJECT) == []
    tokens = [r for r in provision_env.requests() if r["method_id"] == "oauth2.token"]
    assert len(tokens) == 1  # one refresh before the first reads, shared by every thread
    provision_env.clear_requests()

    again = gcp_setup("apply", *CREATE, "--yes", "--env-file", str(tmp_path / ".env"))
    assert again.exit_code == 0, again.output
    assert provision_env.writes() == []
    assert policy_violations(provision_env, PROJECT) == []


@pytest.mark.parametrize("command", ["plan", "status", "export", "destroy"])
def test_every_command_authenticates_and_bills_by_the_table(provision_env, tmp_path, command) -> None:
    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0
    provision_env.clear_requests()
    args = {
        "plan": ["plan", "--project", PROJECT],
        "status": ["status", "--project", PROJECT],
        "export": ["export", "terraform", "--project", PROJECT, "--out", str(tmp_path / "tf")],
        "destroy": ["destroy", "--project", PROJECT, "--yes"],
    }[command]
    result = gcp_setup(*args)
    assert result.exit_code == 0, result.output
    assert api_requests(provision_env), "the command sent no request"
    assert policy_violations(provision_env, PROJECT) == []


def test_a_fleet_bills_each_entry_its_own_project(provision_env, tmp_path) -> None:
    """One session for every entry: API Keys bills each request's own project, never gcloud's."""
    fleet = ["fleet-creds-1", "fleet-creds-2"]
    entries = "".join(f'[[projects]]\nproject = "{p}"\n' for p in fleet)
    (tmp_path / "gcp-setup.toml").write_text(f'create = true\nbilling-account = "{OPEN}"\n{entries}')
    result = gcp_setup("apply", "--yes")
    assert result.exit_code == 0, result.output
    assert policy_violations(provision_env, *fleet) == []
    keys = [r for r in api_requests(provision_env) if r["method_id"].startswith("apikeys.")]
    assert {r["quota_project"] for r in keys} >= set(fleet)


def test_reap_authenticates_and_sends_no_quota_project(provision_env, world) -> None:
    from gcp_setup import defaults
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend

    labels = {"created-by": "gcp-setup", defaults.EXPIRES_LABEL: "1"}  # long expired
    with world.lock:
        world.backend(ProjectsBackend).create("reap-creds-1", owner=world.default_caller, labels=labels)
    result = gcp_setup("reap")
    assert result.exit_code == 0, result.output
    assert "reap-creds-1" in result.stdout
    assert policy_violations(provision_env, "reap-creds-1") == []


def test_the_old_behaviour_is_refused_target_project_on_every_request(emu: EmulatorControl) -> None:
    """What gcp-setup sent before: google.auth.default(quota_project_id=PROJECT) on every request. Its
    first request, about a project still to be created, is refused as Google refuses it."""
    from google.api_core import exceptions
    from google.cloud import resourcemanager_v3

    from gcp_setup.google.session import GoogleSession

    credentials = GoogleSession.create(emu.host).get_credentials().with_quota_project("not-yet-created-1")
    client = resourcemanager_v3.ProjectsClient(
        transport="rest", credentials=credentials, client_options={"api_endpoint": emu.url}
    )
    with pytest.raises(exceptions.BadRequest) as refused:
        client.get_project(name="projects/not-yet-created-1")
    assert refused.value.reason == "USER_PROJECT_DENIED"
    assert "Project 'project:not-yet-created-1' not found or deleted." in refused.value.message


def test_the_old_behaviour_is_refused_no_quota_project_on_api_keys(provision_env) -> None:
    """API Keys with user credentials and no header bills gcloud's own project, where it is off."""
    from gcp_setup.errors import GoogleApiError
    from gcp_setup.google.client import Client
    from gcp_setup.google.session import GoogleSession

    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0
    session = GoogleSession.create(provision_env.host)
    keys = session.discovery("apikeys", "v2", "projects.locations.keys")
    with pytest.raises(GoogleApiError) as refused:
        Client(session).execute(keys.list(parent=f"projects/{PROJECT}/locations/global"))
    assert refused.value.reason == "SERVICE_DISABLED"
    assert refused.value.metadata["consumer"] == f"projects/{GCLOUD_CLIENT_PROJECT}"
    assert "requires a quota project" in str(refused.value)
    assert "--billing-project" in (refused.value.hint or "")


def test_quota_project_rules_a_key_with_the_header_and_a_project_that_may_not_be_used(
    provision_env, world, make_project
) -> None:
    import requests

    from gcp_setup.emulator.apikeys.models import ApiKeysBackend

    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0
    (key,) = world.backend(ApiKeysBackend).keys.values()
    url = f"{provision_env.url}/v1beta/models"
    with_key = requests.get(url, headers={"x-goog-api-key": key.key_string, "x-goog-user-project": PROJECT})
    assert with_key.status_code == 403
    assert with_key.json()["error"]["details"][0]["reason"] == "USER_PROJECT_DENIED"
    assert requests.get(url, headers={"x-goog-api-key": key.key_string}).status_code == 200

    token = json.loads(Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    assert token["type"] == "authorized_user"
    make_project("someone-elses-1").policy.bindings.clear()  # nobody may use it
    from gcp_setup.google.session import GoogleSession

    bearer = GoogleSession.create(provision_env.host).get_credentials().token
    projects = f"{provision_env.url}/v3/projects/{PROJECT}"
    foreign = requests.get(
        projects, headers={"Authorization": f"Bearer {bearer}", "x-goog-user-project": "someone-elses-1"}
    )
    assert foreign.status_code == 403 and "Caller does not have required permission" in foreign.text
    billing = f"{provision_env.url}/v1/projects/{PROJECT}/billingInfo"
    off = requests.get(billing, headers={"Authorization": f"Bearer {bearer}", "x-goog-user-project": PROJECT})
    assert off.status_code == 403  # Cloud Billing is off in the project: not a default service
    assert off.json()["error"]["details"][0]["reason"] == "SERVICE_DISABLED"
    assert requests.get(billing, headers={"Authorization": f"Bearer {bearer}"}).status_code == 200


def test_no_credentials_with_the_emulator_is_one_line_naming_adc_file(provision_env, monkeypatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    result = gcp_setup("plan", *CREATE)
    assert result.exit_code == 1
    assert "no Application Default Credentials found" in result.output
    assert "gcp-setup emulator --adc-file" in result.output
    assert "Traceback" not in result.output
    assert provision_env.requests() == []  # no anonymous fallback


@pytest.mark.parametrize("command", [["plan"], ["apply", "--yes"], ["status"], ["destroy", "--yes"]])
def test_a_revoked_login_is_one_line_naming_the_login(provision_env, world, command) -> None:
    from gcp_setup.emulator.oauth.models import OAuthBackend

    world.backend(OAuthBackend).refresh_tokens.clear()  # revoked
    result = gcp_setup(*command, *CREATE[:2])
    assert result.exit_code == 1
    assert "your login has expired or was revoked" in result.output
    assert "gcp-setup emulator --adc-file" in result.output
    assert "RefreshError" not in result.output and "Traceback" not in result.output


def test_an_adc_files_quota_project_is_not_sent(provision_env, tmp_path, monkeypatch) -> None:
    adc = json.loads(Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    stale = tmp_path / "adc.json"
    stale.write_text(json.dumps({**adc, "quota_project_id": "long-gone-project"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(stale))
    monkeypatch.setenv("GOOGLE_CLOUD_QUOTA_PROJECT", "")  # google-auth reads it too
    result = gcp_setup("apply", *CREATE, "--yes")
    assert result.exit_code == 0, result.output
    assert policy_violations(provision_env, PROJECT) == []


def test_billing_project_bills_the_client_based_apis(provision_env, make_project) -> None:
    make_project("billing-home-1", ("apikeys.googleapis.com", "orgpolicy.googleapis.com"))
    result = gcp_setup("apply", *CREATE, "--yes", "--billing-project", "billing-home-1")
    assert result.exit_code == 0, result.output
    billed = {
        r["quota_project"] for r in api_requests(provision_env) if r["method_id"].startswith("apikeys.")
    }
    assert billed == {"billing-home-1"}


def test_emulator_adc_file_is_written_0600_and_selects_the_user(tmp_path) -> None:
    adc = tmp_path / "adc.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "gcp_setup", "emulator", "--port", "0", "--adc-file", str(adc)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(2)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    host = lines[0].strip().removeprefix("export GCP_SETUP_EMULATOR_HOST=")
    assert lines[1].strip() == f"export GOOGLE_APPLICATION_CREDENTIALS={adc.resolve()}"
    assert stat.S_IMODE(adc.stat().st_mode) == 0o600
    document = json.loads(adc.read_text())
    assert document["type"] == "authorized_user" and document["refresh_token"].startswith("1//")
    assert document["account"] == ""  # as gcloud writes it: tokeninfo names the user
    assert host.startswith("127.0.0.1:")


@pytest.fixture
def smoke_env(provision_env, tmp_path, monkeypatch):
    """provision_env with apply's smoke test on, and HOME a fresh directory (the credentials files)."""
    monkeypatch.delenv("GCP_SETUP_VERIFY")
    monkeypatch.setenv("HOME", str(tmp_path))
    return provision_env


def test_user_credentials_apply_then_verify(smoke_env, tmp_path) -> None:
    env_file = str(tmp_path / ".env")
    result = gcp_setup("apply", *CREATE, "--yes", "--env-file", env_file)
    assert result.exit_code == 0, result.output
    assert "0 failed." in result.stdout and "ok   vertex " in result.stdout
    smoke_env.clear_requests()
    verified = gcp_setup("verify", "--env-file", env_file)
    assert verified.exit_code == 0, verified.output
    assert "user credentials; principal user:developer@example.com" in verified.stdout
    assert policy_violations(smoke_env, PROJECT) == []


def test_verify_bills_the_project_not_the_adc_files_quota_project(smoke_env, tmp_path, monkeypatch) -> None:
    env_file = str(tmp_path / ".env")
    assert gcp_setup("apply", *CREATE, "--yes", "--no-verify", "--env-file", env_file).exit_code == 0
    adc = json.loads(Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    login_time = tmp_path / "adc.json"
    login_time.write_text(json.dumps({**adc, "quota_project_id": "project-at-login-1"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(login_time))
    smoke_env.clear_requests()
    verified = gcp_setup("verify", "--env-file", env_file, "--only", "credentials", "--only", "vertex")
    assert verified.exit_code == 0, verified.output
    assert "names quota project project-at-login-1; verify bills real-creds-1 instead" in verified.stdout
    assert {r["quota_project"] for r in api_requests(smoke_env)} == {""}


def test_impersonation_picks_the_adc_identity_and_writes_no_stale_quota_project(
    provision_env, tmp_path, monkeypatch
) -> None:
    adc = json.loads(Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    with_quota = tmp_path / "adc.json"
    with_quota.write_text(json.dumps({**adc, "quota_project_id": "project-at-login-1"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(with_quota))
    target = tmp_path / "impersonated.json"
    flags = [*CREATE, "--credentials", "impersonate", "--credentials-file", str(target)]
    planned = gcp_setup("plan", *flags)
    assert "to user:developer@example.com (the identity behind your ADC)" in planned.output, planned.output
    assert gcp_setup("apply", *flags, "--yes").exit_code == 0
    written = json.loads(target.read_text())
    assert "quota_project_id" not in written["source_credentials"]
    assert written["source_credentials"]["refresh_token"] == adc["refresh_token"]


def test_the_smoke_test_waits_while_a_new_grant_propagates(smoke_env, tmp_path) -> None:
    """Google's 2 minutes for a grant, crossed by the emulator's clock moving 30 s a request: the smoke
    test's first attempts are refused, it says so, and it passes once the grants are in effect."""
    smoke_env.set_realism(role_grant_propagation_s=120)
    smoke_env.advance_clock_per_request(30)
    target = tmp_path / "impersonated.json"
    result = gcp_setup(
        "apply", *CREATE, "--yes", "--credentials", "impersonate", "--credentials-file", str(target)
    )
    assert result.exit_code == 0, result.output
    assert "still propagating at Google" in result.stderr
    assert "ok   credentials" in result.stdout and "ok   vertex " in result.stdout


def test_a_grant_still_propagating_after_the_wait_says_so(smoke_env, tmp_path) -> None:
    smoke_env.set_realism(role_grant_propagation_s=100_000)
    target = tmp_path / "impersonated.json"
    result = gcp_setup(
        "apply", *CREATE, "--yes", "--credentials", "impersonate", "--credentials-file", str(target),
        "--propagation-wait", "0.3",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "still propagating:" in result.stdout
    assert "log in again" not in result.output and "application-default login" not in result.stdout


def test_a_new_key_file_is_waited_for(smoke_env, tmp_path) -> None:
    smoke_env.set_realism(key_propagation_s=60)
    smoke_env.advance_clock_per_request(20)
    key = tmp_path / "key.json"
    result = gcp_setup(
        "apply",
        *CREATE,
        "--yes",
        "--credentials",
        "key-file",
        "--allow-key-file",
        "--credentials-file",
        str(key),
    )
    assert result.exit_code == 0, result.output
    assert "still propagating at Google" in result.stderr


def test_propagation_preset_is_googles_documented_delays() -> None:
    from gcp_setup.emulator.core.realism import Realism

    delays = Realism.propagation("google")
    assert delays["role_grant_propagation_s"] == 120 and delays["workload_identity_propagation_s"] == 300
    assert set(Realism.propagation("none").values()) == {0.0}


def test_get_project_takes_only_a_plain_refusal_as_absence(emu: EmulatorControl, make_project) -> None:
    """A project Google refuses to show is None; a refused quota project or an API that is off is raised
    with its own fix, never read as 'does not exist'."""
    from gcp_setup.errors import GoogleApiError
    from gcp_setup.google.resourcemanager import ResourceManagerClient
    from gcp_setup.google.session import GoogleSession

    make_project("quota-home-1")  # Resource Manager is off there
    user = GoogleSession.create(emu.host).get_credentials()
    assert ResourceManagerClient(GoogleSession.create(emu.host)).get_project("nobody-has-this-1") is None
    for quota_project, reason, fix in (
        ("never-created-1", "USER_PROJECT_DENIED", "--billing-project"),
        ("quota-home-1", "SERVICE_DISABLED", "gcloud services enable cloudresourcemanager.googleapis.com"),
    ):
        session = GoogleSession(emulator_host=emu.host, credentials=user.with_quota_project(quota_project))
        with pytest.raises(GoogleApiError) as raised:
            ResourceManagerClient(session).get_project("nobody-has-this-1")
        assert raised.value.reason == reason and fix in (raised.value.hint or ""), raised.value.hint


def test_a_refused_login_is_tried_once_per_run(clean_config, monkeypatch) -> None:
    """Every client of a run needs the login: when the token endpoint refuses it, the run says so
    without asking again for each client (a tiny token endpoint of the test's own counts)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked: list[str] = []

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            asked.append(self.path)
            body = b'{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}'
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        adc = clean_config / "adc.json"
        adc.write_text(
            json.dumps(
                {"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}
            )
        )
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        monkeypatch.setenv("GCP_SETUP_EMULATOR_HOST", f"127.0.0.1:{server.server_address[1]}")
        result = gcp_setup("status", "--project", PROJECT)
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1
    assert "your login has expired or was revoked" in result.output
    assert asked == ["/token"]
