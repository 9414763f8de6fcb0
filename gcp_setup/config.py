"""Settings: resolved once, at the edge, from four sources, then validated into a frozen `Config`.

Precedence (first wins), as the README documents:
  1. command-line flags,
  2. environment variables: GOOGLE_CLOUD_PROJECT, then CLOUDSDK_CORE_PROJECT, for the project;
     GOOGLE_CLOUD_LOCATION for the location; GCP_SETUP_<SETTING> for every setting
     (e.g. GCP_SETUP_BILLING_ACCOUNT, GCP_SETUP_SERVICES=a.googleapis.com,b.googleapis.com),
  3. `gcp-setup.toml` in the working directory (or `--config FILE`), keys named like the settings,
  4. the active gcloud configuration's core/project, read from its INI file under CLOUDSDK_CONFIG
     or ~/.config/gcloud (gcloud itself is never run: it costs 0.4 s and may prompt),
  5. the defaults in gcp_setup/defaults.py.

Commands share the flags through `@config_options` and build the Config with `config_from_click`.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from gcp_setup import defaults, envvars
from gcp_setup.errors import UsageError

CREDENTIAL_MODES = ("user", "impersonate", "key-file", "none")
TOML_FILE = "gcp-setup.toml"
ENV_PREFIX = "GCP_SETUP_"

# Google's documented rules: https://cloud.google.com/resource-manager/docs/creating-managing-projects
RESERVED_PROJECT_WORDS = ("google", "null", "undefined", "ssl")
_SERVICE_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}$")
"""GitHub's rules: owner 1-39 letters, digits or hyphens (not first); repository letters, digits, _ . -"""
_ROLE = re.compile(r"^(roles/[A-Za-z0-9_.]+|(projects|organizations)/[a-z0-9-]+/roles/[A-Za-z0-9_.]+)$")


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know, validated. Build it with `load_config` (never by hand in
    commands); tests may construct it directly."""

    project: str
    create: bool = False
    organization: str | None = None
    """"organizations/123" (normalised), the parent of a project created with --create."""
    folder: str | None = None
    """"folders/123" (normalised); wins over organization as the parent."""
    display_name: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    billing_account: str | None = None
    """"XXXXXX-XXXXXX-XXXXXX" (without the billingAccounts/ prefix)."""
    location: str = defaults.LOCATION
    services: tuple[str, ...] = defaults.SERVICES
    """defaults.SERVICES plus --services, in that order, without duplicates."""
    service_account: str | None = defaults.SERVICE_ACCOUNT_ID
    """Account ID (the part before @); None: --no-service-account, skip the step."""
    roles: tuple[str, ...] = defaults.ROLES
    api_key: bool = True
    api_key_type: str = defaults.API_KEY_TYPE
    """One of defaults.API_KEY_TYPES: "auth" (bound to the service account) or "standard"."""
    rotate_key: bool = False
    """Replace the API key(s) with new ones on purpose (after a leak), as a migration does."""
    keep_old_key: bool = False
    """Do not delete a replaced key after the smoke test (a later apply without this flag does)."""
    vertex_express: bool = False
    """A second auth key, for Vertex AI express mode, on the account (which gets defaults.EXPRESS_ROLE)."""
    credentials: str = "user"
    """One of CREDENTIAL_MODES."""
    allow_key_file: bool = False
    env_file: Path | None = None
    """Where to write the .env; None: do not write one."""
    github_env: bool = False
    """Also export the settings to later steps of a GitHub Actions job ($GITHUB_ENV), secrets masked."""
    credentials_file: Path | None = None
    """Where --credentials impersonate / key-file write their JSON; None: under ~/.config/gcp-setup/."""
    impersonator: str | None = None
    """Member granted roles/iam.serviceAccountTokenCreator (user:me@example.com); None: gcloud's account."""
    github_repo: str | None = None
    """OWNER/REPO whose GitHub Actions get Workload Identity Federation to the service account; None: none."""
    show_secrets: bool = False
    verify: bool = True
    """apply ends with verify's smoke test of what it set up (--no-verify: it does not)."""
    emulator_host: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    """setting -> where its value came from ("flag --project", "env GOOGLE_CLOUD_PROJECT", ...)."""

    @property
    def parent(self) -> str | None:
        return self.folder or self.organization

    @property
    def service_account_email(self) -> str | None:
        if self.service_account is None:
            return None
        return f"{self.service_account}@{self.project}.iam.gserviceaccount.com"

    @property
    def wants_vertex(self) -> bool:
        return defaults.VERTEX_AI_API in self.services

    @property
    def binds_keys(self) -> bool:
        """Some key this run manages is bound to the service account (which the org policy may forbid)."""
        return (self.api_key and self.api_key_type == "auth") or self.vertex_express


# --- the settings: how each is parsed from text (env) and what its default is ---------------------


def _as_bool(text: Any) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise UsageError(f"{text!r} is not a boolean; use true or false")


def _as_list(text: Any) -> tuple[str, ...]:
    items = text if isinstance(text, list | tuple) else str(text).split(",")
    return tuple(s.strip() for item in items for s in str(item).split(",") if s.strip())


def _as_labels(text: Any) -> dict[str, str]:
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    labels = {}
    for pair in _as_list(text):
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"label {pair!r} is not KEY=VALUE; use e.g. --label team=ml")
        labels[key.strip()] = value.strip()
    return labels


def _as_optional_text(text: Any) -> str | None:
    if text is False or text is None:
        return None
    return str(text).strip() or None


def _as_optional_account(text: Any) -> str | None:
    """An account ID, or None for no service account (false/none/off, or --no-service-account)."""
    value = _as_optional_text(text)
    return None if value is None or value.lower() in ("false", "none", "no", "off") else value


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[Any], Any]
    default: Any
    env: tuple[str, ...] = ()
    """Environment variables read before GCP_SETUP_<NAME>."""


SETTINGS: tuple[Setting, ...] = (
    Setting("project", _as_optional_text, None, (envvars.PROJECT, envvars.CLOUDSDK_PROJECT)),
    Setting("create", _as_bool, False),
    Setting("organization", _as_optional_text, None),
    Setting("folder", _as_optional_text, None),
    Setting("display_name", _as_optional_text, None),
    Setting("labels", _as_labels, {}),
    Setting("billing_account", _as_optional_text, None),
    Setting("location", _as_optional_text, defaults.LOCATION, (envvars.LOCATION,)),
    Setting("services", _as_list, ()),
    Setting("service_account", _as_optional_account, defaults.SERVICE_ACCOUNT_ID),
    Setting("roles", _as_list, defaults.ROLES),
    Setting("api_key", _as_bool, True),
    Setting("api_key_type", _as_optional_text, defaults.API_KEY_TYPE),
    Setting("rotate_key", _as_bool, False),
    Setting("keep_old_key", _as_bool, False),
    Setting("vertex_express", _as_bool, False),
    Setting("credentials", _as_optional_text, "user"),
    Setting("allow_key_file", _as_bool, False),
    Setting("env_file", _as_optional_text, None),
    Setting("github_env", _as_bool, False),
    Setting("credentials_file", _as_optional_text, None),
    Setting("impersonator", _as_optional_text, None),
    Setting("github_repo", _as_optional_text, None),
    Setting("show_secrets", _as_bool, False),
    Setting("verify", _as_bool, True),
)
SETTING_NAMES = tuple(s.name for s in SETTINGS)


def env_names(setting: Setting) -> tuple[str, ...]:
    return (*setting.env, ENV_PREFIX + setting.name.upper())


@dataclass(frozen=True)
class Resolved:
    """A setting's raw value and where it came from, before validation (what `gcp-setup config` shows)."""

    name: str
    value: Any
    source: str


def resolve_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    toml_path: Path | None = None,
) -> dict[str, Resolved]:
    """Each setting's value from the first source that has it. `flags` holds only the flags given
    (None or missing means not given)."""
    environ = os.environ if environ is None else environ
    toml_values, toml_label = _read_toml(toml_path)
    gcloud_project, gcloud_label = gcloud_core_project(environ)
    resolved: dict[str, Resolved] = {}
    for setting in SETTINGS:
        resolved[setting.name] = _resolve_one(
            setting, flags, environ, toml_values, toml_label, gcloud_project, gcloud_label
        )
    return resolved


def _resolve_one(
    setting: Setting,
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    toml_values: dict[str, Any],
    toml_label: str,
    gcloud_project: str | None,
    gcloud_label: str,
) -> Resolved:
    name = setting.name
    flag_value = flags.get(name)
    if flag_value is not None and flag_value != ():
        return Resolved(name, setting.parse(flag_value), f"flag --{name.replace('_', '-')}")
    for var in env_names(setting):
        if environ.get(var):
            return Resolved(name, setting.parse(environ[var]), f"env {var}")
    for key in (name, name.replace("_", "-")):
        if key in toml_values:
            return Resolved(name, setting.parse(toml_values[key]), f"{toml_label} {key}")
    if name == "project" and gcloud_project:
        return Resolved(name, gcloud_project, gcloud_label)
    return Resolved(name, setting.default, "default")


def _read_toml(path: Path | None) -> tuple[dict[str, Any], str]:
    explicit = path is not None
    path = path or Path(TOML_FILE)
    if not path.is_file():
        if explicit:
            raise UsageError(f"config file {path} does not exist; check --config")
        return {}, ""
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(SETTING_NAMES) - {n.replace("_", "-") for n in SETTING_NAMES})
    if unknown:
        raise UsageError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(SETTING_NAMES)}"
        )
    return data, str(path)


def gcloud_config_dir(environ: Mapping[str, str]) -> Path:
    if environ.get(envvars.CLOUDSDK_CONFIG):
        return Path(environ[envvars.CLOUDSDK_CONFIG])
    return Path.home() / ".config" / "gcloud"


def gcloud_property(environ: Mapping[str, str], section: str, name: str) -> tuple[str | None, str]:
    """A property (e.g. core/project, core/account) of the active gcloud configuration, read from its
    INI file, and a source label."""
    config_dir = gcloud_config_dir(environ)
    active = environ.get("CLOUDSDK_ACTIVE_CONFIG_NAME")
    if not active:
        try:
            active = (config_dir / "active_config").read_text().strip() or "default"
        except OSError:
            active = "default"
    path = config_dir / "configurations" / f"config_{active}"
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path)
    except configparser.Error:
        return None, ""
    value = parser.get(section, name, fallback="").strip() or None
    return value, f"gcloud configuration {active!r} {section}/{name}"


def gcloud_core_project(environ: Mapping[str, str]) -> tuple[str | None, str]:
    return gcloud_property(environ, "core", "project")


# --- validation -------------------------------------------------------------------------------------


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


def validate_project_id(project: str) -> str:
    problem = project_id_problem(project)
    if problem:
        raise UsageError(f"project ID {project!r} {problem}")
    return project


def _normalise_parent(value: str | None, kind: str) -> str | None:
    if value is None:
        return None
    number = value.removeprefix(f"{kind}/")
    if not number.isdigit():
        raise UsageError(f"{kind[:-1]} {value!r} is not numeric; use e.g. --{kind[:-1]} 123456789012")
    return f"{kind}/{number}"


def _normalise_billing_account(value: str | None) -> str | None:
    if value is None:
        return None
    account = value.removeprefix("billingAccounts/").upper()
    if not _BILLING_ACCOUNT.match(account):
        raise UsageError(
            f"billing account {value!r} is not like 0X0X0X-0X0X0X-0X0X0X; "
            "list yours with `gcloud billing accounts list`"
        )
    return account


def _check_labels(labels: Mapping[str, str]) -> None:
    for key, value in labels.items():
        if not _LABEL_KEY.match(key):
            raise UsageError(
                f"label key {key!r} must be lowercase letters, digits, _ or -, starting with a letter"
            )
        if not _LABEL_VALUE.match(value):
            raise UsageError(f"label value {value!r} (of {key}) must be lowercase letters, digits, _ or -")


def _check_service_account(account_id: str | None) -> None:
    if account_id is not None and not _SERVICE_ACCOUNT_ID.match(account_id):
        raise UsageError(
            f"service account ID {account_id!r} must be 6-30 lowercase letters, digits or hyphens, "
            "starting with a letter"
        )


def merged_services(extra: tuple[str, ...]) -> tuple[str, ...]:
    """defaults.SERVICES, then the --services extras, without duplicates."""
    return tuple(dict.fromkeys((*defaults.SERVICES, *extra)))


def _check_services(extra: tuple[str, ...]) -> tuple[str, ...]:
    for name in extra:
        if "." not in name:
            raise UsageError(
                f"service {name!r} is not a service name; use e.g. --services storage.googleapis.com"
            )
    return merged_services(extra)


def _check_credentials(mode: str, allow_key_file: bool) -> None:
    if mode not in CREDENTIAL_MODES:
        raise UsageError(f"credentials mode {mode!r} is unknown; use one of {', '.join(CREDENTIAL_MODES)}")
    if mode == "key-file" and not allow_key_file:
        raise UsageError(
            "--credentials key-file writes a long-lived secret; add --allow-key-file to confirm, "
            "or prefer --credentials impersonate"
        )


def _check_github_repo(repository: str | None, service_account: str | None) -> tuple[str, ...]:
    """The services Workload Identity Federation needs besides the defaults (none without --github-repo)."""
    if repository is None:
        return ()
    if not _GITHUB_REPO.match(repository) or repository.split("/")[1] in (".", ".."):
        raise UsageError(f"GitHub repository {repository!r} is not OWNER/REPO; e.g. --github-repo octo/app")
    if service_account is None:
        raise UsageError(
            "--github-repo needs the service account (GitHub Actions act as it): drop --no-service-account"
        )
    return defaults.WORKLOAD_IDENTITY_SERVICES


def _check_keys(values: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(the API key type, roles the keys need on the account besides --role)."""
    key_type = values["api_key_type"] or defaults.API_KEY_TYPE
    if key_type not in defaults.API_KEY_TYPES:
        raise UsageError(
            f"API key type {key_type!r} is unknown; use auth (the default) or standard (--api-key-type)"
        )
    bound = (values["api_key"] and key_type == "auth") or values["vertex_express"]
    if bound and values["service_account"] is None:
        what = "--vertex-express" if values["vertex_express"] else "an auth API key (the default)"
        raise UsageError(
            f"{what} is bound to the service account: drop --no-service-account, or pass --no-api-key"
        )
    return key_type, (defaults.EXPRESS_ROLE,) if values["vertex_express"] else ()


def config_from_resolved(resolved: Mapping[str, Resolved], emulator_host: str | None = None) -> Config:
    values = {name: r.value for name, r in resolved.items()}
    project = values["project"]
    if not project:
        raise UsageError(
            "no project selected; pass --project ID, export GOOGLE_CLOUD_PROJECT, "
            "or run `gcloud config set project ID`"
        )
    validate_project_id(project)
    _check_labels(values["labels"])
    _check_service_account(values["service_account"])
    _check_credentials(values["credentials"] or "user", values["allow_key_file"])
    wif_services = _check_github_repo(values["github_repo"], values["service_account"])
    api_key_type, key_roles = _check_keys(values)
    for role in values["roles"]:
        if not _ROLE.match(role):
            raise UsageError(f"role {role!r} is not a role name; use e.g. --role roles/aiplatform.user")
    if not values["location"]:
        raise UsageError("location is empty; use e.g. --location global or --location us-central1")
    return Config(
        project=project,
        create=values["create"],
        organization=_normalise_parent(values["organization"], "organizations"),
        folder=_normalise_parent(values["folder"], "folders"),
        display_name=values["display_name"],
        labels=dict(values["labels"]),
        billing_account=_normalise_billing_account(values["billing_account"]),
        location=values["location"],
        services=_check_services((*values["services"], *wif_services)),
        service_account=values["service_account"],
        roles=tuple(dict.fromkeys((*values["roles"], *key_roles))),
        api_key=values["api_key"],
        api_key_type=api_key_type,
        rotate_key=values["rotate_key"],
        keep_old_key=values["keep_old_key"],
        vertex_express=values["vertex_express"],
        credentials=values["credentials"] or "user",
        allow_key_file=values["allow_key_file"],
        env_file=Path(values["env_file"]) if values["env_file"] else None,
        github_env=values["github_env"],
        credentials_file=Path(values["credentials_file"]) if values["credentials_file"] else None,
        impersonator=values["impersonator"],
        github_repo=values["github_repo"],
        show_secrets=values["show_secrets"],
        verify=values["verify"],
        emulator_host=emulator_host,
        sources={name: r.source for name, r in resolved.items()},
    )


def load_config(
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    toml_path: Path | None = None,
    emulator_host: str | None = None,
) -> Config:
    """The validated Config; UsageError (exit 2) with a one-line reason when something is wrong."""
    return config_from_resolved(resolve_settings(flags, environ, toml_path), emulator_host)


# --- click: the flags every provisioning command shares ---------------------------------------------


def config_options(command: Callable) -> Callable:
    """Adds the shared settings flags. Every flag defaults to None ("not given") so that the
    environment, gcp-setup.toml and gcloud's configuration can supply it; see `config_from_click`."""
    options = [
        click.option("--project", "-p", metavar="ID", help="Project ID (env GOOGLE_CLOUD_PROJECT)."),
        click.option("--create/--no-create", default=None, help="Create the project if it does not exist."),
        click.option("--organization", metavar="ORG_ID", help="Parent organization of a created project."),
        click.option("--folder", metavar="FOLDER_ID", help="Parent folder of a created project."),
        click.option("--display-name", metavar="NAME", help="Display name of a created project."),
        click.option(
            "--label", "labels", multiple=True, metavar="KEY=VALUE", help="Label of a created project."
        ),
        click.option(
            "--billing-account", metavar="ID", help="Link this billing account (0X0X0X-0X0X0X-0X0X0X)."
        ),
        click.option(
            "--location",
            "--region",
            "location",
            metavar="LOCATION",
            help="Vertex AI location (env GOOGLE_CLOUD_LOCATION; default global).",
        ),
        click.option("--services", multiple=True, metavar="API[,API]", help="Enable these APIs too."),
        click.option("--service-account", metavar="ID", help="Service account ID (default gemini-client)."),
        click.option(
            "--no-service-account", is_flag=True, default=None, help="Do not create a service account."
        ),
        click.option(
            "--role",
            "roles",
            multiple=True,
            metavar="ROLE",
            help="Role for the service account, repeatable (default roles/aiplatform.user).",
        ),
        click.option(
            "--api-key/--no-api-key", default=None, help="Create a restricted Gemini API key (default on)."
        ),
        click.option(
            "--api-key-type",
            type=click.Choice(defaults.API_KEY_TYPES),
            default=None,
            help="auth: bound to the service account (default); standard: rejected by the Gemini API.",
        ),
        click.option(
            "--rotate-key", is_flag=True, default=None, help="Replace the API key(s) with new ones."
        ),
        click.option(
            "--keep-old-key", is_flag=True, default=None, help="Keep a replaced key (not deleted this run)."
        ),
        click.option(
            "--vertex-express",
            is_flag=True,
            default=None,
            help="Also an auth key for Vertex AI express mode (account gets roles/aiplatform.expressUser).",
        ),
        click.option(
            "--credentials",
            type=click.Choice(CREDENTIAL_MODES),
            default=None,
            help="How local code authenticates (default user).",
        ),
        click.option("--allow-key-file", is_flag=True, default=None, help="Permit --credentials key-file."),
        click.option("--env-file", type=click.Path(dir_okay=False), default=None, help="Write a .env here."),
        click.option(
            "--github-env", is_flag=True, default=None, help="Append the settings to $GITHUB_ENV (masked)."
        ),
        click.option(
            "--credentials-file",
            type=click.Path(dir_okay=False),
            default=None,
            help="Where the impersonation/key-file credentials JSON goes (mode 0600).",
        ),
        click.option(
            "--impersonator",
            metavar="MEMBER",
            help="Who may impersonate the service account (default: gcloud's account), e.g. user:me@x.com.",
        ),
        click.option(
            "--github-repo",
            metavar="OWNER/REPO",
            help="Let this repository's GitHub Actions act as the service account (keyless, via WIF).",
        ),
        click.option("--show-secrets", is_flag=True, default=None, help="Print the API key string."),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help=f"Settings file (default ./{TOML_FILE} when present).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def flags_from_click(params: Mapping[str, Any]) -> dict[str, Any]:
    """The given flags as settings (click's empty tuples and Nones mean "not given")."""
    flags = {name: params.get(name) for name in SETTING_NAMES}
    if params.get("no_service_account"):
        flags["service_account"] = False
    return flags


def emulator_host_from_click(ctx: click.Context) -> str | None:
    """The emulator host: the group's --emulator-host, else GCP_SETUP_EMULATOR_HOST; None: Google."""
    from gcp_setup.cli import GlobalOptions
    from gcp_setup.google.session import resolve_emulator_host

    options = ctx.find_object(GlobalOptions)
    return resolve_emulator_host(options.emulator_host if options else None)


def config_from_click(ctx: click.Context, params: Mapping[str, Any]) -> Config:
    """The Config for a command decorated with @config_options; pass it the command's kwargs."""
    return load_config(
        flags_from_click(params),
        toml_path=params.get("config_file"),
        emulator_host=emulator_host_from_click(ctx),
    )
