"""Auth key strings start AQ. and also IQ. (and may start otherwise): gcp-setup never judges a key by its
prefix. An IQ. key works on every path, verify learns its kind from Google (keys:lookupKey), and the
string is kept out of every line printed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.verify.core import redact_all
from gcp_setup.verify.keys import STANDARD, kind_from_string

IQ_KEY = "IQ.Ab8RN6Jq3xk0_ZDxAqKp-4Cqf2yQwVh9Ls1eMb7Tn0Ju5Wc3Pz"


def test_an_iq_key_passes_every_key_check_and_is_never_printed(gemini_project, monkeypatch) -> None:
    gemini_project.api_key.key_string = IQ_KEY
    monkeypatch.setenv("GEMINI_API_KEY", IQ_KEY)
    only = ["--only", "gemini-api", "--only", "openai-gemini", "--verbosity", "debug"]
    result = CliRunner().invoke(cli, ["verify", "--format", "json", *only])
    assert result.exit_code == 0, result.output
    checks = json.loads(result.stdout)["checks"]
    assert [c["status"] for c in checks] == ["passed", "passed"]
    assert checks[0]["hint"].startswith("sent an auth key")
    assert IQ_KEY not in result.output


def test_only_the_standard_form_is_read_from_a_string() -> None:
    assert kind_from_string("AIzaSyA-0123456789abcdefghijklmnopqrstu") == STANDARD
    assert kind_from_string(IQ_KEY) is None  # not AUTH by prefix: lookupKey says
    assert kind_from_string("AQ.Ab8RN6Jq3xk0_ZDxAqKp-4Cqf2yQwVh9Ls1eMb7Tn0Ju5Wc3Pz") is None


def test_a_logged_iq_key_is_redacted_by_its_shape() -> None:
    assert IQ_KEY not in redact_all(f"GET /v1beta/models?key={IQ_KEY}", [])
