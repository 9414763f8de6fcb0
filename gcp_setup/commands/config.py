"""`gcp-setup config`: every setting's resolved value and where it came from (flag, env, file, gcloud)."""

from __future__ import annotations

import json

import click
from click.core import ParameterSource

from gcp_setup import envvars
from gcp_setup.config import (
    config_from_resolved,
    config_options,
    emulator_host_from_click,
    flags_from_click,
    merged_services,
    resolve_settings,
)
from gcp_setup.errors import EXIT_USAGE, UsageError


@click.command("config")
@config_options
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_context
def config(click_ctx: click.Context, output_format: str, **params) -> None:
    """Show the resolved settings and their sources, and whether they are valid.

    Precedence: flags, then environment variables, then gcp-setup.toml, then the active gcloud
    configuration's core/project, then the defaults."""
    resolved = resolve_settings(flags_from_click(params), toml_path=params.get("config_file"))
    emulator_host = emulator_host_from_click(click_ctx)
    problem = None
    try:
        config_from_resolved(resolved, emulator_host)
    except UsageError as exc:
        problem = exc.one_line()
    rows = {name: {"value": _printable(r.value), "source": r.source} for name, r in resolved.items()}
    rows["services"]["value"] = list(merged_services(resolved["services"].value))
    rows["emulator_host"] = {"value": emulator_host, "source": _emulator_source(click_ctx, emulator_host)}
    if output_format == "json":
        click.echo(json.dumps({"settings": rows, "valid": problem is None, "problem": problem}, indent=2))
    else:
        width = max(len(name) for name in rows)
        for name, row in rows.items():
            click.echo(f"{name:<{width}}  {_text(row['value']):<40}  {row['source']}")
    if problem:
        click.echo(f"Error: {problem}", err=True)
        click_ctx.exit(EXIT_USAGE)


def _emulator_source(click_ctx: click.Context, emulator_host: str | None) -> str:
    if emulator_host is None:
        return "default (Google Cloud)"
    source = click_ctx.parent.get_parameter_source("emulator_host") if click_ctx.parent else None
    return "flag --emulator-host" if source is ParameterSource.COMMANDLINE else f"env {envvars.EMULATOR_HOST}"


def _printable(value):
    if isinstance(value, tuple):
        return list(value)
    return value


def _text(value) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return ",".join(value) or "(none)"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    return str(value)
