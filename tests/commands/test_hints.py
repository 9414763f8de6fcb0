"""Every `gcp-setup ...` command gcp-setup prints in a hint runs as printed: each scenario below makes
gcp-setup print hints, the test collects every gcp-setup command line in its output and runs it against
the emulator, in the same directory and environment; none may be a usage error (exit 2).

Also: a refused connection is tried once (a test counts the attempts) and says to start the emulator;
a mistyped command gets "did you mean"."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT

PROJECT = "hints-1"
BILLING = OPEN_ACCOUNT.removeprefix("billingAccounts/")
CREATE = ("--project", PROJECT, "--create", "--billing-account", BILLING)
COMMANDS = "init|output|plan|apply|status|verify|destroy|models|config|emulator"
HINT = re.compile(rf"gcp-setup ((?:{COMMANDS})(?=[\s`]|$)[^`;,()\n]*)")
"""A gcp-setup command line in text (not a header such as "gcp-setup apply: project P"): up to a
backquote, a semicolon, a comma, a parenthesis or the line's end."""


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def hints(output: str) -> list[list[str]]:
    found = []
    for match in HINT.finditer(output):
        argv = match[1].split()
        while argv and argv[-1] in ("first", "again", "then", "or", "and"):  # the sentence goes on
            argv.pop()
        found.append(argv)
    return found


def runs_as_printed(argv: list[str]) -> None:
    if argv[0] == "emulator":  # it serves until stopped: its command line must parse
        from gcp_setup.commands.emulator import emulator

        emulator.make_context("emulator", argv[1:])
        return
    if argv[0] in ("apply", "destroy") and "--yes" not in argv:
        argv = [*argv, "--yes"]  # a hint shows the command; nobody here can answer its question
    result = gcp_setup(*argv)
    assert result.exit_code != 2, f"gcp-setup {' '.join(argv)}: {result.output}"


SCENARIOS = {
    "verify with no .env": [("apply", *CREATE, "--no-api-key", "--yes"), ("verify", "--project", PROJECT)],
    "output before apply": [("output", "--project", PROJECT)],
    "apply's next steps": [("apply", *CREATE, "--env-file", ".env", "--yes")],
    "status with the defaults only": [("apply", *CREATE, "--yes"), ("status", "--project", PROJECT)],
    "status with changes pending": [
        ("apply", *CREATE, "--no-api-key", "--yes"),
        ("status", "--project", PROJECT),
    ],
    "init": [("init", *CREATE, "--yes")],
    "no emulator listening": [("--emulator-host", "127.0.0.1:{closed}", "status", "--project", PROJECT)],
}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed when the block ends: nothing listens there


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_hint_printed_runs_as_printed(provision_env, clean_config: Path, scenario) -> None:
    port = closed_port()
    printed: list[list[str]] = []
    for command in SCENARIOS[scenario]:
        result = gcp_setup(*(part.format(closed=port) for part in command))
        printed += hints(result.output)
    assert printed, f"{scenario}: no hint printed"
    for argv in printed:
        runs_as_printed(argv)


def test_a_refused_connection_is_not_retried_and_names_the_emulator(provision_env, caplog) -> None:
    """No retry policy waits on a refused connection: the retry log (google/retry.py) says no retry."""
    import logging

    caplog.set_level(logging.INFO, logger="gcp_setup.google.retry")
    port = closed_port()
    result = gcp_setup("--emulator-host", f"127.0.0.1:{port}", "status", "--project", PROJECT)
    assert result.exit_code == 1
    assert not [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert f"nothing listens at 127.0.0.1:{port}" in result.stdout
    assert f"start the emulator there: gcp-setup emulator --port {port}" in result.stdout


def test_a_mistyped_command_gets_did_you_mean() -> None:
    result = gcp_setup("aply")
    assert result.exit_code == 2
    assert "No such command 'aply'. Did you mean 'apply'?" in result.output


def test_verify_with_nothing_to_check_says_to_apply_with_an_env_file(
    provision_env, clean_config, monkeypatch
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")  # nothing set up yet: no ADC, no key, no .env
    monkeypatch.setenv("HOME", str(clean_config))
    result = gcp_setup("verify", "--project", PROJECT)
    assert result.exit_code == 1
    assert (
        f"no .env was read: run `gcp-setup apply --project {PROJECT} --create --env-file .env` first, "
        "or pass --env-file FILE" in result.output
    )


@pytest.mark.parametrize("command", ["plan", "apply", "status", "destroy", "verify"])
def test_the_endpoint_is_named_where_the_docs_say(provision_env, clean_config, command) -> None:
    """README: plan, apply, status and destroy name it in their first stderr line, verify in its table's."""
    extra = ("--yes",) if command in ("apply", "destroy") else ()
    result = gcp_setup(command, *CREATE[:2], *extra)
    first = (result.stdout if command == "verify" else result.stderr).splitlines()[0]
    assert f"emulator at {provision_env.host}" in first, result.output


def test_verify_against_no_emulator_fails_fast_and_says_to_start_it(provision_env, monkeypatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AQ.not-checked-nothing-listens")
    port = closed_port()
    result = gcp_setup("--emulator-host", f"127.0.0.1:{port}", "verify", "--project", PROJECT)
    assert result.exit_code == 1
    assert "the connection was refused: nothing listens there; start `gcp-setup emulator`" in result.stdout
    assert ["emulator"] in hints(result.output)
    runs_as_printed(["emulator"])
