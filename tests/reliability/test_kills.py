"""SIGKILL after every write: gcp-setup runs in a process of its own; the emulator applies its N-th
write and holds the answer (Realism.hold_after_writes) while the test kills the process, for every N
of a fresh apply, of a credentials migration (an existing setup moved to a key file, a .env and one more
role), of a key migration (gcp-setup's old standard key and a .env holding it, moved to an auth key) and
of a destroy. The key migration is also killed before each of its writes (Realism.hold_before_writes),
so after everything done since the previous one: after the .env with the new key is renamed into place.
Then the same command runs again and must finish the job, and once more must change nothing; and there
is no duplicate account or API key, no key no file holds, no temp file, no .env holding a deleted key
(but after destroy, which leaves the user's .env alone), and the binding someone else made on the
project is still there."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import reset_keeping_the_login
from reliability_kit import MARKS, run_cli, secret_values, secrets_in, tally

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.google.iam import IamClient, key_id_of_file, service_account_email
from gcp_setup.google.iam_policy import Binding, grant, unconditional_members
from gcp_setup.google.session import GoogleSession

PROJECT = "kill-test-1"
EMAIL = service_account_email(defaults.SERVICE_ACCOUNT_ID, PROJECT)
FOREIGN = Binding("roles/viewer", "user:alice@example.com")
CREATE = (
    "--project",
    PROJECT,
    "--create",
    "--billing-account",
    OPEN_ACCOUNT.removeprefix("billingAccounts/"),
)

pytestmark = MARKS


def key_flags(home: Path) -> tuple[str, ...]:
    return ("--credentials", "key-file", "--allow-key-file", "--credentials-file", str(home / "sa-key.json"))


@dataclass(frozen=True)
class Scenario:
    name: str
    setup: tuple[str, ...]
    """apply arguments run (in-process) before the command; () for none."""
    command: tuple[str, ...]
    deletes: bool = False


def scenarios(home: Path) -> list[Scenario]:
    env = ("--env-file", str(home / ".env"))
    return [
        Scenario("fresh", (), ("apply", *CREATE, *key_flags(home), *env, "--yes")),
        Scenario(
            "credentials migration",
            ("apply", *CREATE, "--yes"),
            ("apply", *CREATE, *key_flags(home), *env, "--role", "roles/logging.logWriter", "--yes"),
        ),
        Scenario(
            "key migration",
            ("apply", *CREATE, "--api-key-type", "standard", *env, "--yes"),
            ("apply", *CREATE, *env, "--yes"),
        ),
        Scenario(
            "destroy",
            ("apply", *CREATE, *key_flags(home), *env, "--yes"),
            ("destroy", "--project", PROJECT, *key_flags(home)[-2:], "--yes"),  # destroy takes only the file
            deletes=True,
        ),
    ]


@pytest.fixture
def home(provision_env, clean_config, monkeypatch):
    monkeypatch.setenv("HOME", str(clean_config))
    return clean_config


def prepare(emu, home: Path, scenario: Scenario) -> int:
    """A fresh world and home with the scenario's setup (and a foreign binding); the writes so far."""
    reset_keeping_the_login(emu)
    for path in home.iterdir():
        if path.is_file():
            path.unlink()
    if scenario.setup:
        assert CliRunner().invoke(cli, list(scenario.setup)).exit_code == 0
        iam = IamClient(GoogleSession.create(emu.host))
        grant(iam.project_policy(PROJECT), [FOREIGN])
    return len(emu.writes())


def finish(emu, home: Path, scenario: Scenario, outputs: list[str]) -> bool:
    """Run the command to the end, then again: True when the first exits 0 and the second writes nothing."""
    done = run_cli(emu, home, *scenario.command, "--format", "json")
    out, err = done.communicate(timeout=300)
    outputs += [out, err]
    emu.clear_requests()
    again = run_cli(emu, home, "--verbosity", "debug", *scenario.command)
    out2, err2 = again.communicate(timeout=300)
    outputs += [out2, err2]
    return done.returncode == 0 and again.returncode == 0 and emu.writes() == []


def damage(emu, home: Path, scenario: Scenario) -> dict[str, int]:
    backends = emu.state()["backends"]
    accounts = len(backends["iam"]["accounts"])
    keys = len([k for k in backends["apikeys"]["keys"] if k.get("delete_time") is None])  # soft-deleted: gone
    listed = []
    if accounts:
        listed = IamClient(GoogleSession.create(emu.host)).list_user_keys(PROJECT, EMAIL)
    key_file = home / "sa-key.json"
    held = [key_id_of_file(key_file.read_bytes())] if key_file.exists() else []
    policy = IamClient(GoogleSession.create(emu.host)).project_policy(PROJECT).get()
    foreign_kept = FOREIGN.member in unconditional_members(policy, FOREIGN.role)
    expected = 0 if scenario.deletes else 1
    return {
        "duplicates": max(0, accounts - expected) + max(0, keys - expected),
        "orphaned_keys": len([k for k in listed if k["name"].rsplit("/", 1)[-1] not in held]),
        "temp_files": len([p for p in home.iterdir() if p.name.endswith((".tmp", ".creating"))]),
        "lost_bindings": int(bool(scenario.setup) and not foreign_kept),
        "env_dead_keys": 0 if scenario.deletes else env_holds_a_dead_key(emu, home),  # destroy keeps the .env
    }


def env_holds_a_dead_key(emu, home: Path) -> int:
    """1 when the .env's GEMINI_API_KEY is not the string of a live key (deleted, or never made)."""
    from gcp_setup.secrets.env_file import read_env_file

    env_file = home / ".env"
    value = read_env_file(env_file).get("GEMINI_API_KEY") if env_file.exists() else None
    live = {
        k["key_string"] for k in emu.state()["backends"]["apikeys"]["keys"] if k.get("delete_time") is None
    }
    return int(value is not None and value not in live)


def kill_at_write(emu, home: Path, scenario: Scenario, n: int, when: str, outputs: list[str]) -> bool:
    """Run the command, SIGKILL it once the emulator holds its n-th write (applied, or `when` "before":
    not yet); False when it wrote less."""
    before = prepare(emu, home, scenario)
    emu.set_realism(**{f"hold_{when}_writes": before + n})
    process = run_cli(emu, home, *scenario.command)
    while not emu.held() and process.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(0.02)  # for the hold or the process's end; nothing is measured
    killed = emu.held()
    if killed:
        process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=300)
    outputs += [out, err]
    emu.set_realism(**{f"hold_{when}_writes": None})
    emu.release()
    return killed


@pytest.mark.parametrize(
    ("which", "when"),
    [
        ("fresh", "after"),
        ("credentials migration", "after"),
        ("key migration", "after"),
        ("key migration", "before"),
        ("destroy", "after"),
    ],
)
def test_sigkill_at_every_write_is_finished_by_the_next_run(provision_env, world, home, which, when):
    scenario = next(s for s in scenarios(home) if s.name == which)
    outputs: list[str] = []
    kills = converged = 0
    totals = dict.fromkeys(("duplicates", "orphaned_keys", "temp_files", "lost_bindings", "env_dead_keys"), 0)
    secrets: set[str] = set()
    for n in range(1, 20):
        if not kill_at_write(provision_env, home, scenario, n, when, outputs):
            break  # the command makes fewer than n writes: every write has had its kill
        kills += 1
        if not scenario.deletes:  # right after the kill (destroy leaves the user's .env alone)
            totals["env_dead_keys"] += env_holds_a_dead_key(provision_env, home)
        converged += finish(provision_env, home, scenario, outputs)
        for name, count in damage(provision_env, home, scenario).items():
            totals[name] += count
        secrets |= secret_values(provision_env.state(), world, [home / "sa-key.json"])
    found = secrets_in(outputs, secrets)
    tally.add("kills", kills=kills, converged=converged)
    tally.add("kill_damage", **totals)
    tally.add("secrets", streams=len(outputs), secrets_known=len(secrets), found=found)
    assert kills >= 2 and converged == kills, json.dumps(outputs[-4:])[-3000:]
    assert totals == dict.fromkeys(totals, 0), totals
    assert found == 0
