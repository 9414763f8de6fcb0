"""verify's checks run at once (gcp_setup/verify/__init__.py `run`): shown by the emulator's barrier, which
holds API requests until N are in flight together, a number that checks run one after another never reach.
What two checks share (the ADC token, models.list) is still asked once, and the report keeps the checks'
order."""

from __future__ import annotations

import json
from collections import Counter

from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.verify import CHECK_NAMES


def verify(*args: str):
    return CliRunner().invoke(cli, ["verify", *args])


def test_three_checks_have_their_first_requests_in_flight_together(gemini_project) -> None:
    """The first requests of three checks need nothing of each other: gemini-api's models.list through
    google-genai, openai-gemini's models.list through openai, and vertex-express's lookupKey of its key.
    Sent one after another, the first would wait at the barrier until its timeout."""
    emu = gemini_project.emu
    emu.clear_requests()
    emu.set_realism(barrier=3)
    result = verify()
    assert result.exit_code == 0, result.output
    concurrency = emu.concurrency()
    assert concurrency["barrier_timeouts"] == 0
    assert concurrency["max_in_flight"] >= 3


def test_what_checks_share_is_asked_once(gemini_project) -> None:
    """The token (the credentials check's, which the Vertex AI checks and the key lookups use) and
    google-genai's models.list (every check's model) are computed by the first check to ask."""
    emu = gemini_project.emu
    emu.clear_requests()
    assert verify().exit_code == 0
    paths = Counter(r["path"] for r in emu.requests())
    assert paths["/token"] == 1
    assert paths["/v1beta/models"] == 1


def test_the_report_keeps_the_checks_order_and_streams_in_it(gemini_project) -> None:
    result = verify("--format", "json")
    assert [c["name"] for c in json.loads(result.stdout)["checks"]] == list(CHECK_NAMES)
    table = verify().stdout.splitlines()
    rows = [line.split()[1] for line in table if line[:4] in ("ok  ", "FAIL", "skip")]
    assert rows == list(CHECK_NAMES)
