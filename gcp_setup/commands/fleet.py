"""plan, status, apply, destroy and verify on a fleet file (gcp-setup.toml with `[[projects]]`): each
command's own work, per project, through gcp_setup/fleet.py.

Each entry resolves like a single-project run, with the entry's settings in place of the file's and
the entry's project ID whatever the environment says; flags given on the command line win over both.
Exit codes: 0 every project done, 1 any failed, 2 bad usage (in any entry: nothing is sent);
`plan --detailed-exitcode` 2 when any project has changes pending.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gcp_setup.commands.common import secret_files_locked
from gcp_setup.commands.options import resolution, resolve
from gcp_setup.config import Config, Resolved, TomlSection, build_config
from gcp_setup.errors import EXIT_CHANGES, EXIT_FAILED, UsageError

if TYPE_CHECKING:
    from gcp_setup.engine import RunResult
    from gcp_setup.fleet import ProjectResult, Work
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.steps.base import ProgressCallback, Step
    from gcp_setup.verify.smoke import SmokeTest

Teardown = Callable[[Config], "list[Step]"]


def fleet_file(click_ctx: click.Context) -> bool:
    """The settings file holds `[[projects]]`; --project then is a usage error (--only picks)."""
    entries = getattr(click_ctx.default_map, "fleet", ())
    if not entries and click_ctx.params.get("only"):
        raise UsageError("--only picks projects of a fleet file; this settings file has no [[projects]]")
    if entries and click_ctx.get_parameter_source("project") is click.core.ParameterSource.COMMANDLINE:
        raise UsageError("the settings file holds [[projects]]: pick some with --only ID,... not --project")
    return bool(entries)


def fleet_configs(click_ctx: click.Context, only: Sequence[str] | None = None) -> list[Config]:
    """The configs of the entries `only` names (default: --only's), all without it."""
    from gcp_setup.fleet import entry_configs, selected

    flags = {n: r for n, r in resolution(click_ctx).items() if r.source.startswith("flag")}
    only = click_ctx.params.get("only", ()) if only is None else only
    entries = selected(getattr(click_ctx.default_map, "fleet", ()), only)
    environ = getattr(click_ctx, "environ", None)
    no_gcloud_project = (None, "")  # each entry names its project: gcloud's core/project is never read

    def resolve_entry(entry: TomlSection) -> Config:
        resolved = resolve(click_ctx.command, environ=environ, toml=entry, gcloud_project=no_gcloud_project)
        project = entry.values.get("project")
        resolved["project"] = Resolved("project", project, f"{entry.label} project")
        return build_config({**resolved, **flags})

    return entry_configs(entries, resolve_entry)


def run_fleet_command(
    click_ctx: click.Context,
    command: str,
    output_format: str,
    *,
    yes: bool = False,
    detailed_exitcode: bool = False,
    delete_project: bool = False,
    force: bool = False,
) -> None:
    from gcp_setup.fleet import fleet_endpoints, fleet_session

    configs = fleet_configs(click_ctx)
    human = output_format == "table"
    session = fleet_session(*fleet_endpoints(configs))
    parallelism = click_ctx.params["parallelism"]
    teardown = functools.partial(_teardown, delete_project, force)
    if command in ("apply", "destroy") and not yes:
        planned = _run(
            configs,
            _plan_work("plan", teardown if command == "destroy" else None),
            session,
            parallelism,
            human,
        )
        if not any(r.changes_pending for r in planned) or any(not r.ok for r in planned):
            return _finish(click_ctx, "plan", planned, output_format, configs, detailed_exitcode)
        _confirm(planned, human, "Destroy" if command == "destroy" else "Apply")
    work = _work(command, teardown)
    writes = command != "destroy"
    locked = secret_files_locked(configs[0], human, *configs[1:], writes=writes) if configs else None
    with locked or contextlib.nullcontext():
        results = _run(configs, work, session, parallelism, human)
    _finish(click_ctx, command, results, output_format, configs, detailed_exitcode)


def run_fleet_verify(
    click_ctx: click.Context,
    only: Sequence[str],
    check: Callable[[Config, Mapping[str, str], Callable[[str], None]], Any],
    output_format: str,
) -> None:
    """verify on each entry `only` names (all without it): `check(config, environ, say)` with the
    environment and that entry's .env, which wins over it as in a single-project verify."""
    from gcp_setup.secrets import read_env_file

    if click_ctx.get_parameter_source("project") is click.core.ParameterSource.COMMANDLINE:
        raise UsageError("the settings file holds [[projects]]: pick some with --only ID,... not --project")
    configs = fleet_configs(click_ctx, only)  # each entry's .env is read here: unreadable, a usage error
    environ = getattr(click_ctx, "environ", os.environ)

    def work(config: Config, session: GoogleSession | None, progress: ProgressCallback) -> tuple[None, Any]:
        dotenv = read_env_file(Path(config.env_file).expanduser()) if config.env_file else {}
        return None, check(config, {**environ, **dotenv}, lambda message: progress("verify", message))

    results = _run(configs, work, None, click_ctx.params["parallelism"], output_format == "table")
    if click_ctx.params.get("junit"):
        from gcp_setup.verify import junit

        suites = {f"{junit.SUITE}: {r.project}": r.smoke.results for r in results if r.smoke is not None}
        secrets = [s for r in results if r.smoke is not None for s in r.smoke.vctx.secrets()]
        junit.write(click_ctx.params["junit"], suites, secrets)
    _finish(click_ctx, "verify", results, output_format, configs, False)


def _teardown(delete_project: bool, force: bool, config: Config) -> list[Step]:
    from gcp_setup.steps import teardown_steps

    return teardown_steps(delete_project, force)


def _work(command: str, teardown: Teardown) -> Work:
    if command in ("plan", "status"):
        return _plan_work(command)
    if command == "apply":
        return apply_work
    return functools.partial(_destroy_work, teardown)


def _plan_work(mode: str, steps_of: Teardown | None = None) -> Work:
    """plan or status of each project: apply's steps, or `steps_of(config)`'s."""
    from gcp_setup.commands.common import run_steps
    from gcp_setup.commands.provision import all_steps

    def work(config: Config, session: GoogleSession, progress: ProgressCallback) -> tuple[RunResult, None]:
        steps = (steps_of or all_steps)(config)
        return run_steps(config, steps, mode, human=False, session=session, progress=progress), None

    return work


def apply_work(
    config: Config, session: GoogleSession, progress: ProgressCallback
) -> tuple[RunResult, SmokeTest | None]:
    from gcp_setup.commands.provision import apply_project

    def tell(message: str) -> None:
        progress("verify", message)

    run, _, smoke = apply_project(
        config, yes=True, human=False, session=session, progress=progress, tell=tell, locked=True
    )
    return run, smoke


def _destroy_work(
    teardown: Teardown, config: Config, session: GoogleSession, progress: ProgressCallback
) -> tuple[RunResult, None]:
    from gcp_setup.commands.common import plan_then_apply

    steps = functools.partial(teardown, config)
    run, _, _ = plan_then_apply(
        config, steps, yes=True, human=False, destroy=True, session=session, progress=progress, locked=True
    )
    return run, None


def _run(
    configs: Sequence[Config], work: Work, session: GoogleSession | None, parallelism: int, human: bool
) -> list[ProjectResult]:
    from gcp_setup.fleet import run_fleet
    from gcp_setup.fleet_report import FleetProgress, Quiet

    if human:
        click.echo(
            f"gcp-setup: {len(configs)} project(s), {min(parallelism, len(configs))} at a time", err=True
        )
    display = FleetProgress() if human else Quiet()
    return run_fleet(configs, work, session=session, parallelism=parallelism, display=display)


def _confirm(planned: list[ProjectResult], human: bool, verb: str) -> None:
    from gcp_setup.fleet_report import render_table

    if not (sys.stdin.isatty() and human):
        raise UsageError("changes are pending and nobody can confirm them here; pass --yes to make them")
    click.echo(render_table(planned), err=True)
    pending = sum(r.changes_pending for r in planned)
    if not click.confirm(f"{verb} the changes to {pending} project(s)?", default=False, err=True):
        click.echo("Cancelled; nothing was changed.", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)


def _finish(
    click_ctx: click.Context,
    command: str,
    results: list[ProjectResult],
    output_format: str,
    configs: Sequence[Config],
    detailed_exitcode: bool,
) -> None:
    from gcp_setup import fleet_report

    if output_format == "json":
        host = configs[0].emulator_host if configs else None
        click.echo(fleet_report.to_json(command, results, f"emulator {host}" if host else "google"))
    else:
        click.echo(fleet_report.render_table(results))
    if not all(r.ok for r in results):
        click_ctx.exit(EXIT_FAILED)
    if detailed_exitcode and any(r.changes_pending for r in results):
        click_ctx.exit(EXIT_CHANGES)
