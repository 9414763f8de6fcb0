"""What the commands that run steps share: the --format option, running steps through the engine,
asking before changes, and printing the result."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from gcp_setup.config import Config
from gcp_setup.errors import EXIT_FAILED, UsageError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from pathlib import Path

    from gcp_setup.engine import RunResult
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.steps.base import ProgressCallback, Step

Render = Callable[["RunResult"], str]
"""How a run is printed (report.render_plan, render_summary, render_status)."""

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: for people (progress on stderr); json: one document on stdout (no secrets).",
)


def new_session(config: Config) -> GoogleSession:
    """The GoogleSession of one command run: a plan and the apply after it share it (its clients, its
    credentials, the API key string it read)."""
    from gcp_setup.google.session import GoogleSession

    return GoogleSession.create(config.emulator_host, config.billing_project)


STANDARD_KEY_WARNING = (
    "warning: --api-key-type standard: the Gemini API rejects standard API keys since September 2026 "
    "(400 API_KEY_INVALID); such a key only serves tools and APIs that still take one. The default, "
    "--api-key-type auth, binds the key to the service account."
)


def warn_about(config: Config) -> None:
    """Settings that are valid but probably not what the user wants, said once on stderr."""
    if config.api_key and config.api_key_type == "standard":
        click.echo(STANDARD_KEY_WARNING, err=True)


def run_steps(
    config: Config,
    steps: list[Step],
    mode: str,
    *,
    human: bool,
    session: GoogleSession | None = None,
    after: RunResult | None = None,
    upstream: RunResult | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run `steps` in `mode` (with a new session unless given one); return the RunResult. `after`: the
    plan an apply carries out (its observations are reused); `upstream`: the RunResult of the steps run
    before these, whose outputs they read; `progress`: where notes go (default: stderr when human)."""
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
    if upstream is not None:
        ctx.outputs.update({r.name: r.outputs for r in upstream.results})
    if progress is not None or human:
        ctx.progress = progress or Progress()
    return Engine().run(steps, ctx, mode, after)  # type: ignore[arg-type]


def finish(
    click_ctx: click.Context,
    run: RunResult,
    config: Config,
    output_format: str,
    render: Render,
    smoke: Any = None,
) -> None:
    from gcp_setup import report

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


def plan_then_apply(
    config: Config,
    steps: Callable[[], list[Step]],
    *,
    yes: bool,
    human: bool,
    destroy: bool = False,
    plan_also: Callable[[], list[Step]] | None = None,
    session: GoogleSession | None = None,
    progress: ProgressCallback | None = None,
    locked: bool = False,
) -> tuple[RunResult, Render, GoogleSession]:
    """The one way changes are made: refuse unsafe secret destinations; then, holding the secret files'
    lock, plan (reads only), refuse bad input the plan found and writes the caller lacks permissions
    for, stop at a failed precondition (nothing written: the plan is the result), ask unless --yes, and
    apply the plan (its observations reused). `steps()` makes the step list; `plan_also()` steps the
    plan shows but the caller applies later; `destroy`: they delete (no secret file is written);
    `session`, `progress`: a fleet's shared session and the project's progress line; `locked`: the
    caller holds the secret files' lock already (a fleet takes it once for all its projects).
    Returns (the run, how to render it, the session)."""
    from gcp_setup import permissions, report
    from gcp_setup.engine import RunResult
    from gcp_setup.steps import PreconditionFailed

    if not destroy:
        check_destinations(config)
    session = session or new_session(config)
    run = functools.partial(run_steps, config, human=human, session=session, progress=progress)
    with contextlib.nullcontext() if locked else secret_files_locked(config, human, writes=not destroy):
        shown = steps() + (plan_also() if plan_also else [])
        planned = run(shown, "plan")
        refuse_bad_input(planned)
        if any(isinstance(r.error, PreconditionFailed) for r in planned.results):
            return planned, report.render_plan, session
        if not planned.changes_pending:
            if yes:
                return RunResult("apply", planned.results), report.render_summary, session
            return planned, report.render_plan, session
        permissions.check(session, config.project, planned)
        if not yes:
            confirm(planned, human, "Destroy these resources?" if destroy else "Apply these changes?")
        applied = run(steps(), "apply", after=planned)
    return applied, report.render_summary, session


def check_destinations(config: Config) -> None:
    """Where provisioning writes secret files must be safe (gcp_setup/preflight.py)."""
    from gcp_setup.preflight import check_secret_destinations

    check_secret_destinations(config, configured_credentials_file(config))


def configured_credentials_file(config: Config) -> Path | None:
    """The credentials file the configured mode writes (impersonate, key-file), else None."""
    from gcp_setup.steps.adc import FILE_MODES, credentials_file

    return credentials_file(config) if config.credentials in FILE_MODES else None


def refuse_bad_input(planned: RunResult) -> None:
    """A setting the plan found wrong (a billing account, service or role Google does not know) stops
    the run before any write, as a usage error."""
    from gcp_setup.steps import Outcome

    for result in planned.results:
        if result.outcome is Outcome.FAILED and isinstance(result.error, UsageError):
            raise result.error


def secret_files_locked(
    config: Config, human: bool, *more: Config, writes: bool = True
) -> AbstractContextManager[None]:
    """The lock concurrent runs on the same secret files take turns with (gcp_setup/locks.py): of
    `config`'s files, and of `more` configs' (a fleet's, held once by its one process). `writes`: the
    run writes them (apply); destroy only removes, so it locks the directories that exist."""
    from gcp_setup.locks import exclusive
    from gcp_setup.steps import Context
    from gcp_setup.steps.secret_files import secret_paths

    def say(message: str) -> None:
        if human:
            click.echo(f"  {message}", err=True)

    configs = (config, *more)
    written = [p for c in configs for p in written_secret_paths(c)] if writes else []
    paths = [p for c in configs for p in secret_paths(Context(c, session=None))]  # type: ignore[arg-type]
    return exclusive(written, say, if_there=paths)


def written_secret_paths(config: Config) -> list[Path]:
    """The secret files `config` writes: its credentials mode's file, and the .env (a --credentials
    none run makes no directory for a credentials file)."""
    from pathlib import Path

    files = [configured_credentials_file(config), config.env_file and Path(config.env_file).expanduser()]
    return [f for f in files if f]


def debug_tracebacks(click_ctx: click.Context, run: RunResult) -> None:
    from gcp_setup.commands.options import GlobalOptions

    options = click_ctx.find_object(GlobalOptions)
    if options and options.debug:
        for result in run.results:
            if result.error is not None:
                traceback.print_exception(result.error, file=sys.stderr)


def confirm(planned: RunResult, human: bool, question: str = "Apply these changes?") -> None:
    """Ask before changing anything; refuse when nobody can answer (CI, pipes)."""
    from gcp_setup import report

    if not (sys.stdin.isatty() and human):
        raise UsageError("changes are pending and nobody can confirm them here; pass --yes to make them")
    click.echo(report.render_plan(planned), err=True)
    if not click.confirm(question, default=False, err=True):
        click.echo("Cancelled; nothing was changed.", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)  # as terraform does


def warn_about_environment(env_file: Path | None) -> None:
    """One line per variable of the shell that overrides what the .env means to google-genai or openai."""
    from gcp_setup.verify.environment import env_file_warnings

    for line in env_file_warnings(env_file):
        click.echo(f"warning: {line}", err=True)
