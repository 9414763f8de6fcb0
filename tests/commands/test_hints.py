"""Every `gcp-setup ...` command gcp-setup prints in a hint runs as printed: each scenario below makes
gcp-setup print hints, the test collects every gcp-setup command line in its output and runs it against
the emulator, in the same directory and environment, its placeholders (PROJECT, FILE) filled as a user
would; none may be a usage error (exit 2). Which hints exist is read from the source: every string
literal and f-string in gcp_setup/ that holds a `gcp-setup <command>` is a hint, unless NOT_HINTS says
why not, and some scenario must print it.

Also: a refused connection is tried once (a test counts the attempts) and says to start the emulator;
a mistyped command gets "did you mean"."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import federation
import pytest
import requests
from click.testing import CliRunner

import gcp_setup
from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.core.realism import Realism
from gcp_setup.google.iam import IamClient, service_account_email
from gcp_setup.google.iam_policy import Binding, revoke, unconditional_members
from gcp_setup.google.session import GoogleSession

PROJECT = "hints-1"
BILLING = OPEN_ACCOUNT.removeprefix("billingAccounts/")
CREATE = ("--project", "{project}", "--create", "--billing-account", BILLING)
COMMANDS = "init|output|plan|apply|status|verify|destroy|models|config|emulator|reap|export"
HINT = re.compile(rf"gcp-setup ((?:{COMMANDS})(?=[\s`,;)]|$)[^`;,()\n]*)")
"""A gcp-setup command line in text (not a header such as "gcp-setup apply: project P"): up to a
backquote, a semicolon, a comma, a parenthesis or the line's end."""


SOURCE = Path(gcp_setup.__file__).parent
NOT_HINTS = {  # (module, a part of the literal): why it is no hint to run
    ("commands/emulator.py", "emulator listening on"): "the emulator's start-up line",
    ("emulator/orgpolicy/models.py", "emulator models only the constraint"): "an emulated API's error",
    ("commands/init.py", "the settings every gcp-setup command reads"): "the header of gcp-setup.toml",
    ("commands/demo.py", "In one shell:"): "the demo's closing lines: the commands it has just run",
    ("commands/demo.py", "init {} --yes"): "the demo's closing lines: the commands it has just run",
    ("commands/demo.py", "apply --yes; "): "the demo's closing lines: the commands it has just run",
    ("fleet/export.py", "# Written by"): "the header of a file export writes",
    ("export/terraform.py", "# Written by"): "the header of a file export writes",
    ("settings/table.py", "for `gcp-setup reap`"): "--ttl's help text",
    ("steps/service_account.py", "Managed by gcp-setup"): "the description set on the service account",
    ("output/junit.py", "gcp-setup verify"): "the JUnit report's suite name",
    ("verify/smoke.py", "Smoke test (gcp-setup verify)"): "the smoke test's table header",
    ("emulator/proxy/tunnel.py", "the gcp-setup emulator "): "the proxy's refusals name the emulator",
    ("emulator/proxy/authority.py", "gcp-setup emulator "): "the names in the proxy's certificates",
}


def classified(key: tuple[str, str], table: dict[tuple[str, str], str]) -> bool:
    return any(key[0] == module and part in key[1] for module, part in table)


def literal_text(node: ast.AST) -> str | None:
    """A string literal's text, an f-string's with {} where its values go."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def hints_in_source() -> dict[tuple[str, str], str]:
    """(module, literal) -> where, for every literal in gcp_setup/ that holds a `gcp-setup <command>`
    (docstrings aside)."""
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        skip = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # docstrings
        skip |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            text = None if id(node) in skip else literal_text(node)
            if text and HINT.search(text.replace("{}", " X ")):
                module = path.relative_to(SOURCE).as_posix()
                found[(module, text)] = f"{module}:{node.lineno}"
    return found


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


PLACEHOLDERS = {"PROJECT": PROJECT, "FILE": "adc.json"}
"""What a user puts in place of a hint's placeholders."""


def runs_as_printed(argv: list[str]) -> None:
    argv = [PLACEHOLDERS.get(part, part) for part in argv]
    if argv[0] == "emulator":  # it serves until stopped: its command line must parse
        from gcp_setup.commands.emulator import emulator

        emulator.make_context("emulator", argv[1:])
        return
    if argv[0] in ("apply", "destroy") and "--yes" not in argv:
        argv = [*argv, "--yes"]  # a hint shows the command; nobody here can answer its question
    result = gcp_setup(*argv)
    assert result.exit_code != 2, f"gcp-setup {' '.join(argv)}: {result.output}"


BAD_KEY = "AQ.Ab8RN6not-a-key-the-emulator-knows"
MODELS_THAT_DO_NOT_DO = ("gemini-nope-flash", "gemini-embedding-001", "gemini-2.0-flash")
"""Unknown, not generating, retired."""
NO_FREE_TIER = "gemini-4-argon"
KEY_FILE = ("--credentials", "key-file", "--allow-key-file", "--credentials-file", "key.json")
IMPERSONATE = ("--credentials", "impersonate", "--credentials-file", "impersonated.json")
GITLAB_ISSUER = "https://gitlab.example.com"
GITLAB = (
    "--gitlab-project",
    "platform/ml/app",
    "--gitlab-issuer",
    GITLAB_ISSUER,
    "--gitlab-jwks",
    "jwks.json",
)


@dataclass
class Scene:
    """What a scenario's steps that are no commands act on: the emulator, the values the commands'
    {placeholders} take, and what is undone when the scenario ends (realism goes back to its defaults)."""

    emu: EmulatorControl
    filled: dict[str, Any]
    undo: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


def gitlab_keys(scene: Scene) -> None:
    """The key set of a self-managed GitLab, for --gitlab-jwks."""
    Path("jwks.json").write_text(json.dumps(federation.Issuer.new(GITLAB_ISSUER).jwks()))


def grants_propagate_slowly(scene: Scene) -> None:
    """A grant outlasts any --propagation-wait: Google's "7 minutes or longer", and more."""
    scene.emu.set_realism(role_grant_propagation_s=3600)


def token_creator_revoked(scene: Scene) -> None:
    """Someone removes roles/iam.serviceAccountTokenCreator on the service account, through IAM's API."""
    email = service_account_email(defaults.SERVICE_ACCOUNT_ID, scene.filled["project"])
    target = IamClient(GoogleSession.create()).service_account_policy(scene.filled["project"], email)
    members = unconditional_members(target.get(), defaults.TOKEN_CREATOR)
    assert revoke(target, [Binding(defaults.TOKEN_CREATOR, member) for member in members])


RECOMPUTED_HEADERS = ("content-length", "content-encoding", "transfer-encoding", "connection")
"""What a forwarded answer's headers say of its body as it came (requests decodes it), or of the hop."""


def older_emulator(scene: Scene) -> None:
    """At {older}: an emulator of an older gcp-setup, which serves Google's APIs but no /_emulator/proxy
    (a local server passing every other request on to the emulator)."""
    upstream = scene.emu.url

    class Older(BaseHTTPRequestHandler):
        def forward(self) -> None:
            if self.path.startswith("/_emulator/proxy"):
                self.send_error(404)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            answer = requests.request(self.command, upstream + self.path, headers=headers, data=body)
            self.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in RECOMPUTED_HEADERS:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = forward

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Older)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scene.undo.callback(server.server_close)
    scene.undo.callback(server.shutdown)
    scene.filled["older"] = f"127.0.0.1:{server.server_port}"


Step = tuple[Any, ...] | Callable[[Scene], None]
"""A command (its arguments, after a dict of environment variables to set, or None to unset), or an
action on the scene."""


SCENARIOS: dict[str, list[Step]] = {
    "verify with no .env": [
        ("apply", *CREATE, "--no-api-key", "--yes"),
        ("verify", "--project", "{project}"),
    ],
    "output before apply": [("output", "--project", "{project}")],
    "apply's next steps": [("apply", *CREATE, "--env-file", ".env", "--yes")],
    "status with the defaults only": [("apply", *CREATE, "--yes"), ("status", "--project", "{project}")],
    "status with changes pending": [
        ("apply", *CREATE, "--no-api-key", "--yes"),
        ("status", "--project", "{project}"),
    ],
    "init": [("init", *CREATE, "--yes")],
    "models without a key": [("models",)],
    "verify with a missing .env": [("verify", "--project", "{project}", "--env-file", "missing.env")],
    "output of an apply without an .env": [("apply", *CREATE, "--yes"), ("output", "--project", "{project}")],
    "verify with nothing set up and no project": [
        ({"GOOGLE_APPLICATION_CREDENTIALS": None, "HOME": "{cwd}"}, "verify")
    ],
    "verify with an invalid key": [({"GEMINI_API_KEY": BAD_KEY}, "verify", "--project", "{project}")],
    "verify against no emulator": [
        (
            {"GEMINI_API_KEY": BAD_KEY},
            "--emulator-host",
            "127.0.0.1:{closed}",
            "verify",
            "--project",
            "{project}",
        )
    ],
    "verify with a standard key": [
        ("apply", *CREATE, "--api-key-type", "standard", "--env-file", ".env", "--yes"),
        ("verify", "--env-file", ".env"),
    ],
    "verify with a model without a free tier": [
        ("apply", "--project", "{project}", "--create", "--env-file", ".env", "--yes"),
        ("verify", "--env-file", ".env", "--model", NO_FREE_TIER),
    ],
    "verify after destroy": [
        ("apply", *CREATE, "--env-file", ".env", *KEY_FILE, "--yes"),
        ("destroy", "--project", "{project}", "--yes"),
        ("verify", "--env-file", ".env"),
    ],
    "impersonation without your own ADC": [
        (
            {"GOOGLE_APPLICATION_CREDENTIALS": None, "HOME": "{cwd}"},
            "apply",
            *CREATE,
            "--credentials",
            "impersonate",
            "--yes",
        )
    ],
    "verify with models that do not do": [
        ("apply", *CREATE, "--env-file", ".env", "--yes"),
        *(("verify", "--env-file", ".env", "--model", model) for model in MODELS_THAT_DO_NOT_DO),
    ],
    "no emulator listening": [("--emulator-host", "127.0.0.1:{closed}", "status", "--project", "{project}")],
    "apply with a GitLab pool": [
        gitlab_keys,
        ("apply", *CREATE, *GITLAB, "--yes"),
    ],
    "impersonation from an ADC that is no user's": [
        ("apply", *CREATE, *IMPERSONATE, "--yes"),
        ({"GOOGLE_APPLICATION_CREDENTIALS": "impersonated.json"}, "apply", *CREATE, *IMPERSONATE, "--yes"),
    ],
    "verify while a grant propagates": [
        grants_propagate_slowly,
        ({"GCP_SETUP_VERIFY": "true"}, "apply", *CREATE, *IMPERSONATE, "--propagation-wait", "0", "--yes"),
    ],
    "verify after the Token Creator grant is revoked": [
        ("apply", *CREATE, *IMPERSONATE, "--env-file", ".env", "--yes"),
        token_creator_revoked,
        ("verify", "--env-file", ".env"),
    ],
    "apply against an older emulator": [
        older_emulator,
        ("--emulator-host", "{older}", "apply", *CREATE, "--env-file", ".env", "--yes"),
    ],
}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed when the block ends: nothing listens there


def run_scenario(emu: EmulatorControl, scenario: str, project: str = PROJECT) -> str:
    """What `scenario`'s commands print, stdout and stderr."""
    scene = Scene(emu, {"closed": closed_port(), "project": project, "cwd": os.getcwd()})
    printed = ""
    with scene.undo:
        scene.undo.callback(lambda: emu.set_realism(**Realism().to_json()))
        for step in SCENARIOS[scenario]:
            if callable(step):
                step(scene)
                continue
            env, argv = (step[0], step[1:]) if isinstance(step[0], dict) else ({}, step)
            env = {name: value and value.format(**scene.filled) for name, value in env.items()}
            result = CliRunner().invoke(cli, [part.format(**scene.filled) for part in argv], env=env)
            printed += result.output
    return printed


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_hint_printed_runs_as_printed(provision_env, clean_config: Path, scenario) -> None:
    printed = hints(run_scenario(provision_env, scenario))
    assert printed, f"{scenario}: no hint printed"
    for argv in printed:
        runs_as_printed(argv)


def as_pattern(literal: str) -> re.Pattern[str]:
    """The text a literal prints: its own characters, anything on the line where an f-string puts a value."""
    return re.compile("[^\n]*?".join(re.escape(part) for part in literal.split("{}")))


def test_every_hint_in_the_source_is_printed_by_a_scenario(provision_env, clean_config, monkeypatch) -> None:
    """A literal of gcp_setup/ that holds a gcp-setup command line is a hint (NOT_HINTS aside): some
    scenario above must print it, so that the test above runs it. A new hint needs a scenario."""
    printed = []
    for number, scenario in enumerate(sorted(SCENARIOS)):
        directory = clean_config / f"scenario-{number}"
        directory.mkdir()
        monkeypatch.chdir(directory)
        printed.append(run_scenario(provision_env, scenario, f"{PROJECT}{number}"))
    output = "\n".join(printed)
    source = hints_in_source()
    unprinted = sorted(
        key for key in source if not classified(key, NOT_HINTS) and not as_pattern(key[1]).search(output)
    )
    missing = [source[key] for key in unprinted]
    assert missing == [], f"hints no scenario prints (add one): {missing}"
    gone = [
        part for module, part in NOT_HINTS if not any(classified(k, {(module, part): ""}) for k in source)
    ]
    assert gone == [], f"NOT_HINTS names literals that are gone: {gone}"


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
    result = gcp_setup(command, "--project", PROJECT, *extra)
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
