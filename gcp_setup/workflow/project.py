"""Plan then apply on one project: the steps through the engine, the guards before the first write (safe
secret destinations, the lock on the secret files, bad input, missing permissions), the question before
changes, and apply's smoke test with the steps that wait for it. A single run calls it once; a fleet
(gcp_setup/fleet/) maps it over its entries with a session and progress of its own."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

import click

from gcp_setup.engine import Engine, RunResult
from gcp_setup.engine.graph import Mode
from gcp_setup.engine.speculation import ONE_PROJECT, Schedule
from gcp_setup.errors import UsageError
from gcp_setup.google.session import GoogleSession
from gcp_setup.google.transport import import_client_libraries
from gcp_setup.guards import permissions
from gcp_setup.guards.locks import exclusive
from gcp_setup.guards.preflight import check_secret_destinations
from gcp_setup.output import report
from gcp_setup.output.report import Progress, Render
from gcp_setup.settings.config import Config
from gcp_setup.steps import Context, Outcome, PreconditionFailed, after_smoke_test_steps, provision_steps
from gcp_setup.steps.adc.kind import FILE_MODES, credentials_file
from gcp_setup.steps.base import ProgressCallback, Step
from gcp_setup.steps.secret_files import secret_paths
from gcp_setup.verify.core import CheckResult
from gcp_setup.verify.smoke import SmokeTest
from gcp_setup.workflow.confirm import confirm


def new_session(config: Config) -> GoogleSession:
    """The GoogleSession of one command run: a plan and the apply after it share it (its clients, its
    credentials, the API key string it read)."""
    return GoogleSession.create(config.emulator_host, config.billing_project)


@dataclass(frozen=True)
class Surroundings:
    """Where a project's workflow runs: alone (the defaults: a session of its own, progress on stderr when
    a person watches, the engine's one-project schedule), or in a fleet, which hands each project its one
    session, the project's progress line and its schedule, and holds the secret files' lock already."""

    session: GoogleSession | None = None
    progress: ProgressCallback | None = None
    schedule: Schedule = ONE_PROJECT
    locked: bool = False


ALONE = Surroundings()


def run_steps(
    config: Config,
    steps: list[Step],
    mode: Mode,
    *,
    human: bool,
    around: Surroundings = ALONE,
    after: RunResult | None = None,
    upstream: RunResult | None = None,
) -> RunResult:
    """Run `steps` in `mode` (with a new session unless `around` has one); return the RunResult. `after`:
    the plan an apply carries out (its observations are reused); `upstream`: the RunResult of the steps
    run before these, whose outputs they read."""
    # google-api-python-client logs every 4xx as a warning; a 403 for a project still to be created
    # is an expected answer here, and a real failure is reported by the step itself.
    logging.getLogger("googleapiclient.http").setLevel(logging.ERROR)
    import_client_libraries()
    ctx = Context(config, around.session or new_session(config))
    if upstream is not None:
        ctx.outputs.update({r.name: r.outputs for r in upstream.results})
    if around.progress is not None or human:
        ctx.progress = around.progress or Progress()
    return Engine(around.schedule).run(steps, ctx, mode, after)


def plan_then_apply(
    config: Config,
    steps: Callable[[], list[Step]],
    *,
    yes: bool,
    human: bool,
    destroy: bool = False,
    plan_also: Callable[[], list[Step]] | None = None,
    around: Surroundings = ALONE,
) -> tuple[RunResult, Render, GoogleSession]:
    """The one way changes are made: refuse unsafe secret destinations; then, holding the secret files'
    lock, plan (reads only), refuse bad input the plan found and writes the caller lacks permissions
    for, stop at a failed precondition (nothing written: the plan is the result), ask unless --yes, and
    apply the plan (its observations reused). `steps()` makes the step list; `plan_also()` steps the
    plan shows but the caller applies later; `destroy`: they delete (no secret file is written);
    `around`: alone, or in a fleet (Surroundings).
    Returns (the run, how to render it, the session)."""
    if not destroy:
        check_destinations(config)
    session = around.session or new_session(config)
    around = replace(around, session=session)
    run = functools.partial(run_steps, config, human=human, around=around)
    lock = (
        contextlib.nullcontext() if around.locked else secret_files_locked(config, human, writes=not destroy)
    )
    with lock:
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
            question = "Destroy these resources?" if destroy else "Apply these changes?"
            confirm(report.render_plan(planned), human, question)
        applied = run(steps(), "apply", after=planned)
    return applied, report.render_summary, session


def check_destinations(config: Config) -> None:
    """Where provisioning writes secret files must be safe (gcp_setup/guards/preflight.py)."""
    check_secret_destinations(config, configured_credentials_file(config))


def configured_credentials_file(config: Config) -> Path | None:
    """The credentials file the configured mode writes (impersonate, key-file), else None."""
    return credentials_file(config) if config.credentials in FILE_MODES else None


def refuse_bad_input(planned: RunResult) -> None:
    """A setting the plan found wrong (a billing account, service or role Google does not know) stops
    the run before any write, as a usage error."""
    for result in planned.results:
        if result.outcome is Outcome.FAILED and isinstance(result.error, UsageError):
            raise result.error


def secret_files_locked(
    config: Config, human: bool, *more: Config, writes: bool = True
) -> AbstractContextManager[None]:
    """The lock concurrent runs on the same secret files take turns with (gcp_setup/guards/locks.py): of
    `config`'s files, and of `more` configs' (a fleet's, held once by its one process). `writes`: the
    run writes them (apply); destroy only removes, so it locks the directories that exist."""

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


RETIRE_STEP = "old_keys"
"""The step that waits for the smoke test (steps/retire_keys.py); present in a run that planned it."""


def say(message: str) -> None:

    report.clear_live_line()
    click.echo(message, err=True)


def apply_project(
    config: Config,
    *,
    yes: bool,
    human: bool,
    around: Surroundings = ALONE,
    tell: Callable[[str], None] = say,
) -> tuple[RunResult, Render, SmokeTest | None]:
    """apply's work on one project: plan, apply, the smoke test, then the steps that wait for it.
    Returns (the run, how to render it, the smoke test or None)."""
    run, render, session = plan_then_apply(
        config,
        lambda: provision_steps(config),
        yes=yes,
        human=human,
        plan_also=after_smoke_test_steps,
        around=around,
    )
    around = replace(around, session=session)
    on_check = _live_check if human and around.progress is None else None  # a fleet has its own line
    smoke = SmokeTest.run(config, run, session, tell, on_check) if run.ok and config.verify else None
    if run.mode == "apply" and run.by_name(RETIRE_STEP) is None:
        run = _after_smoke_test(config, run, smoke, human, around)
    return run, render, smoke


def _live_check(result: CheckResult) -> None:

    report.show_live_line(f"[verify] {result.name}: {result.status} ({result.latency_ms} ms)")


def all_steps(config: Config) -> list[Step]:
    """What plan and status show: every step, those apply runs after its smoke test included."""
    return provision_steps(config) + after_smoke_test_steps()


def _after_smoke_test(
    config: Config, run: RunResult, smoke: SmokeTest | None, human: bool, around: Surroundings
) -> RunResult:
    """The run with the steps that wait for the smoke test (deleting replaced keys): applied when it
    passed or was not asked for, else only planned and reported as blocked by it."""
    if not run.ok:
        return run
    proven = smoke is None or smoke.proves_the_keys
    later = run_steps(
        config,
        after_smoke_test_steps(),
        "apply" if proven else "plan",
        human=human,
        upstream=run,
        around=around,
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
