"""Issue 12's exit-code contract, one row per command and situation, through the real CLI (click's
CliRunner, the group's own argument handling included) against the emulator:

    0 success · 1 any error (a remote one; verify: nothing checked) · 2 bad usage
    with --detailed-exitcode (plan, status): 0 nothing to do · 2 changes pending · 1 anything else,
    bad usage included, wherever on the command line the flag is.

Each command's rows run in order on one emulator world, so that "changes" rows come before the apply
that makes the project in sync. A mismatch is reported with every other row of that command."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.apikeys.models import ApiKeysBackend
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.resourcemanager.models import SEEDED_FOREIGN_PROJECT

PROJECT = "exit-codes-1"
OPEN = OPEN_ACCOUNT.removeprefix("billingAccounts/")
SETUP = ("--project", PROJECT, "--create", "--billing-account", OPEN)
FOREIGN = ("--project", SEEDED_FOREIGN_PROJECT)
BAD_ID = ("--project", "UX_Bad")
DETAILED = "--detailed-exitcode"
APPLY = ("apply", *SETUP, "--yes")
"""A row that changes the world: the project in sync afterwards."""

Row = tuple[str, tuple[str, ...], int]


def observe_rows(command: str) -> list[Row]:
    """plan and status share the contract: the flag turns changes into 2 and usage errors into 1."""
    return [
        ("changes", (command, *SETUP), 0),
        ("changes", (command, *SETUP, DETAILED), 2),
        ("usage error", (command, *BAD_ID), 2),
        ("usage error", (command, *BAD_ID, DETAILED), 1),
        ("usage error", (command, "--bogus-flag", DETAILED), 1),
        ("usage error", (command, DETAILED, "--bogus-flag"), 1),
        ("usage error", ("--bogus-flag", command, DETAILED), 1),
        ("usage error", (command, "--bogus-flag"), 2),
        ("usage error", (command, "--format", "xml", DETAILED), 1),
        ("remote error", (command, *FOREIGN), 1),
        ("remote error", (command, *FOREIGN, DETAILED), 1),
        ("(set up)", APPLY, 0),
        ("success", (command, *SETUP), 0),
        ("success", (command, *SETUP, DETAILED), 0),
    ]


PROVISION_ROWS: dict[str, list[Row]] = {
    "plan": observe_rows("plan"),
    "status": observe_rows("status"),
    "apply": [
        ("usage error", ("apply", *SETUP), 2),  # changes pending and nobody can confirm: pass --yes
        ("usage error", ("apply", *BAD_ID, "--yes"), 2),
        ("usage error", ("apply", "--bogus-flag"), 2),
        ("remote error", ("apply", *FOREIGN, "--create", "--yes"), 1),
        ("changes", APPLY, 0),
        ("success", APPLY, 0),
    ],
    "destroy": [
        ("(set up)", APPLY, 0),
        ("usage error", ("destroy", "--project", PROJECT), 2),  # nobody can confirm: pass --yes
        ("usage error", ("destroy", *BAD_ID, "--yes"), 2),
        ("usage error", ("destroy", *FOREIGN, "--yes"), 2),  # a project it cannot see: check --project
        ("changes", ("destroy", "--project", PROJECT, "--yes"), 0),
        ("success", ("destroy", "--project", PROJECT, "--yes"), 0),
    ],
    "config": [
        ("success", ("config", "--project", PROJECT), 0),
        ("usage error", ("config", *BAD_ID), 2),
        ("usage error", ("config", "--bogus-flag"), 2),
    ],
    "export": [
        ("usage error", ("export", "terraform", *BAD_ID), 2),
        ("usage error", ("export", "terraform", "--bogus-flag"), 2),
        ("(set up)", APPLY, 0),
        ("success", ("export", "terraform", "--project", PROJECT, "--force"), 0),
    ],
}


def run_rows(rows: list[Row]) -> list[str]:
    """Each row run in order; the rows whose exit code is not the contract's, as readable lines."""
    wrong = []
    for situation, args, expected in rows:
        result = CliRunner().invoke(cli, list(args))
        if result.exit_code != expected:
            last = (result.stderr.strip().splitlines() or [""])[-1]
            wrong.append(f"{situation}: {' '.join(args)} -> {result.exit_code}, not {expected}: {last}")
        assert "Traceback" not in result.output
    return wrong


@pytest.mark.parametrize("command", sorted(PROVISION_ROWS))
def test_the_provisioning_commands_keep_the_exit_code_contract(provision_env, command) -> None:
    assert run_rows(PROVISION_ROWS[command]) == []


def test_status_says_in_sync_only_when_it_read_everything(provision_env) -> None:
    result = CliRunner().invoke(cli, ["status", *FOREIGN])
    assert result.exit_code == 1
    assert "In sync." not in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("Status incomplete: ")


FAULTED: dict[str, tuple[tuple[str, ...], list[str]]] = {
    "export": (("export", "terraform", "--project", PROJECT, "--force"), ["serviceusage"]),
    "destroy": (("destroy", "--project", PROJECT, "--yes"), ["apikeys", "iam"]),
}
"""Commands whose remote error is Google answering 503 to every retry (a project they cannot see is, for
export, one the module may yet create, and for destroy a --project to check: exit 2)."""


@pytest.mark.slow  # each waits out the retry budget
@pytest.mark.parametrize("command", sorted(FAULTED))
def test_a_remote_error_exits_1(provision_env, command) -> None:
    args, apis = FAULTED[command]
    assert run_rows([("(set up)", APPLY, 0)]) == []
    provision_env.set_realism(fault_rate=1.0, fault_statuses=[503], fault_apis=apis)
    assert run_rows([("remote error", args, 1)]) == []


def test_verify_keeps_the_exit_code_contract(gemini_project, world, monkeypatch) -> None:
    rows: list[Row] = [
        ("success", ("verify",), 0),
        ("success", ("verify", "--only", "gemini-api"), 0),
        ("usage error", ("verify", "--only", "bogus"), 2),
        ("usage error", ("verify", "--api-key-env", "UNSET_VARIABLE"), 2),
    ]
    assert run_rows(rows) == []
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    monkeypatch.setenv("CLOUDSDK_CONFIG", os.devnull + ".d")  # no ADC at all: the Vertex checks skip
    rows = [
        ("nothing checked", ("verify", "--only", "vertex"), 1),  # asked for by name, skipped
        ("nothing checked", ("verify", "--only", "vertex", "--allow-skipped"), 0),
        ("success", ("verify", "--only", "gemini-api", "--only", "vertex", "--allow-skipped"), 0),
    ]
    assert run_rows(rows) == []
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.delenv("VERTEX_EXPRESS_API_KEY")
    rows = [
        ("nothing checked", ("verify",), 1),  # every check skipped: not green
        ("nothing checked", ("verify", "--allow-skipped"), 0),
    ]
    assert run_rows(rows) == []
    monkeypatch.setenv("GEMINI_API_KEY", gemini_project.api_key.key_string)
    world.backend(ApiKeysBackend).delete(gemini_project.api_key)
    rows = [
        ("remote error", ("verify", "--only", "gemini-api"), 1),
        ("remote error", ("verify", "--only", "gemini-api", "--allow-skipped"), 1),  # a failure fails
    ]
    assert run_rows(rows) == []


def test_models_keeps_the_exit_code_contract(gemini_project, world, monkeypatch) -> None:
    rows: list[Row] = [
        ("success", ("models",), 0),
        ("usage error", ("models", "--format", "xml"), 2),
    ]
    assert run_rows(rows) == []
    monkeypatch.delenv("GEMINI_API_KEY")
    assert run_rows([("usage error", ("models",), 2)]) == []  # no key: the error says what to set
    monkeypatch.setenv("GEMINI_API_KEY", gemini_project.api_key.key_string)
    world.backend(ApiKeysBackend).delete(gemini_project.api_key)
    assert run_rows([("remote error", ("models",), 1)]) == []
