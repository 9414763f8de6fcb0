"""`gcp-setup config`: every setting's resolved value and where it came from (flag, env, file, gcloud,
default). It resolves as every other command does, so it is the reference of what they use."""

from __future__ import annotations

from typing import Any

import click

from gcp_setup.commands.options import resolution, settings_command
from gcp_setup.errors import EXIT_USAGE, UsageError
from gcp_setup.output import schema
from gcp_setup.settings.config import build_config


@settings_command("config")
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_context
def config(click_ctx: click.Context, /, output_format: str, **settings: Any) -> None:
    """Show the resolved settings and their sources, and whether they are valid.

    Precedence: flags, then environment variables, then gcp-setup.toml, then the active gcloud
    configuration's core/project, then the defaults."""
    resolved = resolution(click_ctx)
    problem = None
    try:
        build_config(resolved)
    except UsageError as exc:
        problem = exc.one_line()
    rows = {name: {"value": _printable(r.value), "source": r.source} for name, r in resolved.items()}
    if output_format == "json":
        body = {"settings": rows, "valid": problem is None, "problem": problem}
        click.echo(schema.dumps(schema.document("config", body)))
    else:
        width = max(len(name) for name in rows)
        for name, row in rows.items():
            click.echo(f"{name:<{width}}  {_text(row['value']):<40}  {row['source']}")
    if problem:
        click.echo(f"Error: {problem}", err=True)
        click_ctx.exit(EXIT_USAGE)


def _printable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return ",".join(value) or "(none)"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    return str(value)
