"""Bad inputs, at least one for every setting and global option: each is refused with exactly one
`Error:` line naming the problem (click's usage lines aside), no traceback, a non-zero exit, and not one
write: everything here can be checked before the first write, locally or by the plan's reads."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability_kit import MARKS, secret_values, secrets_in, tally

from gcp_setup.cli import cli

PROJECT = "bad-input-1"
APPLY = ("apply", "--project", PROJECT, "--create", "--yes")
CLOSED = "000000-BBBBBB-000002"
KEY_FILE = ("--credentials", "key-file", "--allow-key-file")

pytestmark = MARKS


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    says: str
    """Part of the one Error: line."""
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[Path], None] | None = None


def in_git(home: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(home)], check=True)


def world_writable(home: Path) -> None:
    (home / "shared").mkdir()
    (home / "shared").chmod(0o777)


def a_file(home: Path) -> None:
    (home / "notes.txt").write_text("a file, not a directory")


def a_directory(home: Path) -> None:
    (home / "envdir").mkdir()


def bad_toml(home: Path) -> None:
    (home / "gcp-setup.toml").write_text("project = [unclosed\n")


def unknown_toml(home: Path) -> None:
    (home / "gcp-setup.toml").write_text('projekt = "x"\n')


CASES = [
    # project
    Case("project too short", ("apply", "--project", "ab", "--yes"), "is 2 characters long"),
    Case("project too long", ("apply", "--project", "a" * 31, "--yes"), "is 31 characters long"),
    Case("project underscore", ("apply", "--project", "my_project", "--yes"), "contains '_'"),
    Case("project uppercase", ("apply", "--project", "My-project", "--yes"), "lowercase letter"),
    Case("project digit first", ("apply", "--project", "1project", "--yes"), "lowercase letter"),
    Case("project hyphen last", ("apply", "--project", "project-", "--yes"), "end with a hyphen"),
    Case("project reserved", ("apply", "--project", "google-fan-1", "--yes"), "reserved word 'google'"),
    Case("project missing", ("apply", "--yes"), "no project selected"),
    Case("project env", ("apply", "--yes"), "contains '_'", {"GOOGLE_CLOUD_PROJECT": "a_b_c_d"}),
    Case("project not found", ("apply", "--project", "no-such-project-9", "--yes"), "does not exist"),
    # create
    Case(
        "create env",
        ("apply", "--project", PROJECT, "--yes"),
        "GCP_SETUP_CREATE",
        {"GCP_SETUP_CREATE": "maybe"},
    ),
    # organization, folder
    Case("organization", (*APPLY, "--organization", "acme"), "is not numeric"),
    Case("folder", (*APPLY, "--folder", "folders/x1"), "is not numeric"),
    # display name
    Case("display name short", (*APPLY, "--display-name", "ab"), "display name 'ab'"),
    Case("display name chars", (*APPLY, "--display-name", "my_project"), "display name 'my_project'"),
    # labels
    Case("label no equals", (*APPLY, "--label", "team"), "is not KEY=VALUE"),
    Case("label key uppercase", (*APPLY, "--label", "Team=ml"), "label key 'Team'"),
    Case("label key digit", (*APPLY, "--label", "1team=ml"), "label key '1team'"),
    Case("label key long", (*APPLY, "--label", "k" * 64 + "=v"), "at most 63"),
    Case("label value upper", (*APPLY, "--label", "team=ML"), "label value 'ML'"),
    Case("label value long", (*APPLY, "--label", "team=" + "v" * 64), "is 64 characters long"),
    # billing account
    Case("billing shape", (*APPLY, "--billing-account", "123"), "is not like 012345-6789AB-CDEF01"),
    Case("billing unknown", (*APPLY, "--billing-account", "000000-000000-000000"), "does not exist"),
    Case("billing closed", (*APPLY, "--billing-account", CLOSED), f"billing account {CLOSED} is closed"),
    # location
    Case("location empty", (*APPLY, "--location", ""), "location is empty"),
    Case("location space", (*APPLY, "--location", "us central1"), "is not a location name"),
    # services
    Case("service no dot", (*APPLY, "--services", "storage"), "is not a service name"),
    Case("service unknown", (*APPLY, "--services", "stroage.googleapis.com"), "knows no service"),
    Case(
        "services env",
        ("apply", "--project", PROJECT, "--create", "--yes"),
        "is not a service name",
        {"GCP_SETUP_SERVICES": "storage,bigquery"},
    ),
    # service account
    Case("account short", (*APPLY, "--service-account", "sa"), "service account ID 'sa'"),
    Case("account underscore", (*APPLY, "--service-account", "gemini_client"), "service account ID"),
    Case("account uppercase", (*APPLY, "--service-account", "Gemini-client"), "service account ID"),
    # roles
    Case("role shape", (*APPLY, "--role", "aiplatform.user"), "is not a role name"),
    Case("role unknown", (*APPLY, "--role", "roles/aiplatform.usr"), "knows no role"),
    Case("role custom unknown", (*APPLY, "--role", f"projects/{PROJECT}/roles/mine"), "knows no role"),
    # api key, its type, rotation, the old key, the express key
    Case("api key env", (*APPLY,), "GCP_SETUP_API_KEY", {"GCP_SETUP_API_KEY": "perhaps"}),
    Case("openai env", (*APPLY,), "is not a boolean", {"GCP_SETUP_OPENAI_ENV": "perhaps"}),
    Case("api key type", (*APPLY, "--api-key-type", "legacy"), "'legacy' is not one of"),
    Case("api key type env", APPLY, "API key type 'x' is unknown", {"GCP_SETUP_API_KEY_TYPE": "x"}),
    # export terraform's form of the imports
    Case(
        "import style",
        ("export", "terraform", "--project", PROJECT, "--import-style", "hcl"),
        "'hcl' is not one of",
    ),
    Case(
        "import style env",
        ("export", "terraform", "--project", PROJECT),
        "import style 'hcl' is unknown",
        {"GCP_SETUP_IMPORT_STYLE": "hcl"},
    ),
    Case(
        "auth key without account",
        (*APPLY, "--no-service-account"),
        "an auth API key (the default) is bound to the service account",
    ),
    Case("rotate key env", (*APPLY,), "GCP_SETUP_ROTATE_KEY", {"GCP_SETUP_ROTATE_KEY": "perhaps"}),
    Case("keep old key env", (*APPLY,), "GCP_SETUP_KEEP_OLD_KEY", {"GCP_SETUP_KEEP_OLD_KEY": "perhaps"}),
    Case(
        "express without account",
        (*APPLY, "--vertex-express", "--no-service-account", "--no-api-key"),
        "--vertex-express is bound to the service account",
    ),
    # credentials
    Case("credentials mode", (*APPLY, "--credentials", "magic"), "'magic' is not one of"),
    Case("credentials env", (*APPLY,), "credentials mode 'magic'", {"GCP_SETUP_CREDENTIALS": "magic"}),
    Case("key file unconfirmed", (*APPLY, "--credentials", "key-file"), "add --allow-key-file"),
    Case(
        "key file no account",
        (*APPLY, *KEY_FILE, "--no-service-account", "--no-api-key"),
        "needs the service account",
    ),
    Case(
        "impersonate without ADC",
        ("plan", "--project", PROJECT, "--credentials", "impersonate"),
        "no Application Default Credentials found",
        {"GOOGLE_APPLICATION_CREDENTIALS": ""},
    ),
    Case("billing project invalid", (*APPLY, "--billing-project", "Bad_Project"), "project ID 'Bad_Project'"),
    Case(
        "propagation wait not a number",
        ("verify", "--propagation-wait", "soon"),
        "is not a number of seconds",
    ),
    # allow key file
    Case(
        "allow key file env", (*APPLY,), "GCP_SETUP_ALLOW_KEY_FILE", {"GCP_SETUP_ALLOW_KEY_FILE": "perhaps"}
    ),
    # env file
    Case("env file empty", (*APPLY, "--env-file", ""), "--env-file is empty"),
    Case("env file missing dir", (*APPLY, "--env-file", "nowhere/.env"), "does not exist; create it first"),
    Case(
        "env file under a file",
        (*APPLY, "--env-file", "notes.txt/.env"),
        "is a file, not a directory",
        prepare=a_file,
    ),
    Case("env file is a directory", (*APPLY, "--env-file", "envdir"), "is a directory", prepare=a_directory),
    Case(
        "env file world-writable",
        (*APPLY, "--env-file", "shared/.env"),
        "writable by every user",
        prepare=world_writable,
    ),
    Case("env file in git", (*APPLY, "--env-file", ".env"), "git does not ignore it", prepare=in_git),
    # github env
    Case("github env env", (*APPLY,), "GCP_SETUP_GITHUB_ENV", {"GCP_SETUP_GITHUB_ENV": "perhaps"}),
    Case("github env outside actions", (*APPLY, "--github-env"), "works only inside GitHub Actions"),
    # credentials file
    Case(
        "credentials file empty", (*APPLY, *KEY_FILE, "--credentials-file", ""), "--credentials-file is empty"
    ),
    Case(
        "credentials file missing dir",
        (*APPLY, *KEY_FILE, "--credentials-file", "nowhere/k.json"),
        "does not exist; create it first",
    ),
    Case(
        "credentials file under a file",
        (*APPLY, *KEY_FILE, "--credentials-file", "notes.txt/k.json"),
        "is a file, not a directory",
        prepare=a_file,
    ),
    Case(
        "credentials file in git",
        (*APPLY, *KEY_FILE, "--credentials-file", "k.json"),
        "git does not ignore it",
        prepare=in_git,
    ),
    # impersonator
    Case("impersonator", (*APPLY, "--impersonator", "not an account"), "is not an account"),
    # github repo
    Case("github repo shape", (*APPLY, "--github-repo", "octo"), "is not OWNER/REPO"),
    Case("github repo dots", (*APPLY, "--github-repo", "octo/.."), "is not OWNER/REPO"),
    Case(
        "github repo no account",
        (*APPLY, "--github-repo", "octo/app", "--no-service-account", "--no-api-key"),
        "needs the service account",
    ),
    # gitlab project, issuer, keys
    Case("gitlab project shape", (*APPLY, "--gitlab-project", "app"), "is not GROUP/PROJECT"),
    Case(
        "gitlab issuer http",
        (*APPLY, "--gitlab-project", "g/app", "--gitlab-issuer", "http://gitlab.local"),
        "is not an https URL",
    ),
    Case(
        "gitlab jwks not json",
        (*APPLY, "--gitlab-project", "g/app", "--gitlab-jwks", "notes.txt"),
        "not a readable JSON key set",
        prepare=a_file,
    ),
    # show secrets, allow unignored, verify
    Case("show secrets env", (*APPLY,), "GCP_SETUP_SHOW_SECRETS", {"GCP_SETUP_SHOW_SECRETS": "perhaps"}),
    Case("allow unignored env", (*APPLY,), "GCP_SETUP_ALLOW_UNIGNORED", {"GCP_SETUP_ALLOW_UNIGNORED": "x"}),
    Case(
        "verify env",
        (*APPLY,),
        "env GCP_SETUP_VERIFY: 'perhaps' is not a boolean",
        {"GCP_SETUP_VERIFY": "perhaps"},
    ),
    # ephemeral projects and fleets
    Case("ttl", (*APPLY, "--ttl", "soon"), "'soon' is not a duration"),
    Case(
        "ttl without create", ("apply", "--project", PROJECT, "--ttl", "2h", "--yes"), "--ttl marks a project"
    ),
    Case("project prefix", ("apply", "--project-prefix", "Ci-", "--yes"), "project prefix 'Ci-'"),
    Case("parallelism", (*APPLY, "--parallelism", "0"), "'0' is not a parallelism"),
    Case("only without a fleet file", (*APPLY, "--only", PROJECT), "--only picks projects of a fleet file"),
    # global options and files
    Case("emulator host", ("--emulator-host", "localhost", *APPLY), "is not HOST:PORT"),
    Case("emulator host env", APPLY, "is not HOST:PORT", {"GCP_SETUP_EMULATOR_HOST": "http://x:y"}),
    Case("timeout", ("--timeout", "soon", *APPLY), "--timeout: 'soon' is not a number of seconds"),
    Case("timeout env", APPLY, "env GCP_SETUP_TIMEOUT", {"GCP_SETUP_TIMEOUT": "-1"}),
    Case("verbosity", ("--verbosity", "loud", *APPLY), "'loud' is not one of"),
    Case("format", (*APPLY, "--format", "human"), "'human' is not one of"),
    Case("config missing", (*APPLY, "--config", "missing.toml"), "does not exist"),
    Case("config invalid", APPLY, "is not valid TOML", prepare=bad_toml),
    Case("config unknown key", APPLY, "unknown setting(s) projekt", prepare=unknown_toml),
    Case(
        "detailed exit code env",
        ("plan", "--project", PROJECT),
        "is not a boolean",
        {"GCP_SETUP_DETAILED_EXITCODE": "maybe"},
    ),
    Case("allow skipped env", ("verify",), "is not a boolean", {"GCP_SETUP_ALLOW_SKIPPED": "maybe"}),
    Case("junit empty", ("verify", "--junit", ""), "--junit is empty"),
    Case(
        "destroy someone else's",
        ("destroy", "--project", "someone-elses-project", "--delete-project", "--yes"),
        "cannot see project",
    ),
]


@pytest.fixture
def home(provision_env, clean_config, monkeypatch):
    monkeypatch.setenv("HOME", str(clean_config))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    return clean_config


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_input_is_one_line_and_no_write(provision_env, world, home, monkeypatch, case):
    if case.name.endswith("in git") and os.system("git --version >/dev/null 2>&1") != 0:
        pytest.skip("git is not installed")
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    if case.prepare:
        case.prepare(home)
    result = CliRunner().invoke(cli, list(case.args))
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if line.startswith("Error: ") or " ! " in line]
    one_line = len(errors) == 1 and case.says in errors[0] and "Traceback" not in output
    writes = len(provision_env.writes())
    secrets = secret_values(provision_env.state(), world)
    found = secrets_in([result.stdout, result.stderr], secrets)
    tally.add("bad_inputs", tried=1, one_line=int(one_line and result.exit_code != 0), writes=writes)
    tally.add("secrets", streams=2, secrets_known=len(secrets), found=found)
    assert result.exit_code != 0, output
    assert one_line, output
    assert writes == 0
    assert found == 0


def test_there_are_at_least_sixty_and_one_for_every_setting():
    from gcp_setup.settings.table import SETTING_NAMES

    assert len(CASES) >= 60
    flags = " ".join(" ".join(c.args) + " " + " ".join(c.env) for c in CASES).lower().replace("-", "_")
    missing = [name for name in SETTING_NAMES if name.rstrip("s") not in flags]  # --label, --role
    assert missing == []
