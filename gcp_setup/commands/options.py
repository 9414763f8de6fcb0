"""The click side of the settings table: each command's options are made from gcp_setup/settings/table.py, and
click resolves them. A flag is click's COMMANDLINE, a variable its ENVIRONMENT, gcp-setup.toml and the
gcloud configuration its DEFAULT_MAP (installed by the eager --config option), the table's default its
DEFAULT; `ctx.get_parameter_source` is what `Resolved.source` is named from.

`resolve(command, flags, environ, toml, gcloud)` runs the same resolution without a command line, for
callers that resolve several times (a test, one run per project of a fleet).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from gcp_setup.errors import UsageError
from gcp_setup.settings.config import (
    TOML_FILE,
    Config,
    FileDefaults,
    Resolved,
    TomlSection,
    build_config,
    checked,
    gcloud_core_project,
    read_toml,
)
from gcp_setup.settings.table import SETTINGS, Setting, taken_by

log = logging.getLogger(__name__)


@dataclass
class GlobalOptions:
    """What the whole process runs with (ctx.obj), whichever command sets it."""

    verbosity: str = "warning"

    @property
    def debug(self) -> bool:
        return self.verbosity == "debug"


class _Text(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.5 (we take 8.1)
    """The text as given: the setting's parser reads it (and a list variable is split at commas)."""

    name = "text"
    envvar_list_splitter = ","

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value


class _FilePath(click.Path):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not str(value).strip():
            name = param.opts[0] if param else "the file"
            raise UsageError(f"{name} is empty; give a file path, or leave the flag out")
        return super().convert(value, param, ctx)


class SettingsContext(click.Context):
    """A context that reads `environ` (default: the process environment), and takes `flags` (setting
    name -> value) as if they had been given on the command line."""

    def __init__(
        self,
        *args: Any,
        environ: Mapping[str, str] | None = None,
        flags: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.flags: Mapping[str, Any] = flags or {}


def environ_of(ctx: click.Context) -> Mapping[str, str]:
    return getattr(ctx, "environ", os.environ)


class SettingOption(click.Option):
    """A setting's flag. Its value is parsed by the table's parser, whatever the source; what was typed
    is first checked by click (choices, paths)."""

    def __init__(self, setting: Setting, *, before_command: bool = False) -> None:
        self.setting = setting
        self.before_command = before_command
        decls, attrs = _declaration(setting)
        super().__init__(decls, **attrs)

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        if self.before_command:
            return None  # the command resolves the environment, so that a flag after it still wins
        environ = environ_of(ctx)
        return next((environ[name] for name in self.envvar or () if environ.get(name)), None)

    def consume_value(self, ctx: click.Context, opts: Mapping[str, Any]) -> tuple[Any, ParameterSource]:
        value, source = super().consume_value(ctx, opts)
        if source is not ParameterSource.COMMANDLINE:
            given = _given_elsewhere(ctx, self)
            if given is not None:
                return given, ParameterSource.COMMANDLINE
        return value, source

    def type_cast_value(self, ctx: click.Context, value: Any) -> Any:
        if ctx.get_parameter_source(self.name) is ParameterSource.COMMANDLINE:
            value = super().type_cast_value(ctx, value)
        try:
            return self.setting.parse(value)
        except UsageError as exc:
            raise UsageError(f"{source_label(ctx, self)}: {exc}") from None


def _declaration(setting: Setting) -> tuple[list[str], dict[str, Any]]:
    flags = list(setting.flag_names)
    attrs: dict[str, Any] = {
        "help": setting.help,
        "envvar": list(setting.env_vars),
        "show_envvar": True,
        "metavar": setting.metavar,
        "type": _Text(),
    }
    if setting.kind == "switch":
        flags = [f"{flags[0]}/--no-{flags[0][2:]}"]
    if setting.kind in ("switch", "flag"):
        attrs.update(type=None, is_flag=True, metavar=None)
    attrs["multiple"] = setting.kind == "list"
    if setting.choices:
        attrs["type"] = click.Choice(setting.choices)
    elif setting.path:
        attrs["type"] = _FilePath(dir_okay=False)
    attrs["default"] = setting.default
    attrs["show_default"] = setting.kind in ("value", "switch") and setting.default is not None
    return [*flags, setting.name], attrs


def _given_elsewhere(ctx: click.Context, option: SettingOption) -> Any:
    """The value the caller passed in `flags`, or (for a global flag) given before the command."""
    given = getattr(ctx, "flags", {}).get(option.name)
    if given is not None and given != ():
        return given
    parent = ctx.parent
    while option.setting.anywhere and parent is not None:
        if parent.get_parameter_source(option.name) is ParameterSource.COMMANDLINE:
            return parent.params[option.name]
        parent = parent.parent
    return None


def source_label(ctx: click.Context, option: SettingOption) -> str:
    """Where the option's value came from: "flag --project", "env GOOGLE_CLOUD_PROJECT",
    "gcp-setup.toml location", "gcloud configuration 'default' core/project" or "default"."""
    source = ctx.get_parameter_source(option.name)
    if source is ParameterSource.COMMANDLINE:
        return f"flag {option.opts[0]}"
    if source is ParameterSource.ENVIRONMENT:
        environ = environ_of(ctx)
        return "env " + next(name for name in option.envvar or () if environ.get(name))
    if source is ParameterSource.DEFAULT_MAP and isinstance(ctx.default_map, FileDefaults):
        label: str = ctx.default_map.labels[option.name]
        return label
    return "default"


class OffFlag(click.Option):
    """--no-service-account: the setting is None."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        name = setting.name.replace("_", " ")
        super().__init__([setting.off_flag or ""], is_flag=True, help=f"No {name}.")


def load_files(ctx: click.Context, param: click.Parameter, path: Path | None) -> None:
    """--config's callback: gcp-setup.toml and gcloud's project become click's default_map (unless the
    caller of `resolve` gave its own)."""
    if ctx.default_map is None:
        ctx.default_map = FileDefaults(read_toml(path), gcloud_core_project(environ_of(ctx)))


def settings_params(command: str) -> list[click.Parameter]:
    """The options of the settings `command` takes, and --config when one of them may be in the file."""
    params: list[click.Parameter] = []
    for setting in taken_by(command):
        params.append(SettingOption(setting))
        if setting.off_flag:
            params.append(OffFlag(setting))
    if any(s.in_file for s in taken_by(command)):
        params.append(
            click.Option(
                ["--config", "config_file"],
                type=click.Path(dir_okay=False, path_type=Path),
                is_eager=True,
                expose_value=False,
                callback=load_files,
                help=f"Settings file (default ./{TOML_FILE} when present).",
            )
        )
    return params


def global_params() -> list[click.Parameter]:
    """The global flags, as given before the command (each command also takes the ones it uses)."""
    return [SettingOption(s, before_command=True) for s in SETTINGS if s.anywhere]


HELP_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Project", ("project", "create", "organization", "folder", "display_name", "labels", "location",
                 "services", "project_prefix", "ttl")),
    ("Billing", ("billing_account", "billing_project")),
    ("Identity and keys", ("service_account", "roles", "api_key", "api_key_type", "rotate_key",
                           "keep_old_key", "vertex_express")),
    ("Credentials", ("credentials", "allow_key_file", "credentials_file", "impersonator", "env_file",
                     "openai_env", "allow_unignored")),
    ("CI", ("github_env", "github_repo", "gitlab_project", "gitlab_issuer", "gitlab_jwks", "parallelism",
            "only", "detailed_exitcode")),
    ("Output", ("output_format", "show_secrets", "verify", "propagation_wait", "junit", "verbosity")),
)  # fmt: skip
"""--help's headings, as gcloud's help has them: each setting's option under its group; the command's
own options, --config and the connection flags under a plain "Options"."""
GROUP_OF = {name: heading for heading, names in HELP_GROUPS for name in names}
HELP_COLUMN = 30
"""click's widest first column (write_dl's col_max)."""


class SettingsCommand(click.Command):
    """A command whose settings come from the table. With `reads_env_file` its .env's variables win over
    the environment: the settings are resolved again with them. Its --help groups the options under
    HELP_GROUPS' headings (click has no option groups of its own)."""

    context_class = SettingsContext

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        grouped: dict[str, list[tuple[str, str]]] = {"Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                name = param.setting.name if isinstance(param, OffFlag) else param.name
                grouped.setdefault(GROUP_OF.get(name or "", "Options"), []).append(record)
        order = ["Options", *(heading for heading, _ in HELP_GROUPS)]
        width = min(max(len(first) for rows in grouped.values() for first, _ in rows), HELP_COLUMN)
        for heading in (h for h in order if grouped.get(h)):
            with formatter.section(heading if heading == "Options" else f"{heading} options"):
                # One column for every group, as click gives an ungrouped list (write_dl sizes per call).
                widest = min(max(len(first) for first, _ in grouped[heading]), width)
                formatter.write_dl(grouped[heading], col_max=width, col_spacing=2 + width - widest)

    def __init__(self, *args: Any, reads_env_file: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads_env_file = reads_env_file

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        ctx = super().make_context(info_name, list(args), parent, **extra)
        env_file = ctx.params.get("env_file") if self.reads_env_file else None
        if env_file is None:
            return ctx
        dotenv = _read_env_file(Path(env_file), _where(ctx, _option(ctx, "env_file")))
        extra["environ"] = {**environ_of(ctx), **dotenv}
        return super().make_context(info_name, list(args), parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        _apply_process_settings(ctx)
        for resolved in resolution(ctx).values():
            log.debug("setting %s = %r (%s)", resolved.name, resolved.value, resolved.source)
        return super().invoke(ctx)


def settings_command(name: str, **attrs: Any) -> Callable[[Callable[..., Any]], SettingsCommand]:
    """@click.command for a command that takes the settings the table gives `name`."""
    return click.command(name, cls=SettingsCommand, params=settings_params(name), **attrs)


def _where(ctx: click.Context, option: SettingOption) -> str:
    """The flag, when the value was given as one; else where it came from."""
    if ctx.get_parameter_source(option.name) is ParameterSource.COMMANDLINE:
        return option.opts[0]
    return source_label(ctx, option)


def _option(ctx: click.Context, name: str) -> SettingOption:
    return next(p for p in ctx.command.params if isinstance(p, SettingOption) and p.name == name)


def _read_env_file(path: Path, where: str) -> dict[str, str]:
    from gcp_setup.secrets.env_file import read_env_file

    try:
        return read_env_file(path)
    except OSError as exc:
        raise UsageError(
            f"{where} {path}: {exc.strerror or exc}; write one with "
            f"`gcp-setup apply --project PROJECT --create --env-file {path}`"
        ) from exc


def _apply_process_settings(ctx: click.Context) -> None:
    """--verbosity and --timeout hold for the whole process, wherever they were given."""
    if "verbosity" in ctx.params:
        verbosity = ctx.params["verbosity"]
        logging.basicConfig(level=verbosity.upper(), format="%(levelname)s %(name)s: %(message)s")
        ctx.ensure_object(GlobalOptions).verbosity = verbosity
    if "timeout" in ctx.params:
        from gcp_setup.google import deadline

        deadline.choose(ctx.params["timeout"])


def resolution(ctx: click.Context) -> dict[str, Resolved]:
    """Each setting the command takes: its parsed value and where it came from."""
    resolved = {}
    for param in ctx.command.params:
        if isinstance(param, SettingOption):
            resolved[param.name] = Resolved(param.name, ctx.params[param.name], source_label(ctx, param))
        elif isinstance(param, OffFlag) and ctx.params[param.name]:
            resolved[param.setting.name] = Resolved(param.setting.name, None, f"flag {param.opts[0]}")
    return resolved


def config_of(ctx: click.Context) -> Config:
    """The validated Config of a command that works on a project."""
    return build_config(resolution(ctx))


def values_of(ctx: click.Context) -> dict[str, Any]:
    """The checked values of the settings the command takes (for commands that need no project)."""
    return checked(resolution(ctx))


def resolve(
    command: click.Command,
    flags: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    toml: TomlSection | None = None,
    gcloud_project: tuple[str | None, str] | None = None,
) -> dict[str, Resolved]:
    """What `command` resolves from `flags` (setting name -> value as given on the command line; None
    or missing: not given), `environ`, a part of gcp-setup.toml and gcloud's core/project (by default
    the process environment, ./gcp-setup.toml and the active gcloud configuration)."""
    environ = os.environ if environ is None else environ
    defaults = FileDefaults(
        read_toml(None) if toml is None else toml,
        gcloud_core_project(environ) if gcloud_project is None else gcloud_project,
    )
    ctx = command.make_context(command.name, [], flags=flags, environ=environ, default_map=defaults)
    return resolution(ctx)


def load_config(
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    toml_path: Path | None = None,
    command: str = "apply",
) -> Config:
    """The Config `command` would run with; UsageError (exit 2) with a one-line reason when it is wrong."""
    bare = SettingsCommand(command, params=settings_params(command))
    toml = read_toml(toml_path) if toml_path is not None else None
    return build_config(resolve(bare, flags, environ=environ, toml=toml))
