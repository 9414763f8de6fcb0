"""The settings table (gcp_setup/settings/table.py) against what the commands do: each command lists in --help
only the flags of the settings it takes; each setting a command reads is one it takes, and each it
takes is read; every command resolves a setting alike (`config --format json` is the reference); the
global flags work after the command too."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import gcp_setup
from gcp_setup.cli import COMMANDS, cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.settings.config import RULES, Config
from gcp_setup.settings.table import SETTING_NAMES, SETTINGS, taken_by

PACKAGE = Path(gcp_setup.__file__).parent
PROJECT = "settings-table-1"
USER_ADC = {
    "type": "authorized_user",
    "client_id": "764086051850-example.apps.googleusercontent.com",
    "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty",
    "refresh_token": "1//refresh-token-for-tests",
}
OWN_FLAGS = {
    "plan": {"--format"},
    "apply": {"--yes", "-y", "--format"},
    "status": {"--format"},
    "destroy": {"--delete-project", "--force", "--yes", "-y", "--format"},
    "config": {"--format"},
    "init": {"--yes", "-y", "--force"},
    "output": {"--format"},
    "reap": {"--dry-run", "--format"},
    "export": {"--out", "--module", "--force", "--source"},
    "verify": {
        "--only",
        "--skip",
        "--no-generate",
        "--model",
        "--api-key-env",
        "--format",
    },
    "models": {"--filter", "--method", "--api-key-env", "--format"},
    "emulator": {
        *("--host", "--allow-remote", "--port", "--latency-ms", "--fault-rate", "--seed", "--state"),
        *("--operation-polls", "--sa-propagation-s", "--service-propagation-s", "--gemini-key-policy"),
        *("--adc-file", "--propagation"),
    },
}
APPLIED_BY_THE_COMMAND_LINE = {"timeout", "verbosity"}
"""Process-wide: the command line applies them (logging, deadlines) for every command that takes them."""
READ_BY_THE_SMOKE_TEST = {"propagation_wait"}
"""Read by apply's smoke test, which the test below turns off (provision_env): verify reads it too."""
READ_BY_A_FLEET = {"parallelism", "only"}
"""Read only when the settings file holds [[projects]] (tests/fleet/test_fleet.py)."""
DEFAULT_ON_PURPOSE = {"export": {"rotate_key", "show_secrets"}, "destroy": {"show_secrets"}}
"""Read by a command that must see the default: export observes the keys as they are (a rotation is
apply's business) and writes no secret (the key steps it runs read no key string); destroy's report,
shared with apply, shows no secret."""


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def command_line(command: str) -> list[str]:
    return ["export", "terraform"] if command == "export" else [command]


def listed_flags(command: str) -> set[str]:
    text = invoke(*command_line(command), "--help").stdout.split("Options:")[1]
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", text)) - {"-h", "--help"}


def table_flags(command: str) -> set[str]:
    flags = set()
    for setting in taken_by(command):
        flags.update(setting.flag_names)
        if setting.kind == "switch":
            flags.add("--no-" + setting.flag_names[0][2:])
        if setting.off_flag:
            flags.add(setting.off_flag)
    if any(s.in_file for s in taken_by(command)):
        flags.add("--config")
    return flags


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_lists_the_flags_of_the_settings_the_command_takes_and_its_own(command):
    assert listed_flags(command) == table_flags(command) | OWN_FLAGS[command]


def test_destroy_lists_no_flag_of_apply_it_does_not_use():
    assert not {"--create", "--show-secrets", "--api-key", "--credentials"} & listed_flags("destroy")


# --- what each command reads -------------------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch):
    """The Config fields gcp-setup's own code reads (not dataclasses.replace copying every field)."""
    seen: set[str] = set()
    read = object.__getattribute__

    def recorded(config, name):
        if name in SETTING_NAMES and sys._getframe(1).f_code.co_filename.startswith(str(PACKAGE)):
            seen.add(name)
        return read(config, name)

    monkeypatch.setattr(Config, "__getattribute__", recorded)
    return seen


@pytest.fixture
def user_adc(provision_env, clean_config, monkeypatch):
    monkeypatch.setenv("HOME", str(clean_config))
    monkeypatch.setenv("GITHUB_ENV", str(clean_config / "github.env"))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # --github-env is for GitHub Actions only
    (clean_config / "gitlab-jwks.json").write_text(
        json.dumps({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})
    )
    (clean_config / "gcloud").mkdir()
    (clean_config / "gcloud" / "application_default_credentials.json").write_text(json.dumps(USER_ADC))


EVERYTHING = {
    "--project": PROJECT,
    "--create": None,
    "--billing-account": OPEN_ACCOUNT,
    "--label": "team=ml",
    "--display-name": "Settings table",
    "--services": "sts.googleapis.com",
    "--credentials": "impersonate",
    "--impersonator": "user:me@example.com",
    "--credentials-file": "adc.json",
    "--github-repo": "octo/app",
    "--gitlab-project": "group/app",
    "--gitlab-issuer": "https://gitlab.example.com",
    "--gitlab-jwks": "gitlab-jwks.json",
    "--env-file": ".env",
    "--github-env": None,
    "--vertex-express": None,
    "--rotate-key": None,
    "--keep-old-key": None,
    "--show-secrets": None,
    "--allow-unignored": None,
}


def taken_flags(command: str) -> list[str]:
    """EVERYTHING's flags that `command` takes."""
    takes = table_flags(command)
    args = []
    for flag, value in EVERYTHING.items():
        if flag in takes:
            args += [flag] if value is None else [flag, value]
    return args


def read_by(reads: set[str], *args: str) -> set[str]:
    reads.clear()
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return set(reads)


def test_each_setting_a_command_reads_is_one_it_takes_and_each_it_takes_is_read(user_adc, reads):
    """Run every command with every setting it takes, and record which Config fields it read."""
    read = {command: read_by(reads, command, *taken_flags(command)) for command in ("plan", "status")}
    read["apply"] = read_by(reads, "apply", *taken_flags("apply"), "--yes")
    read["export"] = read_by(reads, "export", "terraform", "--force", *taken_flags("export"))
    read["destroy"] = read_by(reads, "destroy", *taken_flags("destroy"), "--yes")
    for command, fields in read.items():
        takes = {s.name for s in taken_by(command)}
        by_rules = {name for names, _ in RULES if takes >= set(names) for name in names}
        assert fields - DEFAULT_ON_PURPOSE.get(command, set()) <= takes, f"{command} reads unflagged settings"
        unread = (
            takes - fields - by_rules - APPLIED_BY_THE_COMMAND_LINE - READ_BY_A_FLEET - READ_BY_THE_SMOKE_TEST
        )
        assert unread == set(), f"{command} takes unread"


# --- every command resolves alike ----------------------------------------------------------------------

SETTINGS_LOG = "gcp_setup.commands.options"


def resolved_by(caplog, *args: str) -> dict[str, tuple[str, str]]:
    """setting -> (value, source), as the command logged them at debug level."""
    caplog.clear()
    with caplog.at_level("DEBUG", logger=SETTINGS_LOG):
        invoke(*args)
    lines = [r.getMessage() for r in caplog.records if r.name == SETTINGS_LOG]
    return {m[1]: (m[2], m[3]) for m in (re.match(r"setting (\w+) = (.*) \((.*)\)$", line) for line in lines)}


def test_every_command_resolves_project_location_endpoint_and_env_file_as_config_does(
    provision_env, clean_config, monkeypatch, caplog
):
    """The same gcp-setup.toml, environment and flags for every command (each given the flags it
    takes): what each resolved equals what `config --format json` shows."""
    gcloud = clean_config / "gcloud" / "configurations"
    gcloud.mkdir(parents=True)
    (gcloud / "config_default").write_text("[core]\nproject = from-gcloud-1\n")
    (clean_config / "gcp-setup.toml").write_text(
        'project = "from-toml-1"\nlocation = "europe-west4"\nenv-file = "app.env"\n'
    )
    (clean_config / "app.env").write_text("GEMINI_API_KEY=not-a-key-of-the-emulator\n")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env-1")
    monkeypatch.setenv("GCP_SETUP_EMULATOR_HOST", "127.0.0.1:9")  # the flag after the command wins
    flags = {"--emulator-host": provision_env.host, "--region": "europe-west4"}
    reference = json.loads(invoke("config", "--format", "json", *flags_for("config", flags)).stdout)[
        "settings"
    ]
    assert reference["project"] == {"value": "from-env-1", "source": "env GOOGLE_CLOUD_PROJECT"}
    assert reference["env_file"] == {"value": "app.env", "source": "gcp-setup.toml env-file"}
    assert reference["emulator_host"] == {"value": provision_env.host, "source": "flag --emulator-host"}
    compared = ("project", "location", "emulator_host", "env_file")
    for command in sorted(set(COMMANDS) - {"emulator", "config"}):  # the emulator would serve until stopped
        resolved = resolved_by(caplog, *command_line(command), *flags_for(command, flags))
        takes = [name for name in compared if name in {s.name for s in taken_by(command)}]
        assert takes and {n: resolved[n] for n in takes} == {
            n: (repr(reference[n]["value"]), reference[n]["source"]) for n in takes
        }, command


def flags_for(command: str, flags: dict[str, str]) -> list[str]:
    takes = table_flags(command)
    return [part for flag, value in flags.items() if flag in takes for part in (flag, value)]


def test_verify_reports_what_gcp_setup_toml_and_the_environment_say(provision_env, clean_config, monkeypatch):
    """The bug this table fixes: verify read neither gcp-setup.toml nor GCP_SETUP_*, and had no -p."""
    (clean_config / "gcp-setup.toml").write_text('location = "europe-west4"\n')
    monkeypatch.setenv("GCP_SETUP_PROJECT", "from-env-1")
    document = json.loads(invoke("verify", "--format", "json", "--only", "credentials").stdout)
    assert (document["project"], document["location"]) == ("from-env-1", "europe-west4")
    assert document["emulator"] == provision_env.host
    flagged = json.loads(
        invoke("verify", "-p", "from-flag-1", "--format", "json", "--only", "credentials").stdout
    )
    assert (flagged["project"], flagged["location"]) == ("from-flag-1", "europe-west4")


def test_models_reads_the_key_from_the_env_file(gemini_project, tmp_path, monkeypatch):
    env_file = tmp_path / "app.env"
    env_file.write_text(f"GEMINI_API_KEY={gemini_project.api_key.key_string}\n")
    monkeypatch.delenv("GEMINI_API_KEY")
    assert invoke("models").exit_code == 2
    result = invoke("models", "--env-file", str(env_file), "--format", "json", "--filter", "flash")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["models"]


# --- global flags ----------------------------------------------------------------------------------------


def test_global_flags_may_follow_the_command_and_a_flag_wins_over_the_environment(clean_config, monkeypatch):
    from gcp_setup.google import deadline

    monkeypatch.setenv("GCP_SETUP_TIMEOUT", "-1")  # invalid, but a flag wins over it wherever it is given
    monkeypatch.setenv("GCP_SETUP_EMULATOR_HOST", "127.0.0.1:1")
    given = ("--timeout", "7", "--emulator-host", "127.0.0.1:7", "--verbosity", "info")
    try:
        for args in ((*given, "config", "--format", "json"), ("config", *given, "--format", "json")):
            result = invoke(*args, "--project", PROJECT)
            assert result.exit_code == 0, result.output
            settings = json.loads(result.stdout)["settings"]
            assert settings["timeout"] == {"value": 7.0, "source": "flag --timeout"}
            assert settings["emulator_host"] == {"value": "127.0.0.1:7", "source": "flag --emulator-host"}
            assert settings["verbosity"] == {"value": "info", "source": "flag --verbosity"}
            assert deadline.seconds() == 7.0
        after_wins = invoke("--timeout", "9", "config", "--timeout", "8", "--format", "json", "-p", PROJECT)
        assert json.loads(after_wins.stdout)["settings"]["timeout"]["value"] == 8.0
        refused = invoke("config", "--project", PROJECT)
        assert refused.exit_code == 2 and "env GCP_SETUP_TIMEOUT: '-1' is not a number" in refused.stderr
    finally:
        deadline.choose(None)


def test_verbosity_debug_after_the_command_shows_the_traceback(clean_config):
    result = invoke("apply", "--project", "Bad_Project", "--verbosity", "debug")
    assert "must start with a lowercase letter" in str(result.exception)
    quiet = invoke("apply", "--project", "Bad_Project")
    assert quiet.exit_code == 2 and quiet.exception.__class__ is SystemExit


# --- the resolver, and the layering ---------------------------------------------------------------------


def test_the_resolver_is_a_function_of_flags_environment_a_part_of_the_toml_and_gcloud():
    """What a run per [[projects]] entry of gcp-setup.toml (issue 16) will call once per entry."""
    from gcp_setup.commands.options import SettingsCommand, resolve, settings_params
    from gcp_setup.settings.config import TomlSection, build_config

    apply = SettingsCommand("apply", params=settings_params("apply"))
    environ = {"GOOGLE_CLOUD_LOCATION": "us-east1"}
    configs = [
        build_config(
            resolve(
                apply,
                {"roles": ("roles/aiplatform.user", "roles/viewer")},
                environ=environ,
                toml=TomlSection(
                    f"gcp-setup.toml projects[{n}]", {"project": project}, {"project": "project"}
                ),
                gcloud_project=("from-gcloud-1", "gcloud configuration 'default' core/project"),
            )
        )
        for n, project in enumerate(("fleet-one-1", "fleet-two-2"))
    ]
    assert [(c.project, c.sources["project"]) for c in configs] == [
        ("fleet-one-1", "gcp-setup.toml projects[0] project"),
        ("fleet-two-2", "gcp-setup.toml projects[1] project"),
    ]
    assert {(c.location, c.sources["location"], c.roles[-1], c.sources["roles"]) for c in configs} == {
        ("us-east1", "env GOOGLE_CLOUD_LOCATION", "roles/viewer", "flag --role")
    }


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("module", sorted(p.name for p in (PACKAGE / "settings").glob("*.py")))
def test_settings_and_config_import_neither_the_command_line_nor_google_clients(module):
    imported = imported_modules(PACKAGE / "settings" / module)
    assert not {
        name
        for name in imported
        if name.startswith(("gcp_setup.cli", "gcp_setup.commands", "gcp_setup.google"))
    }
    assert "click" not in imported


def test_every_setting_has_help_and_a_command():
    assert all(s.help and s.commands for s in SETTINGS)


def test_apply_help_groups_its_options_under_headings():
    text = invoke("apply", "--help").stdout
    headings = [line for line in text.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert headings == [
        "Options:",
        "Project options:",
        "Billing options:",
        "Identity and keys options:",
        "Credentials options:",
        "CI options:",
        "Output options:",
    ]
    assert text.index("--billing-account") > text.index("Billing options:") > text.index("--project-prefix")
