"""A user's own programs, unchanged, with only the .env `apply` wrote: each runs as a subprocess with the
environment a user has (PATH and HOME, nothing of gcp-setup's), loads the .env the way users do
(`set -a; . ./.env` in the shell, or python-dotenv's `load_dotenv()`), and reaches Gemini on the
emulator through the real openai and google-genai libraries.

Vertex mode: what works offline and what cannot is docs/emulator.md's "Your own programs"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.secrets import read_env_file

PROJECT = "user-programs-1"
VERTEX = "export GOOGLE_GENAI_USE_VERTEXAI=true GOOGLE_GENAI_USE_ENTERPRISE=true; "
REPLY = "Hello from the gcp-setup emulator"

PROGRAMS = {
    "openai": """
from openai import OpenAI

client = OpenAI()
reply = client.chat.completions.create(model="gemini-3.8-flash", messages=[{"role": "user", "content": "Hi"}])
print(reply.choices[0].message.content)
""",
    "google-genai": """
from google import genai

client = genai.Client()
print(client.models.generate_content(model="gemini-3.8-flash", contents="Hi").text)
""",
    "google-genai-vertex-explicit": """
import os
from google import genai

client = genai.Client(
    vertexai=True, project=os.environ["GOOGLE_CLOUD_PROJECT"], location=os.environ["GOOGLE_CLOUD_LOCATION"]
)
print(client.models.generate_content(model="gemini-3.8-flash", contents="Hi").text)
""",
}
LOADERS = {  # {then}: the user's own exports, which win over the .env's either way
    "set -a": "set -a; . ./.env; set +a; {then}exec {python} {program}",
    "load_dotenv": "{then}exec {python} -c 'from dotenv import load_dotenv; load_dotenv(); import runpy; "
    'runpy.run_path("{program}")\'',
}


@pytest.fixture
def applied(provision_env, tmp_path: Path) -> Path:
    """A project set up by `apply --env-file .env` with a key-file ADC (the emulator issues its tokens).
    Returns the directory holding the .env."""
    result = CliRunner().invoke(cli, ["apply", *settings(tmp_path), "--yes"])
    assert result.exit_code == 0, result.output
    return tmp_path


def settings(tmp_path: Path) -> list[str]:
    billing = OPEN_ACCOUNT.removeprefix("billingAccounts/")
    key_file = (
        "--credentials",
        "key-file",
        "--allow-key-file",
        "--credentials-file",
        str(tmp_path / "key.json"),
    )
    return [
        "--project",
        PROJECT,
        "--create",
        "--billing-account",
        billing,
        "--env-file",
        str(tmp_path / ".env"),
        *key_file,
    ]


def run_program(directory: Path, name: str, loader: str, then: str = "") -> subprocess.CompletedProcess:
    program = directory / f"my_{name.replace('-', '_')}.py"  # not openai.py: it would shadow the library
    program.write_text(PROGRAMS[name])
    command = LOADERS[loader].format(python=sys.executable, program=program, then=then)
    user_env = {"PATH": os.environ["PATH"], "HOME": str(directory)}  # nothing of gcp-setup's or Google's
    return subprocess.run(
        ["sh", "-c", command], cwd=directory, env=user_env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("name", ["openai", "google-genai"])
def test_an_unmodified_program_reaches_gemini_with_only_the_env(applied, name, loader) -> None:
    result = run_program(applied, name, loader)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout


def test_the_env_holds_the_openai_pair_with_a_note_saying_why(applied) -> None:
    text = (applied / ".env").read_text()
    values = read_env_file(applied / ".env")
    assert values["OPENAI_API_KEY"] == values["GEMINI_API_KEY"]
    assert values["OPENAI_BASE_URL"].endswith("/v1beta/openai/")
    assert "# gcp-setup: OPENAI_API_KEY is GEMINI_API_KEY's string: the openai library reads only" in text


@pytest.mark.parametrize("flags", [["--no-openai-env"], ["--no-api-key"]])
def test_the_openai_pair_is_written_both_or_neither(provision_env, tmp_path, flags) -> None:
    result = CliRunner().invoke(cli, ["apply", *settings(tmp_path), *flags, "--yes"])
    assert result.exit_code == 0, result.output
    values = read_env_file(tmp_path / ".env")
    assert "OPENAI_API_KEY" not in values and "OPENAI_BASE_URL" not in values


def test_vertex_mode_works_offline_when_the_program_names_its_project_and_location(applied) -> None:
    """A service-account key file's token_uri is honoured, and a base URL with an explicit project and
    location keeps them in the path."""
    result = run_program(applied, "google-genai-vertex-explicit", "set -a", VERTEX)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout


def test_plain_genai_client_in_vertex_mode_cannot_reach_the_emulator_as_documented(applied) -> None:
    """google-genai 3.x, in Vertex mode from the environment with a base URL from the environment, drops
    the project and location and posts to the base URL itself. When this starts passing, docs/emulator.md's
    "Your own programs" is out of date."""
    result = run_program(applied, "google-genai", "set -a", VERTEX)
    assert result.returncode != 0
    assert "The requested URL / was not found" in result.stderr


@pytest.mark.skipif(shutil.which("direnv") is None, reason="direnv is not installed (apt install direnv)")
def test_direnv_dotenv_gives_plain_openai_the_env(applied) -> None:
    """direnv's stdlib `dotenv` in an `.envrc` beside the .env, allowed once; `direnv exec DIR` runs the
    program as a shell entering DIR would (its allow list lives under HOME, the user's)."""
    program = applied / "my_openai.py"
    program.write_text(PROGRAMS["openai"])
    (applied / ".envrc").write_text("dotenv\n")
    user_env = {"PATH": os.environ["PATH"], "HOME": str(applied)}
    subprocess.run(
        ["direnv", "allow", str(applied)], env=user_env, check=True, capture_output=True, timeout=60
    )
    result = subprocess.run(
        ["direnv", "exec", str(applied), sys.executable, str(program)],
        cwd=applied,
        env=user_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout
