"""Keyless GitLab CI, end to end on the emulator: `apply --gitlab-project` (a self-managed issuer, its
keys inline with --gitlab-jwks) creates the pool, the provider pinned to the project path and the
principalSet binding, and prints the .gitlab-ci.yml snippet; a locally signed GitLab ID token then goes
through google-auth's real external_account flow (STS, impersonation) and `verify --only vertex` passes.
A token of another project, another audience or another key is refused."""

from __future__ import annotations

import json
from pathlib import Path

import federation
import pytest
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.google.federations import gitlab_credentials

PROJECT = "gitlab-ci-1"
GITLAB_PROJECT = "platform/ml/app"
ISSUER_URL = "https://gitlab.example.com"
SA_EMAIL = f"{defaults.SERVICE_ACCOUNT_ID}@{PROJECT}.iam.gserviceaccount.com"
ISSUER = federation.Issuer.new(ISSUER_URL)


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def settings(tmp_path: Path) -> list[str]:
    jwks = tmp_path / "gitlab-jwks.json"
    jwks.write_text(json.dumps(ISSUER.jwks()))
    return [
        "--project",
        PROJECT,
        "--create",
        "--billing-account",
        OPEN_ACCOUNT.removeprefix("billingAccounts/"),
        "--no-api-key",
        "--gitlab-project",
        GITLAB_PROJECT,
        "--gitlab-issuer",
        ISSUER_URL,
        "--gitlab-jwks",
        str(jwks),
    ]


def credentials_file(tmp_path: Path, emu, token: str, provider: str) -> Path:
    """The credential configuration of the printed snippet, Google's hosts swapped for the emulator."""
    (tmp_path / "gcp-oidc-token").write_text(token)
    info = gitlab_credentials(provider, SA_EMAIL, str(tmp_path / "gcp-oidc-token"))
    info["token_url"] = info["token_url"].replace("https://sts.googleapis.com", emu.url)
    impersonation = info["service_account_impersonation_url"]
    info["service_account_impersonation_url"] = impersonation.replace(
        "https://iamcredentials.googleapis.com", emu.url
    )
    path = tmp_path / "gcp-credentials.json"
    path.write_text(json.dumps(info))
    return path


def test_gitlab_ci_authenticates_keyless_and_vertex_answers(provision_env, settings, tmp_path, monkeypatch):
    first = gcp_setup("apply", *settings, "--yes")
    assert first.exit_code == 0, first.output
    assert "gitlab_identity    created" in first.stdout

    [pool] = provision_env.state()["backends"]["workload_identity"]["pools"]
    number = pool["project_number"]
    provider = f"projects/{number}/locations/global/workloadIdentityPools/gitlab/providers/gitlab-ci"
    assert f"        aud: https://iam.googleapis.com/{provider}" in first.stdout  # the .gitlab-ci.yml snippet
    stored = pool["providers"]["gitlab-ci"]
    assert stored["issuer_uri"] == ISSUER_URL and json.loads(stored["jwks_json"]) == ISSUER.jwks()
    assert stored["attribute_condition"] == f'assertion.project_path == "{GITLAB_PROJECT}"'
    assert stored["attribute_mapping"]["attribute.project_path"] == "assertion.project_path"
    member = f"principalSet://iam.googleapis.com/{provider.split('/providers/')[0]}/attribute.project_path/"
    assert federation.sa_members(provision_env) == {member + GITLAB_PROJECT}

    provision_env.clear_requests()
    again = gcp_setup("apply", *settings, "--yes", "--format", "json")
    assert again.exit_code == 0 and provision_env.writes() == []

    audience = f"https://iam.googleapis.com/{provider}"
    token = ISSUER.gitlab_token(GITLAB_PROJECT, audience)
    federation.use_credentials(
        monkeypatch, credentials_file(tmp_path, provision_env, token, provider), PROJECT
    )
    checks = federation.verify_checks("credentials", "vertex")
    assert checks["credentials"]["status"] == "passed", checks
    assert f"principal serviceAccount:{SA_EMAIL}" in checks["credentials"]["detail"]
    assert checks["vertex"]["status"] == "passed", checks
    assert gcp_setup("verify", "--only", "vertex").exit_code == 0
    # Without GOOGLE_CLOUD_PROJECT, google.auth.default() would ask Google's own Resource Manager
    # for an external account's project; verify takes --project and asks nothing outside the emulator.
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT")
    provision_env.clear_requests()
    assert gcp_setup("verify", "--only", "vertex", "--project", PROJECT).exit_code == 0
    assert any(r["method_id"].startswith("aiplatform") for r in provision_env.requests())


@pytest.mark.parametrize(
    "token, refusal",
    [
        (lambda aud: ISSUER.gitlab_token("platform/other", aud), "attribute condition"),
        (lambda aud: ISSUER.gitlab_token(GITLAB_PROJECT, "https://iam.googleapis.com"), "audience"),
        (lambda aud: federation.Issuer.new(ISSUER_URL).gitlab_token(GITLAB_PROJECT, aud), "signature"),
        (lambda aud: ISSUER.gitlab_token(GITLAB_PROJECT, aud, iss="https://gitlab.com"), "issuer"),
    ],
    ids=["another-project", "another-audience", "another-key", "another-issuer"],
)
def test_a_token_the_provider_must_not_accept_is_refused(
    provision_env, settings, tmp_path, monkeypatch, token, refusal
):
    assert gcp_setup("apply", *settings, "--yes").exit_code == 0
    number = provision_env.state()["backends"]["workload_identity"]["pools"][0]["project_number"]
    provider = f"projects/{number}/locations/global/workloadIdentityPools/gitlab/providers/gitlab-ci"
    path = credentials_file(
        tmp_path, provision_env, token(f"https://iam.googleapis.com/{provider}"), provider
    )
    federation.use_credentials(monkeypatch, path, PROJECT)
    check = federation.verify_checks("credentials")["credentials"]
    assert check["status"] == "failed" and refusal in check["detail"], check


def test_destroy_removes_the_gitlab_federation(provision_env, settings) -> None:
    assert gcp_setup("apply", *settings, "--yes").exit_code == 0
    result = gcp_setup("destroy", "--project", PROJECT, "--gitlab-project", GITLAB_PROJECT, "--yes")
    assert result.exit_code == 0, result.output
    [pool] = provision_env.state()["backends"]["workload_identity"]["pools"]
    assert pool["deleted_at"] is not None and federation.sa_members(provision_env) == set()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--gitlab-project", "app"], "GitLab project 'app' is not GROUP/PROJECT"),
        (["--gitlab-project", "g/app", "--gitlab-issuer", "http://gitlab.local"], "is not an https URL"),
        (["--gitlab-project", "g/app", "--gitlab-jwks", "missing.json"], "not a readable JSON key set"),
        (["--gitlab-project", "g/app", "--no-service-account"], "--gitlab-project needs the service account"),
    ],
)
def test_bad_gitlab_settings_are_one_line_usage_errors(clean_config, args, message) -> None:
    result = gcp_setup("plan", "--project", PROJECT, *args)
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
