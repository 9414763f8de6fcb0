"""`gcp-setup reap`: delete the projects gcp-setup created with --ttl whose time has passed, and only
those (gcp_setup/fleet/reap.py says how they are told apart). `--dry-run` lists them and deletes nothing.

Exit codes: 0 done (nothing to reap included), 1 a deletion failed, 2 bad usage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from gcp_setup.commands.common import format_option
from gcp_setup.commands.options import settings_command, values_of
from gcp_setup.errors import EXIT_FAILED

if TYPE_CHECKING:
    from gcp_setup.fleet.reap import Reaped


@settings_command("reap")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@format_option
@click.pass_context
def reap(click_ctx: click.Context, /, dry_run: bool, output_format: str, **settings: Any) -> None:
    """Delete the expired projects gcp-setup created (labels created-by=gcp-setup and gcp-setup-expires
    in the past), among those you can see, or under --organization / --folder (direct children)."""
    from gcp_setup.fleet import reap as reaping
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.output import schema

    values = values_of(click_ctx)
    parent = values["folder"] or values["organization"]
    results = reaping.reap(
        GoogleSession.create(values["emulator_host"], values["billing_project"]), parent, dry_run=dry_run
    )
    if output_format == "json":
        rows = [
            {"project": r.project, "expired_at": _when(r.expired_at), "deleted": r.deleted, "error": r.error}
            for r in results
        ]
        click.echo(schema.dumps(schema.document("reap", {"dry_run": dry_run, "projects": rows})))
    else:
        click.echo(_table(results, dry_run))
    if any(r.error for r in results):
        click_ctx.exit(EXIT_FAILED)


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(results: list[Reaped], dry_run: bool) -> str:
    if not results:
        return "Nothing to reap: no expired project that gcp-setup created."
    width = max(len("PROJECT"), *(len(r.project) for r in results))
    lines = [f"  {'PROJECT':<{width}}  {'EXPIRED AT':<20}  RESULT"]
    for r in results:
        outcome = "would delete" if dry_run else ("deleted" if r.deleted else f"failed: {r.error}")
        lines.append(f"  {r.project:<{width}}  {_when(r.expired_at):<20}  {outcome}")
    verb = "would be deleted" if dry_run else "deleted (restorable for 30 days)"
    lines.append(f"{sum(r.deleted or dry_run for r in results)} project(s) {verb}.")
    return "\n".join(lines)
