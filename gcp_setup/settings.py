"""The settings, each declared once: name, type, default, environment variables, flags, help, how its
text is parsed, its check, and the commands that take it.

The frozen `Config` (gcp_setup/config.py) and every command's click options (gcp_setup/commands/
options.py) are made from this table. Precedence, first wins: a flag, the environment (the variables
in `env`, then GCP_SETUP_<NAME>), gcp-setup.toml (or --config FILE), the active gcloud configuration's
core/project, the default. A parser turns text (or a TOML value) into the value; a check then refuses
what Google would, or normalises, with a one-line message naming the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcp_setup import defaults, envvars
from gcp_setup.errors import UsageError
from gcp_setup.fleet_settings import (
    GENERATED_SUFFIX,
    PARALLELISM,
    as_duration,
    as_parallelism,
    check_project_prefix,
)
from gcp_setup.settings_ci import (
    check_github_env,
    check_github_repo,
    check_gitlab_issuer,
    check_gitlab_jwks,
    check_gitlab_project,
)
from gcp_setup.settings_parsers import (
    VERBOSITIES,
    as_account,
    as_bool,
    as_labels,
    as_list,
    as_seconds,
    as_text,
    as_verbosity,
    as_wait,
    merged_services,
)

ENV_PREFIX = "GCP_SETUP_"
CREDENTIAL_MODES = ("user", "impersonate", "key-file", "none")
IMPORT_STYLES = ("blocks", "script")
"""export terraform: `import {}` blocks (Terraform >= 1.5), or a script of `terraform import` commands."""

# Google's documented rules: https://cloud.google.com/resource-manager/docs/creating-managing-projects
RESERVED_PROJECT_WORDS = ("google", "null", "undefined", "ssl")
_SERVICE_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_ROLE = re.compile(r"^(roles/[A-Za-z0-9_.]+|(projects|organizations)/[a-z0-9-]+/roles/[A-Za-z0-9_.]+)$")
_DISPLAY_NAME = re.compile(r"^[A-Za-z0-9'\" !-]{4,30}$")
_LOCATION = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_MEMBER = re.compile(r"^(?:(?:user|serviceAccount|group):)?[^@\s:]+@[^@\s]+\.[^@\s]+$")
_HOST_PORT = re.compile(r"^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$")


# --- checks: the parsed value -> the value Config holds, or a UsageError naming the fix ---------------


def project_id_problem(project: str) -> str | None:
    """What is wrong with a project ID, or None when it is valid."""
    if not 6 <= len(project) <= 30:
        return f"is {len(project)} characters long; it must have 6 to 30"
    if not project[0].isascii() or not project[0].islower() or not project[0].isalpha():
        return "must start with a lowercase letter"
    bad = sorted({c for c in project if not (c.isascii() and (c.islower() or c.isdigit() or c == "-"))})
    if bad:
        return f"contains {''.join(bad)!r}; only lowercase letters, digits and hyphens are allowed"
    if project.endswith("-"):
        return "must not end with a hyphen"
    for word in RESERVED_PROJECT_WORDS:
        if word in project:
            return f"must not contain the reserved word {word!r}"
    return None


def check_project(project: str | None) -> str | None:
    problem = project_id_problem(project) if project is not None else None
    if problem:
        raise UsageError(f"project ID {project!r} {problem}")
    return project


def _parent(kind: str) -> Callable[[str | None], str | None]:
    def normalised(value: str | None) -> str | None:
        if value is None:
            return None
        number = value.removeprefix(f"{kind}/")
        if not number.isdigit():
            raise UsageError(f"{kind[:-1]} {value!r} is not numeric; use e.g. --{kind[:-1]} 123456789012")
        return f"{kind}/{number}"

    return normalised


def check_billing_account(value: str | None) -> str | None:
    if value is None:
        return None
    account = value.removeprefix("billingAccounts/").upper()
    if not _BILLING_ACCOUNT.match(account):
        raise UsageError(
            f"billing account {value!r} is not like 012345-6789AB-CDEF01; "
            "list yours with `gcloud billing accounts list`"
        )
    return account


def check_labels(labels: Mapping[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        if len(key) > 63:
            raise UsageError(
                f"label key {key[:20]}... is {len(key)} characters long; Google allows at most 63"
            )
        if not _LABEL_KEY.match(key):
            raise UsageError(
                f"label key {key!r} must be lowercase letters, digits, _ or -, starting with a letter"
            )
        if len(value) > 63:
            raise UsageError(
                f"label value of {key} is {len(value)} characters long; Google allows at most 63"
            )
        if not _LABEL_VALUE.match(value):
            raise UsageError(f"label value {value!r} (of {key}) must be lowercase letters, digits, _ or -")
    return dict(labels)


def _matching(pattern: re.Pattern[str], message: str) -> Callable[[str | None], str | None]:
    """A check that a value, when given, matches `pattern`; `message` is formatted with it."""

    def check(value: str | None) -> str | None:
        if value is not None and not pattern.match(value):
            raise UsageError(message.format(value=value))
        return value

    return check


def check_location(location: str | None) -> str:
    if not location:
        raise UsageError("location is empty; use e.g. --location global or --location us-central1")
    if not _LOCATION.match(location):
        raise UsageError(f"location {location!r} is not a location name; use e.g. global or us-central1")
    return location


def check_services(services: tuple[str, ...]) -> tuple[str, ...]:
    for name in services:
        if "." not in name:
            raise UsageError(
                f"service {name!r} is not a service name; use e.g. --services storage.googleapis.com"
            )
    return services


def check_roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    for role in roles:
        if not _ROLE.match(role):
            raise UsageError(f"role {role!r} is not a role name; use e.g. --role roles/aiplatform.user")
    return roles


def _one_of(what: str, choices: tuple[str, ...], flag: str) -> Callable[[str | None], str]:
    """A check that a value is one of `choices`; none given is the first, the default."""

    def check(value: str | None) -> str:
        value = value or choices[0]
        if value not in choices:
            raise UsageError(f"{what} {value!r} is unknown; use one of {', '.join(choices)} ({flag})")
        return value

    return check


check_key_type = _one_of("API key type", defaults.API_KEY_TYPES, "--api-key-type")
check_credentials = _one_of("credentials mode", CREDENTIAL_MODES, "--credentials")
check_import_style = _one_of("import style", IMPORT_STYLES, "--import-style")


def as_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def check_emulator_host(value: str | None) -> str | None:
    if not value:
        return None
    host = value.removeprefix("http://").rstrip("/")
    if not _HOST_PORT.match(host):
        raise UsageError(
            f"emulator host {host!r} is not HOST:PORT; use e.g. --emulator-host 127.0.0.1:8085 "
            f"or export {envvars.EMULATOR_HOST}=127.0.0.1:8085"
        )
    return host


# --- the table ---------------------------------------------------------------------------------------

PROVISION = frozenset({"plan", "status", "apply", "config"})
"""The commands that run the provisioning steps, and `config`, which shows what `apply` would use."""
APPLY = frozenset({"apply", "config"})
EXPORT = PROVISION | {"export"}
GOOGLE = PROVISION | {"destroy", "export", "verify", "models", "reap"}
"""The commands that call Google (or the emulator)."""
REAP = EXPORT | {"reap"}
FLEET = frozenset({"plan", "status", "apply", "destroy"})  # they run each [[projects]] of a fleet file
FLEET_RUNS = FLEET | {"verify"}
"""verify runs each entry too; its own --only picks checks as well as projects (commands/verify.py)."""


@dataclass(frozen=True)
class Setting:
    name: str
    type: Any
    """The type of the value Config holds."""
    help: str
    commands: frozenset[str]
    default: Any = None
    parse: Callable[[Any], Any] = as_text
    check: Callable[[Any], Any] | None = None
    kind: str = "value"
    """value: --flag VALUE; list: repeatable; switch: --flag/--no-flag; flag: --flag alone."""
    flags: tuple[str, ...] = ()
    """The flag and its aliases; default --<name-with-hyphens>."""
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    """Offered by the flag (click checks a flag's value; a check checks the other sources')."""
    path: bool = False
    env: tuple[str, ...] = ()
    """Environment variables read before GCP_SETUP_<NAME>."""
    off_flag: str | None = None
    """A flag that sets the setting to None (--no-service-account)."""
    in_file: bool = True
    """May be set in gcp-setup.toml."""
    in_config: bool = True
    """A field of Config; else a process-wide setting the command line applies (verbosity, timeout)."""
    anywhere: bool = False
    """A global flag: accepted before the command as well as after it."""

    @property
    def env_vars(self) -> tuple[str, ...]:
        return (*self.env, ENV_PREFIX + self.name.upper())

    @property
    def flag_names(self) -> tuple[str, ...]:
        return self.flags or ("--" + self.name.replace("_", "-"),)

    def checked(self, value: Any) -> Any:
        return self.check(value) if self.check else value


SETTINGS: tuple[Setting, ...] = (
    Setting("project", str, "Project ID.", GOOGLE - {"models", "reap"}, check=check_project,
            flags=("--project", "-p"), metavar="ID", env=(envvars.PROJECT, envvars.CLOUDSDK_PROJECT)),
    Setting("create", bool, "Create the project if it does not exist.", EXPORT,
            default=False, parse=as_bool, kind="switch"),
    Setting("organization", str | None, "Parent organization of a created project (or reaped ones).", REAP,
            check=_parent("organizations"), metavar="ORG_ID"),
    Setting("folder", str | None, "Parent folder of a created project (wins over --organization).", REAP,
            check=_parent("folders"), metavar="FOLDER_ID"),
    Setting("display_name", str | None, "Display name of a created project.", EXPORT, metavar="NAME",
            check=_matching(_DISPLAY_NAME, "display name {value!r} must be 4 to 30 letters, digits, "
                            "spaces, quotes, hyphens or exclamation points")),
    Setting("labels", Mapping[str, str], "Label of a created project, repeatable.", EXPORT,
            default={}, parse=as_labels, check=check_labels, kind="list", flags=("--label",),
            metavar="KEY=VALUE"),
    Setting("billing_account", str | None, "Link this billing account (012345-6789AB-CDEF01).", EXPORT,
            check=check_billing_account, metavar="ID"),
    Setting("billing_project", str | None, "The project that API Keys and Org Policy bill with your user "
            "credentials, as gcloud's --billing-project (default: the project itself).", GOOGLE,
            check=check_project, metavar="ID", env=(envvars.QUOTA_PROJECT, envvars.CLOUDSDK_QUOTA_PROJECT)),
    Setting("location", str, "Agent Platform (Vertex AI) location.", EXPORT | {"verify"},
            default=defaults.LOCATION, check=check_location, flags=("--location", "--region"),
            metavar="LOCATION", env=(envvars.LOCATION,)),
    Setting("services", tuple[str, ...], "Enable these APIs too (besides gcp-setup's own).", EXPORT,
            default=defaults.SERVICES, parse=merged_services, check=check_services, kind="list",
            metavar="API[,API]"),
    Setting("service_account", str | None, "Service account ID.", EXPORT | {"destroy"},
            default=defaults.SERVICE_ACCOUNT_ID, parse=as_account, metavar="ID",
            off_flag="--no-service-account",
            check=_matching(_SERVICE_ACCOUNT_ID, "service account ID {value!r} must be 6-30 lowercase "
                            "letters, digits or hyphens, starting with a letter")),
    Setting("roles", tuple[str, ...], "Role for the service account, repeatable.", EXPORT | {"destroy"},
            default=defaults.ROLES, parse=as_list, check=check_roles, kind="list", flags=("--role",),
            metavar="ROLE"),
    Setting("api_key", bool, "Create a restricted Gemini API key.", EXPORT,
            default=True, parse=as_bool, kind="switch"),
    Setting("api_key_type", str, "auth: bound to the service account; standard: rejected by the Gemini API.",
            EXPORT, default=defaults.API_KEY_TYPE, check=check_key_type, choices=defaults.API_KEY_TYPES),
    Setting("rotate_key", bool, "Replace the API key(s) with new ones.", PROVISION,
            default=False, parse=as_bool, kind="flag"),
    Setting("keep_old_key", bool, "Keep a replaced key (not deleted this run).", PROVISION,
            default=False, parse=as_bool, kind="flag"),
    Setting("vertex_express", bool, "Also an auth key for Agent Platform (Vertex AI) express mode (the "
            f"account gets {defaults.EXPRESS_ROLE}).", EXPORT | {"destroy"}, default=False, parse=as_bool,
            kind="flag"),
    Setting("credentials", str, "How local code authenticates.", PROVISION,
            default="user", check=check_credentials, choices=CREDENTIAL_MODES),
    Setting("allow_key_file", bool, "Permit --credentials key-file.", PROVISION,
            default=False, parse=as_bool, kind="flag"),
    Setting("env_file", Path | None, "The .env: apply writes the settings there; verify and models read it "
            "(its variables win over the environment).", PROVISION | {"destroy", "verify", "models"},
            check=as_path, path=True, metavar="FILE"),
    Setting("openai_env", bool, "Also write OPENAI_API_KEY and OPENAI_BASE_URL (the Gemini key and its "
            "OpenAI-compatible endpoint) to the .env, for plain OpenAI().", PROVISION, default=True,
            parse=as_bool, kind="switch"),
    Setting("github_env", bool, "Append the settings to $GITHUB_ENV (secrets masked); GitHub Actions only.",
            PROVISION, default=False, parse=as_bool, check=check_github_env, kind="flag"),
    Setting("credentials_file", Path | None, "Where the impersonation/key-file credentials JSON goes "
            "(mode 0600).", PROVISION | {"destroy"}, check=as_path, path=True, metavar="FILE"),
    Setting("impersonator", str | None, "Who may impersonate the service account (default: gcloud's "
            "account), e.g. user:me@example.com.", PROVISION, metavar="MEMBER",
            check=_matching(_MEMBER, "impersonator {value!r} is not an account; "
                            "use e.g. user:you@example.com")),
    Setting("github_repo", str | None, "Let this repository's GitHub Actions act as the service account "
            "(keyless, via WIF).", EXPORT | {"destroy"}, check=check_github_repo, metavar="OWNER/REPO"),
    Setting("import_style", str, "export terraform: import {} blocks in imports.tf (Terraform >= 1.5), or "
            "a script of terraform import commands (import.sh).", frozenset({"export"}),
            default=IMPORT_STYLES[0], check=check_import_style, choices=IMPORT_STYLES),
    Setting("gitlab_project", str | None, "Let this GitLab project's CI jobs act as the service account "
            "(keyless, via WIF).", EXPORT | {"destroy"}, check=check_gitlab_project, metavar="GROUP/PROJECT"),
    Setting("gitlab_issuer", str, "The GitLab instance that issues the CI jobs' ID tokens (self-managed).",
            EXPORT, default=defaults.GITLAB_OIDC_ISSUER, check=check_gitlab_issuer, metavar="URL"),
    Setting("gitlab_jwks", Path | None, "Its signing keys (its /oauth/discovery/keys JSON), for a GitLab "
            "Google cannot reach.", EXPORT, check=check_gitlab_jwks, path=True, metavar="FILE"),
    Setting("show_secrets", bool, "Print the API key string.", PROVISION,
            default=False, parse=as_bool, kind="flag"),
    Setting("allow_unignored", bool, "Write the .env or key file in a git work tree even where git does "
            "not ignore it.", APPLY, default=False, parse=as_bool, kind="flag"),
    Setting("verify", bool, "End with verify's smoke test of what was set up.", APPLY,
            default=True, parse=as_bool, kind="switch"),
    Setting("propagation_wait", float, "Seconds the smoke test waits for what was just enabled, granted or "
            "created to take effect at Google (APIs, roles, keys, identity pools) before calling it failed.",
            APPLY | {"verify"}, default=90.0, parse=as_wait, metavar="SECONDS"),
    Setting("ttl", float | None, "Mark a created project to expire after this long (2h, 30m, 7d), for "
            "`gcp-setup reap`.", APPLY, parse=as_duration, metavar="DURATION"),
    Setting("project_prefix", str | None, "Create a project with a new ID made of this prefix and "
            f"{GENERATED_SUFFIX} random characters (e.g. ci-).", APPLY, check=check_project_prefix,
            metavar="PREFIX"),
    Setting("parallelism", int, "Projects of a fleet file worked on at once.", FLEET_RUNS,
            default=PARALLELISM, parse=as_parallelism, metavar="N", in_config=False),
    Setting("only", tuple[str, ...], "Of a fleet file, only these project IDs (comma-separated).", FLEET,
            default=(), parse=as_list, kind="list", metavar="ID[,ID]", in_file=False, in_config=False),
    Setting("detailed_exitcode", bool, "Exit 0 when nothing is pending, 2 when changes are, 1 on any error "
            "(usage errors included).", frozenset({"plan", "status"}), default=False, parse=as_bool,
            kind="flag", in_file=False),
    Setting("allow_skipped", bool, "Pass with checks skipped (by default a check must pass, and each "
            "--only check run).", frozenset({"verify"}), default=False, parse=as_bool, kind="flag",
            in_file=False),
    Setting("junit", Path | None, "Also write the checks as a JUnit XML report (a test case per check, "
            "a suite per project).", frozenset({"verify"}), check=as_path, path=True, metavar="FILE",
            in_file=False),
    Setting("emulator_host", str | None, "Send every Google API call to a gcp-setup emulator.", GOOGLE,
            check=check_emulator_host, metavar="HOST:PORT", in_file=False, anywhere=True),
    Setting("timeout", float, "Deadline of each network call, to connect and to read, in seconds.", GOOGLE,
            default=defaults.TIMEOUT_S, parse=as_seconds, metavar="SECONDS", in_file=False, in_config=False,
            anywhere=True),
    Setting("verbosity", str, "Logging level; debug also shows tracebacks.", GOOGLE | {"emulator"},
            default="warning", parse=as_verbosity, choices=VERBOSITIES, in_file=False, in_config=False,
            anywhere=True),
)  # fmt: skip
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
SETTING_NAMES = tuple(BY_NAME)
FILE_SETTINGS = tuple(s.name for s in SETTINGS if s.in_file)


INIT = (
    *("project", "create", "billing_account", "location", "service_account", "vertex_express"),
    *("credentials", "allow_key_file", "credentials_file", "env_file", "openai_env"),
)
"""What `gcp-setup init` writes to gcp-setup.toml, in this order: the settings a first apply needs."""
SAME_AS = {"output": "status"}
"""`output` reads the project as `status` does."""


def taken_by(command: str) -> tuple[Setting, ...]:
    if command == "init":
        return tuple(BY_NAME[name] for name in INIT)
    command = SAME_AS.get(command, command)
    return tuple(s for s in SETTINGS if command in s.commands)
