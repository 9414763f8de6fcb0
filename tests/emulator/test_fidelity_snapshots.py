"""The fidelity suite's recorder, offline: its transformers leave no ID or secret in a recorded shape, and
its compare path (localstack-snapshot) passes an equal answer and fails a different one. No recording of
Google can be made here; these use answers shaped as Google's and snapshots recorded from the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fidelity.shapes import baseline, shape, skeleton, transformers
from localstack_snapshot.snapshots import SnapshotAssertionError, SnapshotSession

PROJECT = "my-throwaway-42"
GOOGLE_LIKE = {
    "error": {
        "code": 403,
        "message": (
            f"Identity and Access Management (IAM) API has not been used in project {PROJECT} (123456789012) "
            "before; key AIzaSyA-abcdefghijklmnopqrstuvwxyz01234 token ya29.a0AfB_byC-secret "
            "caller 203.0.113.7 "
            "account sa-one@my-throwaway-42.iam.gserviceaccount.com uid 112233445566778899001 at "
            "2026-11-29T10:11:12.345Z key 0123456789abcdef0123456789abcdef01234567 uuid "
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427 role roles/browser_withcond_0123456789abcdef0123 "
            "ETag 'BwYAbC12dE4=' user maintainer@gmail.com "
            "auth AQ.Ab8RN6Labcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
        ),
        "status": "PERMISSION_DENIED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {"consumer": "projects/123456789012", "service": "iam.googleapis.com"},
            }
        ],
    }
}
SECRETS_AND_IDS = (
    PROJECT,
    "123456789012",
    "AIzaSyA",
    "ya29.",
    "203.0.113.7",
    "sa-one@",
    "maintainer@",
    "112233445566778899001",
    "2026-11-29",
    "0123456789abcdef0123456789abcdef01234567",
    "1b4e28ba",
    "0123456789abcdef0123",
    "BwYAbC12dE4=",
    "AQ.Ab8",
)


def _session(tmp_path: Path, update: bool) -> SnapshotSession:
    session = SnapshotSession(
        base_file_path=str(tmp_path / "scenarios"), scope_key="s", update=update, verify=True
    )
    session.add_transformer(transformers([PROJECT]))
    return session


def _record(tmp_path: Path, answer: dict) -> None:
    session = _session(tmp_path, update=True)
    session.match("answer", shape(403, answer))
    session._assert_all()
    session._persist_state()


def test_the_transformers_leave_no_id_or_secret(tmp_path: Path) -> None:
    _record(tmp_path, GOOGLE_LIKE)
    recorded = (tmp_path / "scenarios.snapshot.json").read_text()
    assert [s for s in SECRETS_AND_IDS if s in recorded] == []
    content = json.loads(recorded)["s"]["recorded-content"]["answer"]
    assert content["error"]["reason"] == "SERVICE_DISABLED"
    assert content["error"]["metadata_keys"] == ["consumer", "service"]
    assert "<project-0> (<number>)" in content["error"]["message"]


def test_the_compare_path_passes_an_equal_answer(tmp_path: Path) -> None:
    _record(tmp_path, GOOGLE_LIKE)
    other_run = json.loads(json.dumps(GOOGLE_LIKE).replace("123456789012", "987654321098"))
    session = _session(tmp_path, update=False)
    session.match("answer", shape(403, other_run))
    assert all(session._assert_all())


def test_the_compare_path_fails_a_different_answer(tmp_path: Path) -> None:
    _record(tmp_path, GOOGLE_LIKE)
    different = json.loads(json.dumps(GOOGLE_LIKE).replace("SERVICE_DISABLED", "IAM_PERMISSION_DENIED"))
    session = _session(tmp_path, update=False)
    session.match("answer", shape(403, different))
    with pytest.raises(SnapshotAssertionError):
        session._assert_all()


def test_a_success_is_recorded_as_field_names_and_types() -> None:
    answer = {"name": "projects/1", "labels": {"a": "b"}, "items": [{"n": 1}, {"n": 2}], "done": True}
    assert shape(200, answer) == {
        "status": 200,
        "fields": {"done": "bool", "items": [{"n": "int"}], "labels": {"a": "str"}, "name": "str"},
    }
    assert skeleton([]) == []


def test_an_error_in_a_list_is_an_error() -> None:
    assert (
        shape(404, [{"error": {"code": 404, "status": "NOT_FOUND", "message": "m"}}])["error"]["code"] == 404
    )


def test_a_google_recording_takes_precedence(tmp_path: Path) -> None:
    (tmp_path / "google").mkdir()
    assert baseline(tmp_path, "test_scenarios_x", "test_a") == "emulator"
    (tmp_path / "google" / "test_scenarios_x.snapshot.json").write_text(json.dumps({"test_a": {}}))
    assert baseline(tmp_path, "test_scenarios_x", "test_a") == "google"
    assert baseline(tmp_path, "test_scenarios_x", "test_b") == "emulator"


def test_every_scenario_of_the_suite_has_an_emulator_recording() -> None:
    """The shipped baseline: a scenario without one fails `make fidelity` ("No state recorded")."""
    recorded = Path(__file__).parent.parent / "fidelity" / "snapshots" / "emulator"
    assert sorted(p.name for p in recorded.glob("*.snapshot.json")) == sorted(
        f"{p.stem}.snapshot.json"
        for p in (Path(__file__).parent.parent / "fidelity").glob("test_scenarios_*.py")
    )
