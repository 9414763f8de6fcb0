"""Every command the docs show runs: each `gcp-setup`, `make` and `gcloud` line of a ```sh, ```console or
```bash block in README.md, docs/*.md and terraform/README.md, in the order shown, against the emulator,
so the docs cannot drift from the code.

Each document starts from the setup the docs lead to (a project made by `apply`, its .env loaded as the
README says), with the emulator's values in place of the placeholders. `make` targets that run a suite
or need the network are checked with `make -n` (DRY_RUN says why); the commands that need Google itself
are in NEEDS_GOOGLE, with the reason.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.control import EmulatorControl

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "terraform" / "README.md")
FENCE = re.compile(r"^```(?:sh|console|bash|shell)\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
COMMAND = re.compile(r"^(gcp-setup|make|gcloud)\s")
PROJECT = "my-gemini-1"

NEEDS_GOOGLE = {
    "gcloud auth application-default login": "signs in to a Google account in a browser; on the "
    "emulator the login is one it issued (`gcp-setup emulator --adc-file`, the tests' emu fixture)",
    "gcloud auth login && gcloud auth application-default login": "a maintainer's sign-in before recording "
    "Google's answers (docs/emulator.md, Fidelity report): the recording is of Google itself",
}
DRY_RUN = {
    "test": "this suite itself, and more",
    "test-fast": "this suite itself",
    "reliability": "the counted reliability suites (make test runs them)",
    "demo": "tests/commands/test_cli_provision.py::test_make_demo_runs_offline runs its recipe",
    "tf-validate": "downloads hashicorp/google; tests/terraform/test_module.py checks the module offline",
}
"""make targets checked with `make -n` (they exist; the recipe is well formed), with why not run here."""


@dataclass(frozen=True)
class Shown:
    doc: str
    line: int
    text: str

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text, comments=True)

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


def shown_commands(path: Path) -> list[Shown]:
    """The command lines of `path`'s shell blocks (a `$ ` prompt and `\\` continuations allowed)."""
    text = path.read_text()
    shown = []
    for block in FENCE.finditer(text):
        first_line = text.count("\n", 0, block.start(1)) + 1
        for offset, line in enumerate(block[1].replace("\\\n", " ").splitlines()):
            line = line.strip().removeprefix("$ ")
            if COMMAND.match(line):
                shown.append(Shown(str(path.relative_to(ROOT)), first_line + offset, line))
    return shown


def with_emulator_values(text: str, emu: EmulatorControl) -> str:
    """The docs' placeholders replaced by what the emulator serves."""
    return (
        text.replace("012345-6789AB-CDEF01", OPEN_ACCOUNT.removeprefix("billingAccounts/"))
        .replace("http://127.0.0.1:8085/", f"{emu.url.rstrip('/')}/")
        .replace("127.0.0.1:8085", emu.host)
        .replace("my-project", PROJECT)
    )


def test_the_docs_show_commands_and_none_is_skipped_silently() -> None:
    every = [s for doc in DOCS for s in shown_commands(doc)]
    assert len(every) >= 20
    texts = {re.sub(r"\s+#.*", "", s.text) for s in every}
    assert set(NEEDS_GOOGLE) <= texts, "a skipped command the docs no longer show: drop it from NEEDS_GOOGLE"


@pytest.fixture
def prepared(provision_env: EmulatorControl, monkeypatch: pytest.MonkeyPatch, clean_config: Path):
    """The setup the docs lead to: a project made by apply, with a .env whose variables are exported
    (`set -a; . ./.env; set +a`); apply's smoke test on, as a user gets it."""
    monkeypatch.delenv("GCP_SETUP_VERIFY")
    made = gcp_setup(
        "apply", "--project", PROJECT, "--create", "--billing-account", OPEN_ACCOUNT.removeprefix(
            "billingAccounts/"), "--env-file", ".env", "--yes", "--no-verify"
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    for name, value in dotenv_values(clean_config / ".env").items():
        monkeypatch.setenv(name, value or "")
    return provision_env


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def run_gcp_setup(argv: list[str]) -> tuple[int, str]:
    if argv[1] == "emulator":
        return run_emulator(argv)
    result = gcp_setup(*argv[1:])
    return result.exit_code, result.output


def run_emulator(argv: list[str]) -> tuple[int, str]:
    """`gcp-setup emulator` serves until stopped: started on a free port, stopped once it says how to
    use it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    args = [port if previous == "--port" else arg for previous, arg in pairwise(argv)]
    command = [sys.executable, "-m", "gcp_setup", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
    finally:
        process.terminate()
        rest, errors = process.communicate(timeout=60)
    said = first + rest
    return (0 if f"GCP_SETUP_EMULATOR_HOST=127.0.0.1:{port}" in said else 1), said + errors


def run_make(argv: list[str]) -> tuple[int, str]:
    [target] = argv[1:]
    dry = ["-n"] if target in DRY_RUN else []
    done = subprocess.run(["make", *dry, target], cwd=ROOT, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "doc", [d for d in DOCS if shown_commands(d)], ids=lambda d: str(d.relative_to(ROOT))
)
def test_every_command_a_document_shows_runs(doc: Path, prepared: EmulatorControl, request) -> None:
    failures = []
    for shown in shown_commands(doc):
        text = re.sub(r"\s+#.*", "", shown.text)
        if text in NEEDS_GOOGLE:
            continue
        argv = shlex.split(with_emulator_values(text, prepared))
        if argv[0] == "gcp-setup":
            code, output = run_gcp_setup(argv)
        elif argv[0] == "make":
            code, output = run_make(argv)
        else:
            code, output = run_gcloud(request.getfixturevalue("gcloud"), argv)
        if code != 0 or "Traceback" in output:
            failures.append(f"{shown}\n  exit {code}: {output.strip()[-1500:]}")
    assert failures == [], "\n".join(failures)


def run_gcloud(gcloud, argv: list[str]) -> tuple[int, str]:
    done = gcloud.run(*argv[1:], check=False)
    return done.returncode, done.stdout + done.stderr
