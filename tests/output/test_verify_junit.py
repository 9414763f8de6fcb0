"""`verify --junit FILE` and the summary line, through the real CLI against the emulator: one test case
per check, a skip is <skipped>, a failure carries the diagnosis; no secret in the file."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.apikeys.models import ApiKeysBackend
from gcp_setup.verify import CHECK_NAMES


def verify(*args: str):
    return CliRunner().invoke(cli, ["verify", *args])


def test_the_report_has_one_test_case_per_check_and_a_failure_carries_the_diagnosis(
    gemini_project, world, tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("VERTEX_EXPRESS_API_KEY")  # vertex-express skips: no key for it
    world.backend(ApiKeysBackend).delete(gemini_project.api_key)  # gemini-api fails: the key is gone
    report = tmp_path / "verify.xml"
    result = verify("--junit", str(report))
    assert result.exit_code == 1
    suite = ET.parse(report).getroot().find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == list(CHECK_NAMES)
    assert (suite.get("tests"), suite.get("skipped")) == (str(len(CHECK_NAMES)), "1")
    assert int(suite.get("failures")) >= 1
    skipped = cases["vertex-express"].find("skipped")
    assert "VERTEX_EXPRESS_API_KEY" in skipped.get("message")
    failure = cases["gemini-api"].find("failure")
    assert failure.get("type") == "API_KEY_INVALID"
    assert "gcp-setup apply" in failure.get("message")  # the diagnosis: the fix, in one line
    assert cases["vertex"].find("failure") is None and cases["vertex"].find("skipped") is None
    assert gemini_project.api_key.key_string not in report.read_text()


def test_the_summary_line_says_how_many_checks_ran(gemini_project, monkeypatch) -> None:
    monkeypatch.delenv("VERTEX_EXPRESS_API_KEY")
    result = verify("--only", "gemini-api", "--only", "vertex-express")
    assert result.exit_code == 1  # vertex-express was asked for by name and skipped
    assert result.stdout.strip().splitlines()[-1] == "1 of 2 checks ran: 1 passed, 0 failed, 1 skipped"
    assert "asked for by --only but skipped: vertex-express" in result.stderr
    assert verify("--only", "gemini-api", "--only", "vertex-express", "--allow-skipped").exit_code == 0


def test_a_report_that_cannot_be_written_is_one_line(gemini_project, tmp_path) -> None:
    result = verify("--only", "gemini-api", "--junit", str(tmp_path / "missing" / "verify.xml"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --junit ") and result.stderr.count("\n") == 1
