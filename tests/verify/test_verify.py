"""`gcp-setup verify` against the emulator, through the real google-genai and openai libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend
from gcp_setup.verify import CHECK_NAMES
from gcp_setup.verify.models import ModelInfo, choose_default, close_names

GEMINI_API = "generativelanguage.googleapis.com"
CHECK_FIELDS = ["name", "title", "status", "latency_ms", "detail", "hint", "reason"]


def run_verify(*args: str):
    return CliRunner().invoke(cli, ["verify", *args])


def verify_json(*args: str) -> tuple[int, dict]:
    result = run_verify("--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_verify_passes_every_check_after_setup(gemini_project) -> None:
    result = run_verify()
    assert result.exit_code == 0, result.output
    assert "7 passed, 0 failed, 0 skipped" in result.stdout
    assert "gemini-client@" in result.stdout


def test_json_output_is_stable(gemini_project) -> None:
    code, report = verify_json()
    assert code == 0
    assert list(report) == [
        *("format_version", "command", "ok", "problem"),
        *("emulator", "project", "location", "model", "checks"),
    ]
    assert (report["format_version"], report["command"], report["ok"], report["problem"]) == (
        1,
        "verify",
        True,
        None,
    )
    assert report["project"] == gemini_project.project.project_id
    assert report["model"] == "gemini-3.8-flash"
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    for check in report["checks"]:
        assert list(check) == CHECK_FIELDS
        assert check["status"] == "passed"
        assert isinstance(check["latency_ms"], int)


def test_every_path_reached_the_emulator(gemini_project) -> None:
    gemini_project.emu.clear_requests()
    assert run_verify().exit_code == 0
    paths = {r["path"] for r in gemini_project.emu.requests() if r["status"] < 400}
    project = gemini_project.project.project_id
    assert "/token" in paths
    assert "/v1beta/models" in paths
    assert "/v1beta/models/gemini-3.8-flash:generateContent" in paths
    assert (
        f"/v1/projects/{project}/locations/global/publishers/google/models/gemini-3.8-flash:generateContent"
        in paths
    )
    assert "/v1beta/openai/chat/completions" in paths
    assert f"/v1/projects/{project}/locations/global/endpoints/openapi/chat/completions" in paths


def test_no_generate_makes_only_free_calls(gemini_project) -> None:
    gemini_project.emu.clear_requests()
    code, report = verify_json("--no-generate")
    assert code == 0
    paths = [r["path"] for r in gemini_project.emu.requests()]
    assert not [p for p in paths if "generateContent" in p or "chat/completions" in p]
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["openai-vertex"] == "skipped"
    assert statuses["gemini-api"] == statuses["vertex"] == "passed"


def test_only_and_skip_choose_checks(gemini_project) -> None:
    _, report = verify_json("--only", "gemini-api", "--only", "vertex", "--skip", "vertex")
    assert [c["name"] for c in report["checks"]] == ["gemini-api"]


def test_explicit_model_is_used(gemini_project) -> None:
    code, report = verify_json("--model", "gemini-3.5-flash-lite", "--only", "vertex")
    assert code == 0
    assert report["model"] == "gemini-3.5-flash-lite"
    assert "gemini-3.5-flash-lite" in report["checks"][0]["detail"]


def test_checks_without_prerequisites_are_skipped_not_failed(emulator_env, tmp_path, monkeypatch) -> None:
    for name in [n for n in os.environ if n.startswith(("GOOGLE_", "GEMINI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    code, report = verify_json()
    assert code == 1  # nothing was verified: not green
    assert {c["status"] for c in report["checks"]} == {"skipped"}
    assert "GEMINI_API_KEY" in report["checks"][1]["hint"]
    assert report["problem"].startswith("no check ran")
    assert verify_json("--allow-skipped")[0] == 0


def test_api_key_env_names_the_variable(gemini_project, monkeypatch) -> None:
    monkeypatch.setenv("MY_KEY", gemini_project.api_key.key_string)
    monkeypatch.delenv("GEMINI_API_KEY")
    code, _ = verify_json("--only", "gemini-api", "--api-key-env", "MY_KEY")
    assert code == 0
    result = run_verify("--api-key-env", "UNSET_VARIABLE")
    assert result.exit_code == 2
    assert "UNSET_VARIABLE" in result.output


def test_no_secret_in_any_output_at_debug_verbosity(gemini_project) -> None:
    """A subprocess, so that logging is configured as for a user (debug logs of every library)."""
    result = subprocess.run(
        [sys.executable, "-m", "gcp_setup", "--verbosity", "debug", "verify"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "DEBUG" in result.stderr
    output = result.stdout + result.stderr
    assert gemini_project.api_key.key_string not in output
    assert "ya29." not in output  # every token the emulator issues starts so


def test_secrets_stay_out_of_failure_output(gemini_project, world) -> None:
    from gcp_setup.emulator.apikeys.models import ApiKeysBackend

    world.backend(ApiKeysBackend).delete(gemini_project.api_key)
    result = CliRunner().invoke(cli, ["--verbosity", "debug", "verify"])
    assert result.exit_code == 1
    assert gemini_project.api_key.key_string not in result.output


@pytest.mark.slow
def test_waits_while_a_just_enabled_api_propagates(gemini_project, world) -> None:
    """Whether an API is on, verify asks Service Usage as its ADC's principal: here the service account,
    which may then view the project's services."""
    gemini_project.project.policy.add_binding(
        "roles/serviceusage.serviceUsageViewer", gemini_project.account.member
    )
    gemini_project.emu.set_realism(service_enable_propagation_s=1.2)
    world.backend(ServicesBackend).disable(gemini_project.project, "generativelanguage.googleapis.com")
    world.backend(ServicesBackend).enable(gemini_project.project, "generativelanguage.googleapis.com")
    gemini_project.emu.clear_requests()
    result = CliRunner().invoke(cli, ["verify", "--only", "gemini-api", "--propagation-wait", "10"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("still propagating") >= 2
    looks = [r for r in gemini_project.emu.requests() if r["path"].endswith("/services/" + GEMINI_API)]
    assert len(looks) == 1  # Service Usage is asked once, not before every retry


def test_propagation_wait_is_bounded(gemini_project, world) -> None:
    gemini_project.emu.set_realism(service_enable_propagation_s=60)
    world.backend(ServicesBackend).disable(gemini_project.project, "generativelanguage.googleapis.com")
    world.backend(ServicesBackend).enable(gemini_project.project, "generativelanguage.googleapis.com")
    code, report = verify_json("--only", "gemini-api", "--propagation-wait", "0.6")
    assert code == 1
    assert report["checks"][0]["reason"] == "SERVICE_DISABLED"
    assert report["checks"][0]["latency_ms"] < 5000


def test_editor_role_is_enough_for_vertex(gemini_project, world) -> None:
    project = gemini_project.project
    member = gemini_project.account.member
    project.policy.bindings = [b for b in project.policy.bindings if member not in b.get("members", [])]
    project.policy.add_binding("roles/editor", member)
    assert world.backend(ProjectsBackend).holds(project, member, "aiplatform.endpoints.predict")
    code, _ = verify_json("--only", "vertex")
    assert code == 0


# -- the default model ---------------------------------------------------------------------------
def _model(name: str, *methods: str) -> ModelInfo:
    return ModelInfo(name, name, "", methods or ("generateContent", "countTokens"))


def test_default_model_is_the_newest_stable_flash() -> None:
    models = [
        _model("gemini-2.0-flash"),
        _model("gemini-2.5-flash"),
        _model("gemini-2.5-flash-lite"),
        _model("gemini-2.5-pro"),
        _model("gemini-3-flash-preview"),
    ]
    assert choose_default(models) == "gemini-2.5-flash"
    assert choose_default([*models, _model("gemini-3-flash")]) == "gemini-3-flash"


def test_default_model_falls_back_without_a_stable_flash() -> None:
    assert choose_default([_model("gemini-flash-latest"), _model("gemini-2.5-pro")]) == "gemini-flash-latest"
    assert (
        choose_default([_model("gemini-9-flash-preview"), _model("gemini-9-flash-image")])
        == "gemini-9-flash-preview"
    )
    assert choose_default([_model("gemini-2.5-flash", "embedContent")]) is None


def test_close_names_suggest_models_that_generate() -> None:
    models = [
        _model("gemini-2.5-flash"),
        _model("gemini-2.5-pro"),
        _model("text-embedding-004", "embedContent"),
    ]
    assert close_names("gemini-2.5-flsh", models)[0] == "gemini-2.5-flash"


def test_verify_passes_after_apply_on_the_emulator(provision_env, tmp_path, monkeypatch) -> None:
    """The acceptance path: `apply` (service-account key file, .env, the express key), then
    `verify --env-file .env`: every check passes, Vertex AI express mode included."""
    for name in [
        n
        for n in os.environ
        if n.startswith(("GOOGLE_", "GEMINI_", "OPENAI_")) and n != "GOOGLE_APPLICATION_CREDENTIALS"
    ]:
        monkeypatch.delenv(name)
    env_file, key_file = tmp_path / ".env", tmp_path / "sa-key.json"
    applied = CliRunner().invoke(
        cli,
        [
            "apply",
            "--project",
            "apply-then-verify",
            "--create",
            "--billing-account",
            "000000-AAAAAA-000001",
            "--credentials",
            "key-file",
            "--allow-key-file",
            "--credentials-file",
            str(key_file),
            "--env-file",
            str(env_file),
            "--vertex-express",
            "--yes",
        ],
    )
    assert applied.exit_code == 0, applied.output
    code, report = verify_json("--env-file", str(env_file))
    assert code == 0, report
    assert [c["status"] for c in report["checks"]] == ["passed"] * 7
    assert report["project"] == "apply-then-verify"


def test_env_file_wins_over_the_environment_and_flags_over_both(
    gemini_project, tmp_path, monkeypatch
) -> None:
    from gcp_setup.secrets.env_file import env_line

    key = gemini_project.api_key.key_string
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"# written by gcp-setup\n{env_line('GEMINI_API_KEY', key)}\n"
        f"export GOOGLE_CLOUD_LOCATION='us-east5'\nGOOGLE_APPLICATION_CREDENTIALS={gemini_project.key_file}\n"
    )
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-a-stale-key-in-the-shell")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "europe-west4")
    code, report = verify_json("--env-file", str(env_file), "--only", "gemini-api", "--only", "credentials")
    assert code == 0, report
    assert report["location"] == "us-east5"
    _, report = verify_json("--env-file", str(env_file), "--location", "global", "--only", "credentials")
    assert report["location"] == "global"
    code, report = verify_json("--only", "gemini-api")  # without the file, the shell's stale key
    assert code == 1 and report["checks"][0]["reason"] == "API_KEY_INVALID"


def test_a_missing_env_file_is_a_one_line_usage_error(gemini_project, tmp_path) -> None:
    result = run_verify("--env-file", str(tmp_path / "nowhere.env"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --env-file {tmp_path / 'nowhere.env'}: No such file")
    assert result.stderr.count("\n") == 1


def test_the_env_parser_reads_what_gcp_setup_writes() -> None:
    from gcp_setup.secrets.env_file import env_line, merge_env_text, parse_env_text

    values = {"PLAIN": "a.b/c:d", "QUOTED": 'a "b" $HOME \\ #c', "EMPTY": ""}
    text = merge_env_text("# comment\nexport OTHER='kept as is'\nNOT A LINE\nLATE=1 # why\n", values)
    assert parse_env_text(text) == {"OTHER": "kept as is", "LATE": "1", **values}
    assert all(parse_env_text(env_line(k, v)) == {k: v} for k, v in values.items())


def test_credential_kinds_and_principals(gemini_project) -> None:
    """What the credentials check calls each kind google-auth resolves, and whom it acts as."""
    from google.auth import impersonated_credentials
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

    from gcp_setup.verify.credentials import kind_of, principal_of

    source = service_account.Credentials.from_service_account_file(str(gemini_project.key_file))
    target = "target@verify-gemini-1.iam.gserviceaccount.com"
    impersonated = impersonated_credentials.Credentials(
        source, target, ["https://www.googleapis.com/auth/cloud-platform"]
    )
    user = user_credentials.Credentials(token=None, account="me@example.com")
    assert (kind_of(source), principal_of(source)) == (
        "service account key",
        f"serviceAccount:{gemini_project.account.email}",
    )
    assert (kind_of(impersonated), principal_of(impersonated)) == (
        "impersonated service account",
        f"serviceAccount:{target}",
    )
    assert (kind_of(user), principal_of(user)) == ("user credentials", "user:me@example.com")


def test_an_over_shared_key_file_passes_with_a_note(gemini_project) -> None:
    gemini_project.key_file.chmod(0o644)
    code, report = verify_json("--only", "credentials")
    assert code == 0
    assert f"chmod 600 {gemini_project.key_file}" in report["checks"][0]["hint"]


@pytest.mark.parametrize("flag", ["true", "True", "1", "yes", "0"])
def test_stray_key_is_named_only_when_google_genai_sends_it_to_vertex(flag: str, monkeypatch) -> None:
    from google import genai

    from gcp_setup.verify.vertex import stray_api_key_env

    for name in [
        n
        for n in os.environ
        if n.startswith(("GOOGLE_", "GEMINI_")) and n != "GOOGLE_APPLICATION_CREDENTIALS"
    ]:
        monkeypatch.delenv(name)
    environ = {"GOOGLE_API_KEY": "AIza-any", "GOOGLE_GENAI_USE_VERTEXAI": flag}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    sent_to_vertex = genai.Client()._api_client.vertexai  # the user's own code, as google-genai decides
    assert (stray_api_key_env(environ) == "GOOGLE_API_KEY") == bool(sent_to_vertex)
