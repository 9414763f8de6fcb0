"""`gcp-setup plan`, `apply` and `status`: run the provisioning steps through the engine.

`apply` ends with verify's smoke test of what it set up (unless --no-verify or a step failed); a re-run
that changes nothing verifies too, which is what a CI job re-running apply wants. Keys a new key
replaced are deleted only after that test has passed with the new one (after_smoke_test_steps).

Exit codes: 0 done (or nothing to do), 1 a step failed or the smoke test did, 2 bad usage. With
--detailed-exitcode (plan, status), as terraform has it: 0 nothing to do, 2 changes pending, 1 anything
else, bad usage included (cli.py makes it so even for a flag click refuses). docs/verify.md has the table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from gcp_setup.commands.common import finish, format_option, warn_about, warn_about_environment
from gcp_setup.commands.fleet import one_or_many
from gcp_setup.commands.options import config_of, settings_command
from gcp_setup.engine import RunResult
from gcp_setup.engine.graph import Mode
from gcp_setup.errors import EXIT_CHANGES, EXIT_FAILED
from gcp_setup.settings.config import Config
from gcp_setup.verify.smoke import step_output
from gcp_setup.workflow.project import Surroundings, all_steps, apply_project, new_session, run_steps


def _observe_all(
    click_ctx: click.Context, mode: Mode, output_format: str, render: Callable[..., str]
) -> None:
    """plan and status: resolve the settings, run every step without changing anything, print, and exit
    1 when a step failed; with --detailed-exitcode 2 when changes are pending (else 0)."""
    from gcp_setup.output import report

    config = config_of(click_ctx)
    warn_about(config)
    if output_format == "table":
        click.echo(report.header(config, mode), err=True)
    if mode == "status":
        render = functools.partial(render, config=config)  # its last line names the settings it compared
    session = new_session(config)
    around = Surroundings(session)
    run = run_steps(config, all_steps(config), mode, human=output_format == "table", around=around)
    finish(click_ctx, run, config, output_format, render)
    if mode == "plan" and run.changes_pending:  # as apply does, even when another step failed
        from gcp_setup.guards import permissions

        permissions.check(session, config.project, run)  # the writes apply would need, named now
    if not run.ok:
        click_ctx.exit(EXIT_FAILED)
    if config.detailed_exitcode and run.changes_pending:
        click_ctx.exit(EXIT_CHANGES)


@settings_command("plan")
@format_option
@click.pass_context
@one_or_many("plan")
def plan(click_ctx: click.Context, /, output_format: str, **settings: Any) -> None:
    """Show what `apply` would change: + create, ~ update, - delete, = unchanged. Changes nothing."""
    from gcp_setup.output import report

    _observe_all(click_ctx, "plan", output_format, report.render_plan)


@settings_command("status")
@format_option
@click.pass_context
@one_or_many("status")
def status(click_ctx: click.Context, /, output_format: str, **settings: Any) -> None:
    """Show the observed state of every step, and whether `apply` has anything left to do."""
    from gcp_setup.output import report

    _observe_all(click_ctx, "status", output_format, report.render_status)


@settings_command("apply")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking (required when not interactive).")
@format_option
@click.pass_context
@one_or_many("apply")
def apply(click_ctx: click.Context, /, yes: bool, output_format: str, **settings: Any) -> None:
    """Make the project ready for Gemini: every step, in dependency order, idempotently, then prove
    it works with verify's checks (--no-verify skips them).

    Without --yes it first shows the plan and asks; with --yes it applies at once. A second run
    changes nothing."""
    from gcp_setup.output import github_actions, report

    config = config_of(click_ctx)
    warn_about(config)
    human = output_format == "table"
    if human:
        click.echo(report.header(config, "apply"), err=True)
    if config.project_prefix:
        announce_generated(config.project, human)
    run, render, smoke = apply_project(config, yes=yes, human=human)
    finish(click_ctx, run, config, output_format, render, smoke)
    warn_about_environment(config.env_file)
    github_actions.publish_apply(config, run, smoke)
    if human and run.ok:
        _print_ci_snippets(run)
        if not smoke or smoke.passed:
            _print_next_steps(config, run)
    if not run.ok:
        click_ctx.exit(EXIT_FAILED)
    if smoke and not smoke.passed:
        click.echo(f"apply succeeded; the smoke test failed: {smoke.failures()}", err=True)
        click_ctx.exit(EXIT_FAILED)


def _print_ci_snippets(run: RunResult) -> None:
    """How a CI job authenticates with the federation apply set up, no key involved."""
    from gcp_setup.google.federations import GITHUB, GITLAB, github_actions_snippet, gitlab_ci_snippet

    for federation, snippet in ((GITHUB, github_actions_snippet), (GITLAB, gitlab_ci_snippet)):
        result = run.by_name(federation.step)
        if result is not None and step_output(run, federation.step, "workload_identity_provider"):
            click.echo(snippet(result.outputs))


def _print_next_steps(config: Config, run: RunResult) -> None:
    from gcp_setup.output import values as outputs

    values = outputs.outputs_of(run, config, new_session(config))
    if values is not None:
        click.echo(outputs.next_steps(values))


def announce_generated(project: str, human: bool) -> None:
    """--project-prefix made the ID: say it (in GitHub Actions, publish_apply hands it to the next steps
    as the output project_id)."""
    if human:
        click.echo(f"project ID generated: {project}", err=True)
