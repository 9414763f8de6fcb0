"""verify's `interactions` check on the emulator: a stored interaction and a second chained on it through
google-genai with the auth key, and its one-line diagnosis when the key or the model is wrong."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.apikeys.models import ApiKeysBackend
from gcp_setup.emulator.generativelanguage.interactions_models import InteractionsBackend


def verify_interactions(*extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(
        cli, ["verify", "--only", "interactions", "--format", "json", "--propagation-wait", "0", *extra]
    )
    return result.exit_code, json.loads(result.stdout)


def test_it_chains_two_interactions_and_deletes_them(gemini_project, world) -> None:
    gemini_project.emu.clear_requests()
    code, report = verify_interactions()
    (check,) = report["checks"]
    assert code == 0 and check["name"] == "interactions" and check["status"] == "passed", check
    assert "one chained on it" in check["detail"] and check["hint"].startswith("sent an auth key")
    paths = [(r["method"], r["path"]) for r in gemini_project.emu.requests() if "interactions" in r["path"]]
    assert [m for m, _ in paths] == ["POST", "POST", "DELETE", "DELETE"]
    assert world.backend(InteractionsBackend).stored == {}


def test_a_wrong_key_fails_with_a_one_line_fix(gemini_project, world) -> None:
    world.backend(ApiKeysBackend).delete(gemini_project.api_key)
    code, report = verify_interactions()
    (check,) = report["checks"]
    assert code == 1 and check["status"] == "failed" and check["reason"] == "API_KEY_INVALID"
    assert "$GEMINI_API_KEY is not a valid key" in check["hint"] and "\n" not in check["hint"]


def test_a_retired_model_fails_with_a_one_line_fix(gemini_project) -> None:
    code, report = verify_interactions("--model", "gemini-3-pro-preview")
    (check,) = report["checks"]
    assert code == 1 and check["status"] == "failed" and check["reason"] == "MODEL_NOT_FOUND"
    assert check["hint"].startswith("model gemini-3-pro-preview is retired") and "\n" not in check["hint"]
    assert "gcp-setup models" in check["hint"]


def test_no_generate_skips_it(gemini_project) -> None:
    code, report = verify_interactions("--no-generate", "--allow-skipped")
    (check,) = report["checks"]
    assert code == 0 and check["status"] == "skipped" and "--no-generate" in check["hint"]


def test_the_snippet_docs_verify_shows_runs_with_the_env_apply_wrote(provision_env, tmp_path) -> None:
    """docs/verify.md's program, run as a user runs it: a subprocess with the .env's values exported."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
    from gcp_setup.secrets.env_file import read_env_file

    doc = (Path(__file__).resolve().parent.parent.parent / "docs" / "verify.md").read_text()
    (snippet,) = re.findall(r"<!-- interactions-snippet:[^>]*-->\n```python\n(.*?)```", doc, re.DOTALL)
    env_file = tmp_path / ".env"
    billing = OPEN_ACCOUNT.removeprefix("billingAccounts/")
    create = ["--project", "interactions-doc-1", "--create", "--billing-account", billing]
    applied = CliRunner().invoke(cli, ["apply", *create, "--env-file", str(env_file), "--yes"])
    assert applied.exit_code == 0, applied.output
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "GEMINI_"))}
    environ.update(read_env_file(env_file))
    ran = subprocess.run(
        [sys.executable, "-c", snippet], env=environ, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip()


def test_the_free_tier_limit_0_is_named_and_not_waited_for(gemini_project, world) -> None:
    from gcp_setup.emulator.billing.models import BillingBackend
    from gcp_setup.emulator.generativelanguage.models import GenerativeModels

    world.backend(GenerativeModels).switches.no_free_tier_models.add("gemini-3.8-flash")
    world.backend(BillingBackend).link(gemini_project.project, "")
    gemini_project.emu.clear_requests()
    code, report = verify_interactions("--model", "gemini-3.8-flash")
    (check,) = report["checks"]
    assert (
        code == 1
        and check["reason"] == "FREE_TIER_LIMIT_0"
        and "link a paid billing account" in check["hint"]
    )
    creates = [r for r in gemini_project.emu.requests() if r["path"] == "/v1beta/interactions"]
    assert len(creates) == 1  # sent once: no wait frees a quota of 0
