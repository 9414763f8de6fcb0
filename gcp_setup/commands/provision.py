"""`gcp-setup plan`, `apply` and `status`: run the provisioning steps through the engine.

Exit codes: 0 done (or nothing to do), 1 a step failed, 2 bad usage; `plan --detailed-exitcode`
returns 2 when changes are pending, as terraform does, for CI drift checks.
"""

from __future__ import annotations

import logging
import sys
import traceback

import click

from gcp_setup.config import Config, config_from_click, config_options
from gcp_setup.errors import EXIT_FAILED, UsageError

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["human", "json"]),
    default="human",
    show_default=True,
    help="json: one machine-readable document on stdout (no secrets).",
)


def run_steps(config: Config, mode: str, *, human: bool):
    """Build the session and context, run every provisioning step in `mode`, return the RunResult."""
    from gcp_setup.engine import Engine
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.report import Progress
    from gcp_setup.steps import Context, provision_steps

    # google-api-python-client logs every 4xx as a warning; a 403 for a project still to be created
    # is an expected answer here, and a real failure is reported by the step itself.
    logging.getLogger("googleapiclient.http").setLevel(logging.ERROR)
    session = GoogleSession.create(config.emulator_host, quota_project=config.project)
    ctx = Context(config, session)
    if human:
        ctx.progress = Progress()
    return Engine().run(provision_steps(), ctx, mode)  # type: ignore[arg-type]


def _finish(click_ctx: click.Context, run, config: Config, output_format: str, render) -> None:
    from gcp_setup import report

    _debug_tracebacks(click_ctx, run)
    if output_format == "json":
        click.echo(report.to_json(run, config))
        return
    click.echo(render(run))
    if config.show_secrets and report.render_secrets(run):
        click.echo(report.render_secrets(run))


def _debug_tracebacks(click_ctx: click.Context, run) -> None:
    from gcp_setup.cli import GlobalOptions

    options = click_ctx.find_object(GlobalOptions)
    if options and options.debug:
        for result in run.results:
            if result.error is not None:
                traceback.print_exception(result.error, file=sys.stderr)


def _observe_all(click_ctx: click.Context, params: dict, mode: str, output_format: str, render):
    """plan and status: resolve the settings, run every step without changing anything, print."""
    from gcp_setup import report

    config = config_from_click(click_ctx, params)
    if output_format == "human":
        click.echo(report.header(config, mode), err=True)
    run = run_steps(config, mode, human=output_format == "human")
    _finish(click_ctx, run, config, output_format, render)
    return run


@click.command("plan")
@config_options
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when changes are pending, 0 when none, 1 on error."
)
@format_option
@click.pass_context
def plan(click_ctx: click.Context, detailed_exitcode: bool, output_format: str, **params) -> None:
    """Show what `apply` would change: + create, ~ update, - delete, = unchanged. Changes nothing."""
    from gcp_setup import report

    run = _observe_all(click_ctx, params, "plan", output_format, report.render_plan)
    if not run.ok:
        click_ctx.exit(EXIT_FAILED)
    if detailed_exitcode and run.changes_pending:
        click_ctx.exit(2)


@click.command("status")
@config_options
@format_option
@click.pass_context
def status(click_ctx: click.Context, output_format: str, **params) -> None:
    """Show the observed state of every step, and whether `apply` has anything left to do."""
    from gcp_setup import report

    run = _observe_all(click_ctx, params, "status", output_format, report.render_status)
    if not run.ok:
        click_ctx.exit(EXIT_FAILED)


@click.command("apply")
@config_options
@click.option("--yes", "-y", is_flag=True, help="Apply without asking (required when not interactive).")
@format_option
@click.pass_context
def apply(click_ctx: click.Context, yes: bool, output_format: str, **params) -> None:
    """Make the project ready for Gemini: every step, in dependency order, idempotently.

    Without --yes it first shows the plan and asks; with --yes it applies at once. A second run
    changes nothing."""
    from gcp_setup import report

    config = config_from_click(click_ctx, params)
    human = output_format == "human"
    if human:
        click.echo(report.header(config, "apply"), err=True)
    if not yes:
        planned = run_steps(config, "plan", human=human)
        if not planned.changes_pending:
            _finish(click_ctx, planned, config, output_format, report.render_plan)
            click_ctx.exit(0 if planned.ok else EXIT_FAILED)
        _confirm(planned, human)
    run = run_steps(config, "apply", human=human)
    _finish(click_ctx, run, config, output_format, report.render_summary)
    if not run.ok:
        click_ctx.exit(EXIT_FAILED)


def _confirm(planned, human: bool) -> None:
    """Ask before changing anything; refuse when nobody can answer (CI, pipes)."""
    from gcp_setup import report

    if not (sys.stdin.isatty() and human):
        raise UsageError("changes are pending and nobody can confirm them here; pass --yes to apply them")
    click.echo(report.render_plan(planned), err=True)
    if not click.confirm("Apply these changes?", default=False, err=True):
        click.echo("Apply cancelled; nothing was changed.", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)  # as terraform does
