"""`gcp-setup output` (terraform's `output`): the values apply produced, shown again. It resolves its
settings as `status` does and reads the live project the same way, changing nothing."""

from __future__ import annotations

from typing import Any

import click

from gcp_setup.commands.options import SettingsCommand, config_of, settings_params
from gcp_setup.errors import EXIT_FAILED
from gcp_setup.workflow.project import Surroundings, new_session, run_steps


@click.command("output", cls=SettingsCommand, params=settings_params("output"))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "env"]),
    default="table",
    show_default=True,
    help="table: for people; json: one document (no secrets unless --show-secrets); env: NAME=value lines.",
)
@click.pass_context
def output(click_ctx: click.Context, /, output_format: str, **settings: Any) -> None:
    """Show what apply set up: the project, the service account, the API key's name (its string only
    with --show-secrets), the endpoints, console links, and openai / google-genai code that uses them."""
    from gcp_setup.output import schema
    from gcp_setup.output import values as outputs
    from gcp_setup.verify.smoke import step_output
    from gcp_setup.workflow.project import all_steps

    config = config_of(click_ctx)
    session = new_session(config)
    run = run_steps(config, all_steps(config), "status", human=False, around=Surroundings(session))
    values = outputs.outputs_of(run, config, session, reveal=config.show_secrets)
    if values is None:
        create = "" if step_output(run, "project", "number") else " --create"
        click.echo(f"nothing applied in project {config.project} yet: run gcp-setup apply --project "
                   f"{config.project}{create} --env-file .env", err=True)  # fmt: skip
        click_ctx.exit(EXIT_FAILED)
    if output_format == "json":
        click.echo(schema.dumps(schema.document("output", values.document(config.show_secrets))))
    elif output_format == "env":
        click.echo(outputs.render_env(run, values, config, session))
    else:
        click.echo(outputs.render_table(values, config.show_secrets))
