"""`gcp-setup destroy`: remove what gcp-setup created, for ephemeral (CI) projects. What goes, and
what stays, is said in gcp_setup/steps/teardown.py."""

from __future__ import annotations

import functools
from typing import Any

import click

from gcp_setup.commands.common import finish, format_option
from gcp_setup.commands.fleet import one_or_many
from gcp_setup.commands.options import config_of, settings_command
from gcp_setup.errors import EXIT_FAILED
from gcp_setup.steps import teardown_steps
from gcp_setup.workflow.project import plan_then_apply


@settings_command("destroy")
@click.option("--delete-project", is_flag=True, help="Also delete the project (restorable for 30 days).")
@click.option(
    "--force", is_flag=True, help="With --delete-project: delete it even if gcp-setup did not create it."
)
@click.option("--yes", "-y", is_flag=True, help="Destroy without asking (required when not interactive).")
@format_option
@click.pass_context
@one_or_many("destroy")
def destroy(
    click_ctx: click.Context,
    /,
    delete_project: bool,
    force: bool,
    yes: bool,
    output_format: str,
    **settings: Any,
) -> None:
    """Remove what gcp-setup created: the API key, the service account and its role bindings, the
    credentials file; the project only with --delete-project. A second destroy changes nothing."""
    from gcp_setup.output import report

    config = config_of(click_ctx)
    human = output_format == "table"
    if human:
        click.echo(report.header(config, "destroy"), err=True)
    steps = functools.partial(teardown_steps, delete_project, force)
    run, render, _ = plan_then_apply(config, steps, yes=yes, human=human, destroy=True)
    finish(click_ctx, run, config, output_format, render)
    if not run.ok:
        click_ctx.exit(EXIT_FAILED)
