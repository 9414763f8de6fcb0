"""plan, status, apply, destroy and verify on a fleet file (gcp-setup.toml with `[[projects]]`): each
command's own work, per project, through gcp_setup/fleet/run.py.

Each entry resolves like a single-project run, with the entry's settings in place of the file's and
the entry's project ID whatever the environment says; flags given on the command line win over both.
Exit codes: 0 every project done, 1 any failed, 2 bad usage (in any entry: nothing is sent);
`plan --detailed-exitcode` 2 when any project has changes pending.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gcp_setup.commands.options import resolution, resolve, values_of
from gcp_setup.errors import EXIT_CHANGES, EXIT_FAILED, UsageError
from gcp_setup.fleet.work import plan_work, teardown, work_of
from gcp_setup.settings.config import Config, Resolved, TomlSection, build_config
from gcp_setup.workflow.project import secret_files_locked

if TYPE_CHECKING:
    from gcp_setup.fleet.run import ProjectResult, Work
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.steps.base import ProgressCallback


def one_or_many(command: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The one place plan, status, apply and destroy ask "one project or a fleet?": with a fleet file the
    command runs on its entries here, and the decorated function (the single run) is not called."""

    def decorate(single: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(single)
        def either(click_ctx: click.Context, /, **params: Any) -> None:
            if not fleet_file(click_ctx):
                return single(click_ctx, **params)
            run_fleet_command(
                click_ctx,
                command,
                params["output_format"],
                yes=params.get("yes", False),
                detailed_exitcode=command in ("plan", "status") and values_of(click_ctx)["detailed_exitcode"],
                delete_project=params.get("delete_project", False),
                force=params.get("force", False),
            )

        return either

    return decorate


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
    from gcp_setup.fleet.run import entry_configs, selected

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
    from gcp_setup.fleet.run import fleet_endpoints, fleet_schedule, fleet_session

    configs = fleet_configs(click_ctx)
    human = output_format == "table"
    session = fleet_session(*fleet_endpoints(configs))
    parallelism = click_ctx.params["parallelism"]
    teardown_of = functools.partial(teardown, delete_project, force)
    schedule = fleet_schedule()
    if command in ("apply", "destroy") and not yes:
        planned = _run(
            configs,
            plan_work("plan", schedule, teardown_of if command == "destroy" else None),
            session,
            parallelism,
            human,
        )
        if not any(r.changes_pending for r in planned) or any(not r.ok for r in planned):
            return _finish(click_ctx, "plan", planned, output_format, configs, detailed_exitcode)
        _confirm(planned, human, "Destroy" if command == "destroy" else "Apply")
    work = work_of(command, teardown_of, schedule)
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
    from gcp_setup.secrets.env_file import read_env_file

    if click_ctx.get_parameter_source("project") is click.core.ParameterSource.COMMANDLINE:
        raise UsageError("the settings file holds [[projects]]: pick some with --only ID,... not --project")
    configs = fleet_configs(click_ctx, only)  # each entry's .env is read here: unreadable, a usage error
    environ = getattr(click_ctx, "environ", os.environ)

    def work(config: Config, session: GoogleSession | None, progress: ProgressCallback) -> tuple[None, Any]:
        dotenv = read_env_file(Path(config.env_file).expanduser()) if config.env_file else {}
        return None, check(config, {**environ, **dotenv}, lambda message: progress("verify", message))

    results = _run(configs, work, None, click_ctx.params["parallelism"], output_format == "table")
    if click_ctx.params.get("junit"):
        from gcp_setup.output import junit

        suites = {f"{junit.SUITE}: {r.project}": r.smoke.results for r in results if r.smoke is not None}
        secrets = [s for r in results if r.smoke is not None for s in r.smoke.vctx.secrets()]
        junit.write(click_ctx.params["junit"], suites, secrets)
    _finish(click_ctx, "verify", results, output_format, configs, False)


def _run(
    configs: Sequence[Config], work: Work, session: GoogleSession | None, parallelism: int, human: bool
) -> list[ProjectResult]:
    from gcp_setup.fleet.report import FleetProgress, Quiet
    from gcp_setup.fleet.run import run_fleet

    if human:
        click.echo(
            f"gcp-setup: {len(configs)} project(s), {min(parallelism, len(configs))} at a time", err=True
        )
    display = FleetProgress() if human else Quiet()
    return run_fleet(configs, work, session=session, parallelism=parallelism, display=display)


def _confirm(planned: list[ProjectResult], human: bool, verb: str) -> None:
    from gcp_setup.fleet.report import render_table
    from gcp_setup.workflow.confirm import confirm

    pending = sum(r.changes_pending for r in planned)
    confirm(render_table(planned), human, f"{verb} the changes to {pending} project(s)?")


def _finish(
    click_ctx: click.Context,
    command: str,
    results: list[ProjectResult],
    output_format: str,
    configs: Sequence[Config],
    detailed_exitcode: bool,
) -> None:
    from gcp_setup.fleet import report as fleet_report

    if output_format == "json":
        host = configs[0].emulator_host if configs else None
        click.echo(fleet_report.to_json(command, results, f"emulator {host}" if host else "google"))
    else:
        click.echo(fleet_report.render_table(results))
    if not all(r.ok for r in results):
        click_ctx.exit(EXIT_FAILED)
    if detailed_exitcode and any(r.changes_pending for r in results):
        click_ctx.exit(EXIT_CHANGES)
