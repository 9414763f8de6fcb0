"""`gcp-setup init`: write a commented gcp-setup.toml, so that every later command (plan, apply, status,
verify, destroy, output) runs with the same settings and no flags.

The values come as every command's do (flags, environment, an existing gcp-setup.toml, gcloud's
core/project), then from prompts for what is still at its default, unless --yes or nobody can answer.
An existing file is rewritten only with --force; without it, init shows the change it would make.
"""

from __future__ import annotations

import difflib
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from gcp_setup.commands.options import SettingsCommand, load_files, resolution, settings_params
from gcp_setup.errors import UsageError
from gcp_setup.settings.config import TOML_FILE, Resolved, checked, read_toml
from gcp_setup.settings.table import BY_NAME, INIT

PROMPTED = ("project", "create", "billing_account", "credentials", "env_file")
"""Asked for (when at their default) unless --yes."""
HEADER = f"""\
# {TOML_FILE}: the settings every gcp-setup command reads in this directory (plan, apply, status,
# verify, destroy, output). A flag or an environment variable wins over what is set here;
# `gcp-setup config` shows each setting's value and where it came from. Written by `gcp-setup init`.
"""


def _params() -> list[click.Parameter]:
    """The table's options of init's settings; --config is the file to write, so init keeps its path."""
    own = click.Option(
        ["--config", "config_file"],
        type=click.Path(dir_okay=False, path_type=Path),
        is_eager=True,
        callback=_load_then_keep,
        help=f"The file to write (default ./{TOML_FILE}).",
    )
    return [*(p for p in settings_params("init") if p.name != "config_file"), own]


def _load_then_keep(ctx: click.Context, param: click.Parameter, path: Path | None) -> Path | None:
    load_files(ctx, param, path if path and path.is_file() else None)
    return path


@click.command("init", cls=SettingsCommand, params=_params())
@click.option("--yes", "-y", is_flag=True, help="Ask nothing: flags, environment and defaults only.")
@click.option("--force", is_flag=True, help="Overwrite an existing file (without it, init shows the change).")
@click.pass_context
def init(
    click_ctx: click.Context, /, yes: bool, force: bool, config_file: Path | None, **settings: Any
) -> None:
    """Write gcp-setup.toml, so that plan, apply, status, verify, destroy and output need no flags."""
    path = config_file or Path(TOML_FILE)
    if read_toml(path if path.is_file() else None).entries:
        raise UsageError(f"{path} is a fleet file ([[projects]]); edit it by hand")
    resolved = resolution(click_ctx)
    if not yes and sys.stdin.isatty():
        resolved = _asked(resolved)
    if not resolved["project"].value:
        raise UsageError("init needs a project: pass --project ID (or export GOOGLE_CLOUD_PROJECT)")
    values = checked(resolved)
    text = render(values, {name: r.source for name, r in resolved.items()}, _kept(path))
    old = path.read_text() if path.is_file() else None
    if old == text:
        click.echo(f"{path} already holds these settings; nothing written.")
        return
    if old is not None and not force:
        click.echo(
            "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(path), "new"))
        )
        raise UsageError(f"{path} exists; the change above is not written: pass --force to write it")
    path.write_text(text)
    click.echo(f"wrote {path}; next: gcp-setup plan, then gcp-setup apply")


def _asked(resolved: dict[str, Resolved]) -> dict[str, Resolved]:
    """Prompts for the settings still at their default (a given one is not asked again)."""
    asked = dict(resolved)
    for name in PROMPTED:
        if resolved[name].source != "default":
            continue
        setting = BY_NAME[name]
        if setting.kind == "switch":
            value: Any = click.confirm(setting.help, default=bool(resolved[name].value), err=True)
        else:
            shown = resolved[name].value
            answer = click.prompt(setting.help, default="" if shown is None else str(shown), err=True)
            value = setting.parse(answer) if answer else None
        asked[name] = Resolved(name, value, "prompt")
    return asked


def _kept(path: Path) -> dict[str, Any]:
    """The existing file's other settings (roles, labels...), which init keeps as they are."""
    if not path.is_file():
        return {}
    return {name: v for name, v in read_toml(path).values.items() if name not in INIT}


def render(values: dict[str, Any], sources: dict[str, str], kept: dict[str, Any]) -> str:
    """The file: each setting under its help; one still at its default is written commented out."""
    lines = [HEADER]
    for name in INIT:
        setting, value = BY_NAME[name], values.get(name)
        unset = sources.get(name, "default") == "default" or (value is None and not setting.off_flag)
        example = setting.default if setting.default is not None else setting.metavar
        shown = toml_value(example if unset else value)  # None given: --no-service-account
        lines.extend(textwrap.wrap(setting.help, 98, initial_indent="# ", subsequent_indent="# "))
        lines.append(f"{'# ' if unset else ''}{name.replace('_', '-')} = {shown}\n")
    if kept:
        lines.append("# Kept from the file as it was:")
        lines.extend(f"{name.replace('_', '-')} = {toml_value(v)}" for name, v in kept.items())
        lines.append("")
    return "\n".join(lines)


def toml_value(value: Any) -> str:
    """A TOML literal of a setting's value (JSON's string escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if value is None:
        return "false"  # only --no-service-account sets None, and the file says it so (as_account)
    return json.dumps(str(value))
