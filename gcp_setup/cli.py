"""The `gcp-setup` command line. One module per command under gcp_setup/commands/, imported only when
that command runs, so `gcp-setup --help` starts without loading any Google library."""

from __future__ import annotations

import difflib
import importlib
import os
import signal
from typing import Any

import click

from gcp_setup import __version__
from gcp_setup.commands.options import GlobalOptions, global_params
from gcp_setup.errors import EXIT_FAILED, EXIT_USAGE, GcpSetupError

# name -> (module:attribute, one-line help shown by --help without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "emulator": ("gcp_setup.commands.emulator:emulator", "Run the local emulator of the Google APIs."),
    "verify": ("gcp_setup.commands.verify:verify", "Prove the credentials work on every path to Gemini."),
    "models": ("gcp_setup.commands.models:models", "List the Gemini models the API key can use."),
    "init": ("gcp_setup.commands.init:init", "Write gcp-setup.toml, so that later commands need no flags."),
    "output": ("gcp_setup.commands.output:output", "Show what apply set up: key, endpoints, snippets."),
    "plan": ("gcp_setup.commands.provision:plan", "Show what apply would change (+ create, ~ update)."),
    "apply": ("gcp_setup.commands.provision:apply", "Set up the project for Gemini, idempotently."),
    "status": ("gcp_setup.commands.provision:status", "Show the observed state of every step."),
    "config": ("gcp_setup.commands.config:config", "Show the resolved settings and where each came from."),
    "export": ("gcp_setup.commands.export:export", "Export the setup: terraform.tfvars and import blocks."),
    "destroy": ("gcp_setup.commands.destroy:destroy", "Remove what gcp-setup created (key, account, roles)."),
    "reap": ("gcp_setup.commands.reap:reap", "Delete the expired projects gcp-setup created with --ttl."),
}


class LazyGroup(click.Group):
    """Imports a command's module only when it is invoked (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """click's, with "did you mean" for a mistyped command."""
        name = click.utils.make_str(args[0]) if args else ""
        if args and name not in COMMANDS and not name.startswith("-"):
            close = difflib.get_close_matches(name, COMMANDS, n=2, cutoff=0.6)
            if close:
                ctx.fail(f"No such command {name!r}. Did you mean {' or '.join(map(repr, close))}?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except GcpSetupError as exc:  # a bad global flag before the command: no context to exit from yet
            click.echo(f"Error: {exc.one_line()}", err=True)
            raise click.exceptions.Exit(exit_code(exc.exit_code, args)) from None
        except click.UsageError as exc:
            exc.exit_code = exit_code(exc.exit_code, args)  # type: ignore[misc]  # click types it a ClassVar
            raise
        ctx.meta[ARGV] = list(args)
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GcpSetupError as exc:
            if _debug(ctx):
                raise
            click.echo(f"Error: {exc.one_line()}", err=True)
            ctx.exit(exit_code(exc.exit_code, ctx.meta[ARGV]))
        except click.UsageError as exc:
            exc.exit_code = exit_code(exc.exit_code, ctx.meta[ARGV])  # type: ignore[misc]  # as above
            raise
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # the last line of defence: never a traceback unless asked
            if _debug(ctx):
                raise
            from gcp_setup.google.errors import explain

            click.echo(f"Error: {explain(exc)}", err=True)
            ctx.exit(EXIT_FAILED)


ARGV = "gcp_setup.argv"
"""ctx.meta key: the command line, read before click has parsed (or refused) it."""
DETAILED_EXITCODE = "--detailed-exitcode"


def exit_code(code: int, argv: list[str]) -> int:
    """A usage error's code: click's 2, unless detailed exit codes were asked for, where 2 means
    "changes pending" and every error is 1. The flag may follow the one click refuses, so the command
    line is read as given (and GCP_SETUP_DETAILED_EXITCODE, the flag's variable)."""
    from gcp_setup.settings.parsers import as_bool
    from gcp_setup.settings.table import BY_NAME

    if code != EXIT_USAGE:
        return code
    variables = BY_NAME["detailed_exitcode"].env_vars
    try:
        asked = any(as_bool(os.environ.get(name, "")) for name in variables)
    except GcpSetupError:
        asked = False  # an unreadable value is itself the usage error being reported
    return EXIT_FAILED if asked or DETAILED_EXITCODE in argv else code


def _debug(ctx: click.Context) -> bool:
    opts = ctx.find_object(GlobalOptions)
    return bool(opts and opts.debug)


@click.group(cls=LazyGroup, params=global_params(), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gcp-setup")
@click.pass_context
def cli(ctx: click.Context, /, **global_flags: object) -> None:
    """Set up a Google Cloud project for Gemini: the Gemini API, Agent Platform (Vertex AI) and their
    OpenAI-compatible endpoints. Every step is idempotent; `plan` shows what `apply` would do.

    The global flags may also follow the command; each command applies them (and their environment
    variables) itself."""
    ctx.obj = GlobalOptions(verbosity=str(global_flags.get("verbosity") or "warning"))


def main() -> None:
    # SIGTERM ends the run as Ctrl-C does, through every `finally` and `except BaseException`: a secret
    # file being written is finished or its temporary file removed. (SIGKILL cannot be caught: what it
    # leaves, the next run's plan cleans up; see steps/secret_files.py.)
    signal.signal(signal.SIGTERM, _terminated)
    cli(prog_name="gcp-setup")


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
