"""What the commands that run steps share: the --format option, running steps through the engine,
asking before changes, and printing the result."""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import click

from gcp_setup.config import Config
from gcp_setup.errors import EXIT_FAILED, UsageError

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: for people (progress on stderr); json: one document on stdout (no secrets).",
)


def new_session(config: Config):
    """The GoogleSession of one command run: a plan and the apply after it share it (its clients, its
    credentials, the API key string it read)."""
    from gcp_setup.google.session import GoogleSession

    return GoogleSession.create(config.emulator_host, quota_project=config.project)


def run_steps(config: Config, steps: list, mode: str, *, human: bool, session=None, after=None):
    """Run `steps` in `mode` (with a new session unless given one); return the RunResult. `after`: the
    RunResult of the steps run before these, whose outputs they may read."""
    from gcp_setup.engine import Engine
    from gcp_setup.google.session import import_client_libraries
    from gcp_setup.report import Progress
    from gcp_setup.steps import Context

    # google-api-python-client logs every 4xx as a warning; a 403 for a project still to be created
    # is an expected answer here, and a real failure is reported by the step itself.
    logging.getLogger("googleapiclient.http").setLevel(logging.ERROR)
    import_client_libraries()
    session = session or new_session(config)
    ctx = Context(config, session)
    if after is not None:
        ctx.outputs.update({r.name: r.outputs for r in after.results})
    if human:
        ctx.progress = Progress()
    return Engine().run(steps, ctx, mode)  # type: ignore[arg-type]


def finish(
    click_ctx: click.Context, run, config: Config, output_format: str, render, smoke: Any = None
) -> None:
    from gcp_setup import report

    debug_tracebacks(click_ctx, run)
    if output_format == "json":
        click.echo(report.to_json(run, config, smoke.document() if smoke else None))
        return
    click.echo(render(run))
    if config.show_secrets and (secrets := report.render_secrets(run)):
        click.echo(secrets)
    if smoke:
        click.echo(smoke.table())


def debug_tracebacks(click_ctx: click.Context, run) -> None:
    from gcp_setup.cli import GlobalOptions

    options = click_ctx.find_object(GlobalOptions)
    if options and options.debug:
        for result in run.results:
            if result.error is not None:
                traceback.print_exception(result.error, file=sys.stderr)


def confirm(planned, human: bool, question: str = "Apply these changes?") -> None:
    """Ask before changing anything; refuse when nobody can answer (CI, pipes)."""
    from gcp_setup import report

    if not (sys.stdin.isatty() and human):
        raise UsageError("changes are pending and nobody can confirm them here; pass --yes to make them")
    click.echo(report.render_plan(planned), err=True)
    if not click.confirm(question, default=False, err=True):
        click.echo("Cancelled; nothing was changed.", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)  # as terraform does
