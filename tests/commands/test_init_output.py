"""`gcp-setup init` remembers the settings (gcp-setup.toml), after which every command runs without flags
and they agree; `gcp-setup output` shows what apply produced; `status` says when it compared only the
defaults."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT

PROJECT = "init-output-1"
BILLING = OPEN_ACCOUNT.removeprefix("billingAccounts/")
INIT = [
    *("init", "--project", PROJECT, "--create", "--billing-account", BILLING, "--env-file", ".env"),
    *("--credentials", "key-file", "--allow-key-file", "--credentials-file", "key.json", "--yes"),
]


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def initialised(provision_env, clean_config: Path) -> Path:
    result = gcp_setup(*INIT)
    assert result.exit_code == 0, result.output
    assert "wrote gcp-setup.toml" in result.output
    return clean_config / "gcp-setup.toml"


def test_init_writes_a_commented_file_the_settings_read_back(initialised) -> None:
    text = initialised.read_text()
    assert text.startswith("# gcp-setup.toml: the settings every gcp-setup command reads")
    assert '\n# location = "global"\n' in text  # a default: shown, commented out
    assert tomllib.loads(text) == {
        "project": PROJECT,
        "create": True,
        "billing-account": BILLING,
        "credentials": "key-file",
        "allow-key-file": True,
        "credentials-file": "key.json",
        "env-file": ".env",
    }
    config = gcp_setup("config", "--format", "json")
    settings = json.loads(config.stdout)["settings"]
    assert settings["credentials"] == {"value": "key-file", "source": "gcp-setup.toml credentials"}


def test_init_over_a_file_shows_the_change_and_writes_only_with_force(initialised) -> None:
    before = initialised.read_text()
    refused = gcp_setup("init", "--location", "us-central1", "--yes")
    assert refused.exit_code == 2
    assert '-# location = "global"\n+location = "us-central1"' in refused.stdout
    assert "pass --force to write it" in refused.output
    assert initialised.read_text() == before
    forced = gcp_setup("init", "--location", "us-central1", "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert tomllib.loads(initialised.read_text())["project"] == PROJECT  # the other settings are kept
    assert 'location = "us-central1"' in initialised.read_text()
    assert "nothing written" in gcp_setup("init", "--yes").output


def test_init_without_a_project_says_which_flag(provision_env, clean_config) -> None:
    result = gcp_setup("init", "--yes")
    assert result.exit_code == 2
    assert "init needs a project: pass --project ID" in result.output


def test_after_init_every_command_runs_without_flags_and_they_agree(initialised) -> None:
    applied = gcp_setup("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    assert "Next steps:" in applied.stdout and f"gcp-setup output --project {PROJECT}" in applied.stdout
    plan = gcp_setup("plan")
    assert plan.exit_code == 0 and "No changes" in plan.stdout, plan.output
    status = gcp_setup("status")
    assert status.exit_code == 0 and status.stdout.rstrip().endswith("In sync."), status.output
    verify = gcp_setup("verify")
    assert verify.exit_code == 0, verify.output
    assert " passed, 0 failed" in verify.stdout and "serviceAccount:gemini-client@" in verify.stdout
    shown = gcp_setup("output", "--format", "json")
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["project"] == PROJECT and document["env_file"] == ".env"
    assert document["service_account"] == f"gemini-client@{PROJECT}.iam.gserviceaccount.com"
    destroyed = gcp_setup("destroy", "--yes")
    assert destroyed.exit_code == 0, destroyed.output
    assert gcp_setup("output").exit_code == 1  # nothing applied any more


def test_output_shows_the_key_string_only_when_asked(initialised) -> None:
    assert gcp_setup("apply", "--yes").exit_code == 0
    env = dict(
        line.split("=", 1)
        for line in (initialised.parent / ".env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    key = env["GEMINI_API_KEY"]
    for args in ([], ["--format", "json"], ["--format", "env"]):
        result = gcp_setup("output", *args)
        assert result.exit_code == 0, result.output
        assert key not in result.output
    assert (
        json.loads(gcp_setup("output", "--format", "json", "--show-secrets").stdout)["api_key_string"] == key
    )
    as_env = gcp_setup("output", "--format", "env", "--show-secrets").stdout
    assert f"OPENAI_API_KEY={key}" in as_env and f"GOOGLE_CLOUD_PROJECT={PROJECT}" in as_env
    table = gcp_setup("output").stdout
    assert "client = OpenAI()" in table and "client = genai.Client()" in table
    assert f"https://console.cloud.google.com/apis/credentials?project={PROJECT}" in table


def test_output_before_any_apply_is_one_line_saying_what_to_run(provision_env, clean_config) -> None:
    result = gcp_setup("output", "--project", PROJECT)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"nothing applied in project {PROJECT} yet: run gcp-setup apply --project {PROJECT} --create "
        "--env-file .env"
    ]


def test_status_with_only_the_defaults_does_not_claim_the_last_apply_is_in_sync(provision_env, clean_config):
    flags = ["--project", PROJECT, "--create", "--billing-account", BILLING]
    assert gcp_setup("apply", *flags, "--env-file", ".env", "--yes").exit_code == 0
    status = gcp_setup("status", "--project", PROJECT)
    assert status.exit_code == 0, status.output
    assert (
        "In sync. Compared with the default settings only" in status.stdout
        and "gcp-setup init" in status.stdout
    )


def test_init_asks_for_what_no_flag_gave_when_a_person_can_answer(provision_env, clean_config, monkeypatch):
    import click.testing

    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    answers = "\n".join([PROJECT, "y", BILLING, "key-file", ".env"]) + "\n"
    result = CliRunner().invoke(cli, ["init", "--allow-key-file", "--config", "mine.toml"], input=answers)
    assert result.exit_code == 0, result.output
    written = tomllib.loads((clean_config / "mine.toml").read_text())
    assert written == {
        "project": PROJECT,
        "create": True,
        "billing-account": BILLING,
        "credentials": "key-file",
        "allow-key-file": True,
        "env-file": ".env",
    }
