"""`gcp-setup models`: what models.list shows the API key, filtered, as a table or JSON."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.apikeys.models import ApiKeysBackend


def run_models(*args: str):
    return CliRunner().invoke(cli, ["models", *args])


def test_table_lists_name_methods_and_description(gemini_project) -> None:
    result = run_models()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "METHODS", "DESCRIPTION"]
    assert len(lines) == 29
    flash = next(line for line in lines if line.startswith("gemini-3.8-flash "))
    assert "generateContent" in flash


def test_json_is_stable_and_filters_by_method(gemini_project) -> None:
    result = run_models("--format", "json", "--method", "generateContent")
    models = json.loads(result.stdout)["models"]
    assert all(
        list(m) == ["name", "displayName", "description", "supportedGenerationMethods"] for m in models
    )
    assert all("generateContent" in m["supportedGenerationMethods"] for m in models)
    names = {m["name"] for m in models}
    assert "gemini-3.8-flash" in names and "gemini-embedding-001" not in names


def test_filter_matches_name_or_description(gemini_project) -> None:
    models = json.loads(run_models("--format", "json", "--filter", "EMBEDDING").stdout)["models"]
    assert models and all("embedding" in (m["name"] + m["description"]).lower() for m in models)
    assert run_models("--filter", "no-such-model").stdout.strip() == "no models match"


def test_without_a_key_the_error_says_what_to_set(gemini_project, monkeypatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    result = run_models()
    assert result.exit_code == 2
    assert "GEMINI_API_KEY" in result.stderr and result.stderr.count("\n") == 1


def test_a_deleted_key_gets_a_one_line_diagnosis_without_the_key(gemini_project, world) -> None:
    world.backend(ApiKeysBackend).delete(gemini_project.api_key)
    result = run_models()
    assert result.exit_code == 1
    assert "API key not valid" in result.stderr and "gcp-setup apply" in result.stderr
    assert result.stderr.count("\n") == 1
    assert gemini_project.api_key.key_string not in result.output
