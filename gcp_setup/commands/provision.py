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
from typing import TYPE_CHECKING, Any

import click

from gcp_setup.commands.common import (
    finish,
    format_option,
    new_session,
    plan_then_apply,
    run_steps,
    warn_about,
    warn_about_environment,
)
from gcp_setup.commands.options import config_of, settings_command, values_of
from gcp_setup.config import Config
from gcp_setup.errors import EXIT_CHANGES, EXIT_FAILED
from gcp_setup.steps import Outcome, after_smoke_test_steps, provision_steps
from gcp_setup.verify.smoke import SmokeTest, step_output

if TYPE_CHECKING:
    from gcp_setup.commands.common import Render
    from gcp_setup.engine import RunResult
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.steps.base import ProgressCallback, Step
    from gcp_setup.verify.core import CheckResult

RETIRE_STEP = "old_keys"
"""The step that waits for the smoke test (steps/retire_keys.py); present in a run that planned it."""


def _observe_all(click_ctx: click.Context, mode: str, output_format: str, render: Callable[..., str]) -> None:
    """plan and status: resolve the settings, run every step without changing anything, print, and exit
    1 when a step failed; with --detailed-exitcode 2 when changes are pending (else 0). Of a fleet file,
    every project (commands/fleet.py)."""
    from gcp_setup import report
    from gcp_setup.commands.fleet import fleet_file, run_fleet_command

    if fleet_file(click_ctx):
        detailed = values_of(click_ctx)["detailed_exitcode"]
        return run_fleet_command(click_ctx, mode, output_format, detailed_exitcode=detailed)
    config = config_of(click_ctx)
    warn_about(config)
    if output_format == "table":
        click.echo(report.header(config, mode), err=True)
    if mode == "status":
        render = functools.partial(render, config=config)  # its last line names the settings it compared
    session = new_session(config)
    run = run_steps(config, all_steps(config), mode, human=output_format == "table", session=session)
    finish(click_ctx, run, config, output_format, render)
    if mode == "plan" and run.changes_pending:  # as apply does, even when another step failed
        from gcp_setup import permissions

        permissions.check(session, config.project, run)  # the writes apply would need, named now
    if not run.ok:
        click_ctx.exit(EXIT_FAILED)
    if config.detailed_exitcode and run.changes_pending:
        click_ctx.exit(EXIT_CHANGES)


@settings_command("plan")
@format_option
@click.pass_context
def plan(click_ctx: click.Context, /, output_format: str, **settings: Any) -> None:
    """Show what `apply` would change: + create, ~ update, - delete, = unchanged. Changes nothing."""
    from gcp_setup import report

    _observe_all(click_ctx, "plan", output_format, report.render_plan)


@settings_command("status")
@format_option
@click.pass_context
def status(click_ctx: click.Context, /, output_format: str, **settings: Any) -> None:
    """Show the observed state of every step, and whether `apply` has anything left to do."""
    from gcp_setup import report

    _observe_all(click_ctx, "status", output_format, report.render_status)


@settings_command("apply")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking (required when not interactive).")
@format_option
@click.pass_context
def apply(click_ctx: click.Context, /, yes: bool, output_format: str, **settings: Any) -> None:
    """Make the project ready for Gemini: every step, in dependency order, idempotently, then prove
    it works with verify's checks (--no-verify skips them).

    Without --yes it first shows the plan and asks; with --yes it applies at once. A second run
    changes nothing."""
    from gcp_setup import github_actions, report
    from gcp_setup.commands.fleet import fleet_file, run_fleet_command

    if fleet_file(click_ctx):
        return run_fleet_command(click_ctx, "apply", output_format, yes=yes)
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
    from gcp_setup.federations import GITHUB, GITLAB, github_actions_snippet, gitlab_ci_snippet

    for federation, snippet in ((GITHUB, github_actions_snippet), (GITLAB, gitlab_ci_snippet)):
        result = run.by_name(federation.step)
        if result is not None and step_output(run, federation.step, "workload_identity_provider"):
            click.echo(snippet(result.outputs))


def _print_next_steps(config: Config, run: RunResult) -> None:
    from gcp_setup import outputs

    values = outputs.outputs_of(run, config, new_session(config))
    if values is not None:
        click.echo(outputs.next_steps(values))


def say(message: str) -> None:
    from gcp_setup import report

    report.clear_live_line()
    click.echo(message, err=True)


def apply_project(
    config: Config,
    *,
    yes: bool,
    human: bool,
    session: GoogleSession | None = None,
    progress: ProgressCallback | None = None,
    tell: Callable[[str], None] = say,
    locked: bool = False,
) -> tuple[RunResult, Render, SmokeTest | None]:
    """apply's work on one project: plan, apply, the smoke test, then the steps that wait for it.
    Returns (the run, how to render it, the smoke test or None)."""
    run, render, session = plan_then_apply(
        config,
        lambda: provision_steps(config),
        yes=yes,
        human=human,
        plan_also=after_smoke_test_steps,
        session=session,
        progress=progress,
        locked=locked,
    )
    on_check = _live_check if human and progress is None else None  # a fleet has its own line
    smoke = SmokeTest.run(config, run, session, tell, on_check) if run.ok and config.verify else None
    if run.mode == "apply" and run.by_name(RETIRE_STEP) is None:
        run = _after_smoke_test(config, run, smoke, human, session, progress)
    return run, render, smoke


def _live_check(result: CheckResult) -> None:
    from gcp_setup import report

    report.show_live_line(f"[verify] {result.name}: {result.status} ({result.latency_ms} ms)")


def announce_generated(project: str, human: bool) -> None:
    """--project-prefix made the ID: say it (in GitHub Actions, publish_apply hands it to the next steps
    as the output project_id)."""
    if human:
        click.echo(f"project ID generated: {project}", err=True)


def all_steps(config: Config) -> list[Step]:
    """What plan and status show: every step, those apply runs after its smoke test included."""
    return provision_steps(config) + after_smoke_test_steps()


def _after_smoke_test(
    config: Config,
    run: RunResult,
    smoke: SmokeTest | None,
    human: bool,
    session: GoogleSession,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """The run with the steps that wait for the smoke test (deleting replaced keys): applied when it
    passed or was not asked for, else only planned and reported as blocked by it."""
    from dataclasses import replace

    from gcp_setup.engine import RunResult

    if not run.ok:
        return run
    proven = smoke is None or smoke.proves_the_keys
    later = run_steps(
        config,
        after_smoke_test_steps(),
        "apply" if proven else "plan",
        human=human,
        session=session,
        upstream=run,
        progress=progress,
    )
    results = later.results
    if not proven:
        results = [
            replace(r, outcome=Outcome.BLOCKED, detail=f"blocked by the smoke test: kept {r.detail}")
            if r.outcome is Outcome.PLANNED
            else r
            for r in results
        ]
    return RunResult(run.mode, run.results + results)
