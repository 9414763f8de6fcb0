"""The frozen `Config` a run works from, made from the settings table (gcp_setup/settings/table.py); the two
files settings come from besides flags and the environment; and the checks that turn resolved values
into a Config.

- gcp-setup.toml in the working directory (or `--config FILE`): keys named like the settings;
- the active gcloud configuration's core/project, read from its INI file under CLOUDSDK_CONFIG or
  ~/.config/gcloud (gcloud itself is never run: it is slow to start and may prompt).

Which source wins is decided by click (gcp_setup/commands/options.py); this module neither imports the
command line nor any Google client.
"""

from __future__ import annotations

import configparser
import secrets
import string
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gcp_setup import defaults, envvars
from gcp_setup.errors import UsageError
from gcp_setup.settings.checks import check_labels
from gcp_setup.settings.fleet import GENERATED_SUFFIX
from gcp_setup.settings.parsers import merged_services
from gcp_setup.settings.table import BY_NAME, FILE_SETTINGS

TOML_FILE = "gcp-setup.toml"
SETTING = "setting"
"""The key of a Config field's metadata that holds its entry of the settings table."""


def _setting(name: str) -> Any:
    """A Config field made from its setting: the setting's default (parsed and checked, as a value from
    a flag would be), and the setting itself in the field's metadata
    (tests/settings/test_config_fields.py holds the fields and the table together)."""
    setting = BY_NAME[name]
    default = setting.checked(setting.parse(setting.default))
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={SETTING: setting})
    return field(default=default, metadata={SETTING: setting})


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know, validated: one field per setting of gcp_setup/settings.py (its
    help says what it means), and `sources`: setting -> where its value came from ("flag --project",
    "env GOOGLE_CLOUD_PROJECT", ...). Commands build it with build_config; tests may construct it directly."""

    project: str = field(metadata={SETTING: BY_NAME["project"]})
    create: bool = _setting("create")
    organization: str | None = _setting("organization")
    folder: str | None = _setting("folder")
    display_name: str | None = _setting("display_name")
    labels: Mapping[str, str] = _setting("labels")
    billing_account: str | None = _setting("billing_account")
    billing_project: str | None = _setting("billing_project")
    location: str = _setting("location")
    services: tuple[str, ...] = _setting("services")
    service_account: str | None = _setting("service_account")
    roles: tuple[str, ...] = _setting("roles")
    api_key: bool = _setting("api_key")
    api_key_type: str = _setting("api_key_type")
    rotate_key: bool = _setting("rotate_key")
    keep_old_key: bool = _setting("keep_old_key")
    vertex_express: bool = _setting("vertex_express")
    credentials: str = _setting("credentials")
    allow_key_file: bool = _setting("allow_key_file")
    env_file: Path | None = _setting("env_file")
    openai_env: bool = _setting("openai_env")
    github_env: bool = _setting("github_env")
    credentials_file: Path | None = _setting("credentials_file")
    impersonator: str | None = _setting("impersonator")
    github_repo: str | None = _setting("github_repo")
    import_style: str = _setting("import_style")
    gitlab_project: str | None = _setting("gitlab_project")
    gitlab_issuer: str = _setting("gitlab_issuer")
    gitlab_jwks: Path | None = _setting("gitlab_jwks")
    show_secrets: bool = _setting("show_secrets")
    allow_unignored: bool = _setting("allow_unignored")
    verify: bool = _setting("verify")
    propagation_wait: float = _setting("propagation_wait")
    ttl: float | None = _setting("ttl")
    project_prefix: str | None = _setting("project_prefix")
    detailed_exitcode: bool = _setting("detailed_exitcode")
    allow_skipped: bool = _setting("allow_skipped")
    junit: Path | None = _setting("junit")
    emulator_host: str | None = _setting("emulator_host")
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

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


@dataclass(frozen=True)
class Resolved:
    """A setting's parsed value and where it came from, before its check (what `gcp-setup config` shows)."""

    name: str
    value: Any
    source: str


# --- the rules between settings: (the settings a rule reads, what it checks or adds) ------------------


def _key_file_confirmed(values: dict[str, Any]) -> None:
    if values["credentials"] == "key-file" and not values["allow_key_file"]:
        raise UsageError(
            "--credentials key-file writes a long-lived secret; add --allow-key-file to confirm, "
            "or prefer --credentials impersonate"
        )


def _federation_needs_the_account(values: dict[str, Any]) -> None:
    for flag, name, who in (
        ("--github-repo", "github_repo", "GitHub Actions"),
        ("--gitlab-project", "gitlab_project", "GitLab CI jobs"),
    ):
        if values[name] is not None and values["service_account"] is None:
            raise UsageError(f"{flag} needs the service account ({who} act as it): drop --no-service-account")


def _federation_needs_sts(values: dict[str, Any]) -> None:
    if values["github_repo"] is not None or values["gitlab_project"] is not None:
        values["services"] = merged_services((*values["services"], *defaults.WORKLOAD_IDENTITY_SERVICES))


def _bound_keys_need_the_account(values: dict[str, Any]) -> None:
    bound = (values["api_key"] and values["api_key_type"] == "auth") or values["vertex_express"]
    if bound and values["service_account"] is None:
        what = "--vertex-express" if values["vertex_express"] else "an auth API key (the default)"
        raise UsageError(
            f"{what} is bound to the service account: drop --no-service-account, or pass --no-api-key"
        )


def _express_key_needs_its_role(values: dict[str, Any]) -> None:
    if values["vertex_express"]:
        values["roles"] = tuple(dict.fromkeys((*values["roles"], defaults.EXPRESS_ROLE)))


def _generated_project(values: dict[str, Any]) -> None:
    """--project-prefix without a project: a new, random ID, and the project is created."""
    if values["project_prefix"] is not None and not values["project"]:
        alphabet = string.ascii_lowercase + string.digits
        suffix = "".join(secrets.choice(alphabet) for _ in range(GENERATED_SUFFIX))
        values["project"] = values["project_prefix"] + suffix
        values["create"] = True


def _expiry_needs_creation(values: dict[str, Any]) -> None:
    if values["ttl"] is not None and not values["create"]:
        raise UsageError("--ttl marks a project gcp-setup creates: add --create (or --project-prefix)")


def _expiry_label(values: dict[str, Any]) -> None:
    if values["ttl"] is not None:
        expires = str(int(time.time() + values["ttl"]))
        values["labels"] = check_labels({**values["labels"], defaults.EXPIRES_LABEL: expires})


RULES: tuple[tuple[tuple[str, ...], Callable[[dict[str, Any]], None]], ...] = (
    (("project_prefix", "project", "create"), _generated_project),
    (("ttl", "create"), _expiry_needs_creation),
    (("ttl", "labels"), _expiry_label),
    (("credentials", "allow_key_file"), _key_file_confirmed),
    (("github_repo", "gitlab_project", "service_account"), _federation_needs_the_account),
    (("github_repo", "gitlab_project", "services"), _federation_needs_sts),
    (("api_key", "api_key_type", "vertex_express", "service_account"), _bound_keys_need_the_account),
    (("vertex_express", "roles"), _express_key_needs_its_role),
)
"""Applied, in this order, by a command that takes every setting a rule reads."""


def checked(resolved: Mapping[str, Resolved]) -> dict[str, Any]:
    """The values after each setting's check and the rules between them; UsageError naming the fix."""
    values = {name: BY_NAME[name].checked(r.value) for name, r in resolved.items()}
    for reads, rule in RULES:
        if all(name in values for name in reads):
            rule(values)
    return values


def build_config(resolved: Mapping[str, Resolved]) -> Config:
    """The Config of a command that works on a project (settings it does not take keep their defaults)."""
    prefix = resolved.get("project_prefix")
    project = resolved.get("project")
    if prefix and prefix.value and project and project.value:
        if project.source.startswith("flag"):
            raise UsageError("--project and --project-prefix both name the project; pass one of them")
        # A prefix asks for a new project: the one the environment or gcloud names is not it.
        resolved = {**resolved, "project": Resolved("project", None, "generated from --project-prefix")}
    if ("project" not in resolved or not resolved["project"].value) and not (prefix and prefix.value):
        raise UsageError(
            "no project selected; pass --project ID, export GOOGLE_CLOUD_PROJECT, "
            "or run `gcloud config set project ID`"
        )
    values = checked(resolved)
    fields = {name: value for name, value in values.items() if BY_NAME[name].in_config}
    return Config(**fields, sources={name: r.source for name, r in resolved.items()})


# --- the files ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TomlSection:
    """Settings of gcp-setup.toml (or of a part of it), by setting name; `keys` the names as written.
    A fleet file's `[[projects]]` are its `entries`: each the shared settings with the entry's over them."""

    label: str
    values: Mapping[str, Any] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)
    entries: tuple[TomlSection, ...] = ()


FLEET_KEY = "projects"


def read_toml(path: Path | None) -> TomlSection:
    """`path` (which must exist), else ./gcp-setup.toml if there is one."""
    explicit = path is not None
    path = path or Path(TOML_FILE)
    if not path.is_file():
        if explicit:
            raise UsageError(f"config file {path} does not exist; check --config")
        return TomlSection(str(path))
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from exc
    entries = data.pop(FLEET_KEY, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{path}: {FLEET_KEY} must be an array of tables, one [[{FLEET_KEY}]] per project")
    shared = _section(str(path), data)
    return replace(shared, entries=tuple(_entry(shared, i, e) for i, e in enumerate(entries)))


def _section(label: str, data: Mapping[str, Any]) -> TomlSection:
    keys = {key.replace("-", "_"): key for key in data}
    unknown = sorted(key for name, key in keys.items() if name not in FILE_SETTINGS)
    if unknown:
        raise UsageError(
            f"{label}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(FILE_SETTINGS)}"
        )
    return TomlSection(label, {name: data[key] for name, key in keys.items()}, keys)


def _entry(shared: TomlSection, index: int, data: Mapping[str, Any]) -> TomlSection:
    own = _section(f"{shared.label} {FLEET_KEY}[{index}]", data)
    if not ({"project", "project_prefix"} & set(own.values)):
        raise UsageError(f"{own.label}: each [[{FLEET_KEY}]] needs a project (or a project-prefix)")
    return TomlSection(own.label, {**shared.values, **own.values}, {**shared.keys, **own.keys})


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


class FileDefaults(dict[str, Any]):
    """What gcp-setup.toml and the gcloud configuration say, by setting name (click's default_map: a
    flag or the environment wins over it), and in `labels` where each value came from."""

    def __init__(self, toml: TomlSection, gcloud_project: tuple[str | None, str]) -> None:
        super().__init__()
        self.fleet = toml.entries
        self.labels: dict[str, str] = {}
        project, label = gcloud_project
        if project:
            self["project"], self.labels["project"] = project, label
        for name, value in toml.values.items():
            self[name], self.labels[name] = value, f"{toml.label} {toml.keys[name]}"
