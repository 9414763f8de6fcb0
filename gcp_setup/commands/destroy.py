"""`gcp-setup destroy`: remove what gcp-setup created, for ephemeral (CI) projects. What goes, and
what stays, is said in gcp_setup/steps/teardown.py."""

from __future__ import annotations

import click

from gcp_setup.commands.common import confirm, finish, format_option, new_session, run_steps
from gcp_setup.config import config_from_click, config_options
from gcp_setup.errors import EXIT_FAILED
from gcp_setup.steps import teardown_steps


@click.command("destroy")
@config_options
@click.option("--delete-project", is_flag=True, help="Also delete the project (restorable for 30 days).")
@click.option("--yes", "-y", is_flag=True, help="Destroy without asking (required when not interactive).")
@format_option
@click.pass_context
def destroy(click_ctx: click.Context, delete_project: bool, yes: bool, output_format: str, **params) -> None:
    """Remove what gcp-setup created: the API key, the service account and its role bindings, the
    credentials file; the project only with --delete-project. A second destroy changes nothing."""
    from gcp_setup import report

    config = config_from_click(click_ctx, params)
    human = output_format == "table"
    if human:
        click.echo(report.header(config, "destroy"), err=True)
    steps, session = teardown_steps(delete_project), new_session(config)
    if not yes:
        planned = run_steps(config, steps, "plan", human=human, session=session)
        if not planned.changes_pending:
            finish(click_ctx, planned, config, output_format, report.render_plan)
            click_ctx.exit(0 if planned.ok else EXIT_FAILED)
        confirm(planned, human, "Destroy these resources?")
    run = run_steps(config, steps, "apply", human=human, session=session)
    finish(click_ctx, run, config, output_format, report.render_summary)
    if not run.ok:
        click_ctx.exit(EXIT_FAILED)
