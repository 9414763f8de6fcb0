"""The one question before changes, for a single run and a fleet alike: refused when nobody can answer."""

from __future__ import annotations

import sys

import click

from gcp_setup.errors import EXIT_FAILED, UsageError


def confirm(plan: str, human: bool, question: str) -> None:
    """Show `plan` and ask `question` before changing anything; refuse when nobody can answer (CI, pipes)."""
    if not (sys.stdin.isatty() and human):
        raise UsageError("changes are pending and nobody can confirm them here; pass --yes to make them")
    click.echo(plan, err=True)
    if not click.confirm(question, default=False, err=True):
        click.echo("Cancelled; nothing was changed.", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)  # as terraform does
