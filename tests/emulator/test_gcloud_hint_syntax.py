"""Every gcloud command gcp-setup prints (found in its source, outside docstrings and the emulator) parses
with the installed gcloud (528): run against the emulator, none is refused as bad usage (exit 2). And each
takes a form gcloud 594 (2026-11-17) also accepts. Its release notes: the ACCOUNT_ID positional of `gcloud
billing accounts get-iam-policy`, `set-iam-policy`, `add-iam-policy-binding` and `remove-iam-policy-binding`
is now always required (`--account` no longer stands in for it), and the ACCOUNT_NAME positional of `gcloud
auth ... login` and friends wins over `--account`. So gcp-setup prints no billing-accounts command that
names an account, and no `--account` flag."""

from __future__ import annotations

import ast
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import gcp_setup

pytestmark = pytest.mark.gcloud

PACKAGE = Path(gcp_setup.__file__).resolve().parent
GROUPS = frozenset({"auth", "billing", "config", "iam", "org-policies", "projects", "services"})
"""gcloud's groups that gcp-setup's hints use; "gcloud" followed by another word is prose."""
PROSE = frozenset({"configuration", "with"})
SAMPLE = "sample-1"
"""Stands for an f-string's replacement field."""


def _strings(tree: ast.AST) -> list[str]:
    """String literals and f-strings (fields as SAMPLE), without docstrings or an f-string's pieces."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        documented = isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and body
        if documented and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skipped.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(v) for v in ast.walk(node) if v is not node)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in skipped:
            found.append("".join(v.value if isinstance(v, ast.Constant) else SAMPLE for v in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            found.append(node.value)
    return found


def printed_commands() -> list[list[str]]:
    commands = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if "emulator" in path.relative_to(PACKAGE).parts:
            continue
        for text in _strings(ast.parse(path.read_text())):
            for match in re.finditer(r"\bgcloud ([^`\"'()\n;,]*)", text):
                words = tuple(match.group(1).split())
                if words and words[0] not in PROSE:
                    commands.add(words)
    return sorted(list(c) for c in commands)


def test_the_commands_are_found() -> None:
    commands = printed_commands()
    assert {c[0] for c in commands} <= GROUPS, "a new gcloud group, or prose the scan takes for a command"
    assert ["billing", "projects", "link", SAMPLE, "--billing-account=ACCOUNT_ID"] in commands
    assert len(commands) >= 12


def test_no_command_takes_a_form_594_changed() -> None:
    """The forms both 528 and 594 accept: `billing accounts list` (no account), `billing projects link P
    --billing-account=ID` (594 changed only the accounts group's IAM commands), no `--account`."""
    for command in printed_commands():
        if command[:2] == ["billing", "accounts"]:
            assert command[2] == "list" and not any("billing-account" in w for w in command), command
        assert not any(w == "--account" or w.startswith("--account=") for w in command), command


@pytest.mark.slow  # about 20 gcloud start-ups
def test_every_printed_command_parses_with_the_installed_gcloud(gcloud) -> None:
    env = {**os.environ, "CLOUDSDK_CONFIG": str(gcloud.config_dir), "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}

    def run(command: list[str]) -> tuple[list[str], subprocess.CompletedProcess]:
        # stdin closed: a command that would wait for the user (auth login) ends, after its parse
        done = subprocess.run(
            ["gcloud", *command],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return command, done

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, printed_commands()))
    refused = {
        " ".join(command): result.stderr.strip().splitlines()[:2]
        for command, result in results
        if result.returncode == 2
        or "unrecognized arguments" in result.stderr
        or "Invalid choice" in result.stderr
    }
    assert refused == {}
