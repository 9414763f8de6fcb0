"""What each project of a fleet runs: the single run's workflow (gcp_setup/workflow/project.py), with the
fleet's session and the project's progress line, and nothing asked (the fleet asks once for all)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from gcp_setup.engine import RunResult
from gcp_setup.engine.graph import Mode
from gcp_setup.engine.speculation import Schedule
from gcp_setup.fleet.run import Work
from gcp_setup.google.session import GoogleSession
from gcp_setup.settings.config import Config
from gcp_setup.steps import teardown_steps
from gcp_setup.steps.base import ProgressCallback, Step
from gcp_setup.verify.smoke import SmokeTest
from gcp_setup.workflow.project import Surroundings, all_steps, apply_project, plan_then_apply, run_steps

StepsOf = Callable[[Config], list[Step]]
"""The steps a command runs on one project of the fleet."""


def teardown(delete_project: bool, force: bool, config: Config) -> list[Step]:
    """destroy's steps for each project (the same for all: the flags are the command line's)."""
    return teardown_steps(delete_project, force)


def work_of(command: str, teardown_of: StepsOf, schedule: Schedule) -> Work:
    """The work of `command` on one project of a fleet whose runs go by `schedule`."""
    if command in ("plan", "status"):
        return plan_work("plan" if command == "plan" else "status", schedule)
    if command == "apply":
        return functools.partial(apply_work, schedule)
    return functools.partial(destroy_work, teardown_of, schedule)


def plan_work(mode: Mode, schedule: Schedule, steps_of: StepsOf | None = None) -> Work:
    """plan or status of each project: apply's steps, or `steps_of(config)`'s."""

    def work(config: Config, session: GoogleSession, progress: ProgressCallback) -> tuple[RunResult, None]:
        steps = (steps_of or all_steps)(config)
        return run_steps(config, steps, mode, human=False, around=in_fleet(session, progress, schedule)), None

    return work


def apply_work(
    schedule: Schedule, config: Config, session: GoogleSession, progress: ProgressCallback
) -> tuple[RunResult, SmokeTest | None]:
    def tell(message: str) -> None:
        progress("verify", message)

    around = in_fleet(session, progress, schedule)
    run, _, smoke = apply_project(config, yes=True, human=False, around=around, tell=tell)
    return run, smoke


def destroy_work(
    teardown_of: StepsOf,
    schedule: Schedule,
    config: Config,
    session: GoogleSession,
    progress: ProgressCallback,
) -> tuple[RunResult, None]:
    steps = functools.partial(teardown_of, config)
    around = in_fleet(session, progress, schedule)
    run, _, _ = plan_then_apply(config, steps, yes=True, human=False, destroy=True, around=around)
    return run, None


def in_fleet(session: GoogleSession, progress: ProgressCallback, schedule: Schedule) -> Surroundings:
    """A project's surroundings in the fleet: its session and schedule, the project's progress line, and
    the secret files' lock, which the fleet holds for all its projects."""
    return Surroundings(session, progress, schedule, locked=True)
