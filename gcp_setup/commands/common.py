"""What the commands that run steps share: the --format option, running steps through the engine,
asking before changes, and printing the result."""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, Any

import click

from gcp_setup.settings.config import Config

if TYPE_CHECKING:
    from pathlib import Path

    from gcp_setup.engine import RunResult
    from gcp_setup.output.report import Render

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: for people (progress on stderr); json: one document on stdout (no secrets).",
)


STANDARD_KEY_WARNING = (
    "warning: --api-key-type standard: the Gemini API rejects standard API keys since September 2026 "
    "(400 API_KEY_INVALID); such a key only serves tools and APIs that still take one. The default, "
    "--api-key-type auth, binds the key to the service account."
)


def warn_about(config: Config) -> None:
    """Settings that are valid but probably not what the user wants, said once on stderr."""
    if config.api_key and config.api_key_type == "standard":
        click.echo(STANDARD_KEY_WARNING, err=True)


def finish(
    click_ctx: click.Context,
    run: RunResult,
    config: Config,
    output_format: str,
    render: Render,
    smoke: Any = None,
) -> None:
    from gcp_setup.output import report

    report.clear_live_line()
    debug_tracebacks(click_ctx, run)
    if output_format == "json":
        command = click_ctx.info_name or run.mode
        click.echo(report.to_json(run, config, command, smoke.document() if smoke else None))
        return
    click.echo(render(run))
    if config.show_secrets and (secrets := report.render_secrets(run)):
        click.echo(secrets)
    if smoke:
        click.echo(smoke.table())


def debug_tracebacks(click_ctx: click.Context, run: RunResult) -> None:
    from gcp_setup.commands.options import GlobalOptions

    options = click_ctx.find_object(GlobalOptions)
    if options and options.debug:
        for result in run.results:
            if result.error is not None:
                traceback.print_exception(result.error, file=sys.stderr)


def warn_about_environment(env_file: Path | None) -> None:
    """One line per variable of the shell that overrides what the .env means to google-genai or openai."""
    from gcp_setup.verify.environment import env_file_warnings

    for line in env_file_warnings(env_file):
        click.echo(f"warning: {line}", err=True)
