"""Variables in the shell that change what the .env means: a user's program (a subprocess that loads the
.env with python-dotenv and calls google-genai or openai) shows what the library really does with them, and
apply and verify name each such variable, its library's rule and the fix, in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.secrets.env_file import read_env_file
from gcp_setup.verify.environment import warnings

PROGRAM = """
import json, os
from dotenv import load_dotenv
load_dotenv(os.environ["ENV_FILE"])  # as users do: the shell's variables are kept
from google import genai
client = genai.Client()
print(json.dumps({"vertexai": bool(client.vertexai), "api_key": client._api_client.api_key,
                  "project": client._api_client.project}))
"""


def users_program(env_file: Path, shell: dict[str, str]) -> dict:
    """What google-genai's Client() chose, in a program of the user's that loads `env_file`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "GEMINI_", "OPENAI_"))}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        env={**clean, **shell, "ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def dotenv(tmp_path: Path) -> Path:
    """A .env as apply writes it for the Gemini API path."""
    path = tmp_path / ".env"
    path.write_text(
        "GOOGLE_CLOUD_PROJECT=my-gemini-1\nGOOGLE_CLOUD_LOCATION=global\nGOOGLE_GENAI_USE_VERTEXAI=false\n"
        "GOOGLE_GENAI_USE_ENTERPRISE=false\nGEMINI_API_KEY=AQ.Ab8-the-env-files-key\n"
        "OPENAI_BASE_URL=https://generativelanguage.googleapis.com/v1beta/openai/\n"
    )
    return path


def test_the_env_file_alone_means_the_gemini_api_with_its_key(dotenv) -> None:
    chosen = users_program(dotenv, {})
    assert (chosen["vertexai"], chosen["api_key"]) == (False, "AQ.Ab8-the-env-files-key")
    assert warnings(read_env_file(dotenv), {}) == []


def test_google_api_key_in_the_shell_is_the_key_google_genai_sends(dotenv) -> None:
    shell = {"GOOGLE_API_KEY": "AIza-a-stale-standard-key"}
    assert users_program(dotenv, shell)["api_key"] == "AIza-a-stale-standard-key"
    (line,) = warnings(read_env_file(dotenv), shell)
    assert line.startswith("$GOOGLE_API_KEY in your environment overrides the .env: google-genai sends")
    assert line.endswith("unset GOOGLE_API_KEY")


def test_google_genai_use_enterprise_in_the_shell_switches_to_vertex_ai(dotenv) -> None:
    """Google's own setup writes GOOGLE_GENAI_USE_ENTERPRISE=true; load_dotenv keeps it over the .env's."""
    shell = {"GOOGLE_GENAI_USE_ENTERPRISE": "true"}
    assert users_program(dotenv, shell)["vertexai"] is True
    (line,) = warnings(read_env_file(dotenv), shell)
    assert "$GOOGLE_GENAI_USE_ENTERPRISE" in line and "reads GOOGLE_GENAI_USE_ENTERPRISE before" in line


def test_use_vertexai_in_the_shell_loses_to_the_env_files_use_enterprise(dotenv, tmp_path) -> None:
    shell = {"GOOGLE_GENAI_USE_VERTEXAI": "true"}
    assert users_program(dotenv, shell)["vertexai"] is False  # the .env's GOOGLE_GENAI_USE_ENTERPRISE wins
    assert warnings(read_env_file(dotenv), shell) == []
    old = tmp_path / "old.env"  # written before the .env had GOOGLE_GENAI_USE_ENTERPRISE
    old.write_text(dotenv.read_text().replace("GOOGLE_GENAI_USE_ENTERPRISE=false\n", ""))
    assert users_program(old, shell)["vertexai"] is True
    (line,) = warnings(read_env_file(old), shell)
    assert line.startswith("$GOOGLE_GENAI_USE_VERTEXAI") and line.endswith("unset GOOGLE_GENAI_USE_VERTEXAI")


def test_a_project_in_the_shell_drops_an_express_key(tmp_path) -> None:
    express = tmp_path / "express.env"
    express.write_text("GOOGLE_GENAI_USE_ENTERPRISE=true\nGOOGLE_API_KEY=AQ.Ab8-express-key\n")
    assert users_program(express, {})["api_key"] == "AQ.Ab8-express-key"
    shell = {"GOOGLE_CLOUD_PROJECT": "someone-elses-1"}
    chosen = users_program(express, shell)
    assert (chosen["api_key"], chosen["project"]) == (None, "someone-elses-1")
    (line,) = warnings(read_env_file(express), shell)
    assert line.startswith("$GOOGLE_CLOUD_PROJECT") and "drops an API key" in line


def test_openai_variables_the_shell_keeps_over_the_env_file(dotenv) -> None:
    shell = {"OPENAI_BASE_URL": "https://api.openai.com/v1"}
    (line,) = warnings(read_env_file(dotenv), shell)
    assert line.startswith("$OPENAI_BASE_URL") and "python-dotenv" in line and "unset OPENAI_BASE_URL" in line


@pytest.mark.parametrize(
    ("variable", "value"),
    [("GOOGLE_GENAI_USE_ENTERPRISE", "true"), ("GOOGLE_API_KEY", "AIzaSyA-stale-standard-key-0000000000")],
)
def test_verify_names_the_variable_and_the_fix(gemini_project, monkeypatch, variable, value) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(cli, ["verify", "--only", "gemini-api", "--format", "json"])
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("warning: ")]
    assert f"${variable} in your environment overrides the .env" in line
    assert f"unset {variable}" in line
    assert value not in result.output
