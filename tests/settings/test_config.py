"""Settings: precedence (flags > env > gcp-setup.toml > gcloud configuration > defaults), validation
at the edge with one-line messages, and `gcp-setup config`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.commands.options import load_config
from gcp_setup.errors import UsageError
from gcp_setup.settings.checks import project_id_problem
from gcp_setup.settings.config import read_toml


def write_gcloud_project(config_dir: Path, project: str, name: str = "default") -> None:
    (config_dir / "configurations").mkdir(parents=True, exist_ok=True)
    (config_dir / "active_config").write_text(name)
    (config_dir / "configurations" / f"config_{name}").write_text(f"[core]\nproject = {project}\n")


@pytest.fixture
def sources(clean_config: Path, monkeypatch: pytest.MonkeyPatch):
    """Each source holding a different project ID, to be peeled off one by one."""
    write_gcloud_project(clean_config / "gcloud", "from-gcloud-cfg")
    (clean_config / "gcp-setup.toml").write_text('project = "from-toml-file"\nlocation = "europe-west4"\n')
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env-var")
    return monkeypatch


def test_flag_wins_over_env_toml_and_gcloud(sources):
    config = load_config({"project": "from-flag-1"})
    assert config.project == "from-flag-1"
    assert config.sources["project"] == "flag --project"


def test_env_wins_over_toml_and_gcloud(sources):
    config = load_config({})
    assert (config.project, config.sources["project"]) == ("from-env-var", "env GOOGLE_CLOUD_PROJECT")
    assert (config.location, config.sources["location"]) == ("europe-west4", "gcp-setup.toml location")


def test_google_cloud_project_wins_over_cloudsdk_core_project(sources):
    sources.setenv("CLOUDSDK_CORE_PROJECT", "from-cloudsdk-var")
    assert load_config({}).project == "from-env-var"
    sources.delenv("GOOGLE_CLOUD_PROJECT")
    assert load_config({}).project == "from-cloudsdk-var"


def test_toml_wins_over_gcloud(sources):
    sources.delenv("GOOGLE_CLOUD_PROJECT")
    assert load_config({}).project == "from-toml-file"


def test_gcloud_active_configuration_is_last(sources, clean_config: Path):
    sources.delenv("GOOGLE_CLOUD_PROJECT")
    (clean_config / "gcp-setup.toml").unlink()
    config = load_config({})
    assert config.project == "from-gcloud-cfg"
    assert config.sources["project"] == "gcloud configuration 'default' core/project"
    write_gcloud_project(clean_config / "gcloud", "other-gcloud-cfg", name="work")
    assert load_config({}).project == "other-gcloud-cfg"


def test_defaults_and_extras(clean_config):
    config = load_config(
        {"project": "my-project-1", "services": ("storage.googleapis.com,iam.googleapis.com",)}
    )
    assert config.services == (*defaults.SERVICES, "storage.googleapis.com")
    assert config.roles == defaults.ROLES
    assert config.service_account == defaults.SERVICE_ACCOUNT_ID
    assert config.location == "global"
    assert config.api_key is True


def test_env_values_are_parsed(clean_config, monkeypatch):
    monkeypatch.setenv("GCP_SETUP_API_KEY", "false")
    monkeypatch.setenv("GCP_SETUP_ROLES", "roles/aiplatform.user,roles/viewer")
    monkeypatch.setenv("GCP_SETUP_BILLING_ACCOUNT", "billingAccounts/000000-aaaaaa-000001")
    config = load_config({"project": "my-project-1"})
    assert config.api_key is False
    assert config.roles == ("roles/aiplatform.user", "roles/viewer")
    assert config.billing_account == "000000-AAAAAA-000001"


def test_no_service_account_from_flag_env_or_toml(clean_config, monkeypatch):
    no_key = {"project": "my-project-1", "api_key": False}
    assert load_config({**no_key, "service_account": False}).service_account is None
    (clean_config / "gcp-setup.toml").write_text("service_account = false\n")
    assert load_config(no_key).service_account is None
    monkeypatch.setenv("GCP_SETUP_SERVICE_ACCOUNT", "none")
    assert load_config(no_key).service_account is None


def test_an_auth_key_needs_the_service_account(clean_config):
    """The default key is bound to the service account: without one, say so before any request."""
    with pytest.raises(UsageError, match=r"an auth API key .* is bound to the service account"):
        load_config({"project": "my-project-1", "service_account": False})
    standard = load_config({"project": "my-project-1", "service_account": False, "api_key_type": "standard"})
    assert standard.service_account is None and not standard.binds_keys
    with pytest.raises(UsageError, match="--vertex-express is bound to the service account"):
        load_config({**{"project": "my-project-1", "service_account": False}, "vertex_express": True})


def test_api_key_settings(clean_config, monkeypatch):
    assert load_config({"project": "my-project-1"}).api_key_type == "auth"
    monkeypatch.setenv("GCP_SETUP_API_KEY_TYPE", "standard")
    assert load_config({"project": "my-project-1"}).api_key_type == "standard"
    monkeypatch.setenv("GCP_SETUP_API_KEY_TYPE", "legacy")
    with pytest.raises(UsageError, match="API key type 'legacy' is unknown; use one of auth, standard"):
        load_config({"project": "my-project-1"})
    express = load_config({"project": "my-project-1", "api_key_type": "auth", "vertex_express": True})
    assert express.roles == ("roles/aiplatform.expressUser",)  # the default role is the express one


@pytest.mark.parametrize(
    ("project", "problem"),
    [
        ("short", "is 5 characters long; it must have 6 to 30"),
        ("a" * 31, "is 31 characters long; it must have 6 to 30"),
        ("1project", "must start with a lowercase letter"),
        ("My-project", "must start with a lowercase letter"),
        ("my_project", "contains '_'; only lowercase letters, digits and hyphens are allowed"),
        ("my-project-", "must not end with a hyphen"),
        ("my-google-app", "must not contain the reserved word 'google'"),
        ("ssl-tester", "must not contain the reserved word 'ssl'"),
        ("my-project-1", None),
    ],
)
def test_project_id_rules(project, problem):
    assert project_id_problem(project) == problem


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({}, "no project selected"),
        ({"project": "my-project-1", "labels": ("team",)}, "is not KEY=VALUE"),
        ({"project": "my-project-1", "labels": ("Team=x",)}, "label key 'Team'"),
        ({"project": "my-project-1", "organization": "acme"}, "is not numeric"),
        ({"project": "my-project-1", "billing_account": "abc"}, "is not like 012345-6789AB-CDEF01"),
        ({"project": "my-project-1", "credentials": "key-file"}, "--allow-key-file"),
        ({"project": "my-project-1", "roles": ("aiplatform.user",)}, "is not a role name"),
        ({"project": "my-project-1", "service_account": "SA"}, "service account ID 'SA'"),
    ],
)
def test_bad_settings_are_usage_errors(clean_config, flags, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        load_config(flags)


def test_unknown_toml_key_is_named(clean_config):
    (clean_config / "gcp-setup.toml").write_text('projekt = "x"\n')
    with pytest.raises(UsageError, match="unknown setting\\(s\\) projekt"):
        read_toml(None)


def test_config_command_shows_values_and_sources(clean_config, monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project-1")
    result = CliRunner().invoke(cli, ["config", "--region", "us-central1", "--format", "json"])
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert settings["project"] == {"value": "env-project-1", "source": "env GOOGLE_CLOUD_PROJECT"}
    assert settings["location"] == {"value": "us-central1", "source": "flag --location"}
    assert settings["services"]["value"] == list(defaults.SERVICES)


def test_config_command_exits_2_on_an_invalid_project(clean_config):
    result = CliRunner().invoke(cli, ["config", "--project", "Bad_Project"])
    assert result.exit_code == 2
    assert "Error: project ID 'Bad_Project' must start with a lowercase letter" in result.stderr
    assert "flag --project" in result.stdout


def test_the_placeholder_billing_account_the_docs_and_help_show_is_one_the_check_accepts() -> None:
    from gcp_setup.settings.checks import check_billing_account
    from gcp_setup.settings.table import BY_NAME

    placeholder = "012345-6789AB-CDEF01"
    assert placeholder in BY_NAME["billing_account"].help
    assert check_billing_account(placeholder) == placeholder
