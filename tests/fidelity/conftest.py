"""The fidelity suite (`make fidelity`): real clients against the emulator, one scenario per test, each
recording the shape of Google's answer it expects (tests/fidelity/shapes.py) and comparing it with a snapshot.

Snapshots live in tests/fidelity/snapshots/<target>/<module>.snapshot.json, in localstack-snapshot's format.
A scenario compares with the recording made on Google where there is one, else with the one made from the
emulator (a regression baseline). Run modes (docs/emulator.md, "Fidelity report"):

- default: against the in-process emulator, comparing;
- FIDELITY_SNAPSHOT_UPDATE=1: against the emulator, rewriting snapshots/emulator/;
- FIDELITY_TARGET=google (never in CI): against Google with the maintainer's credentials and a throwaway
  project, rewriting snapshots/google/ (target.py says what it needs).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localstack_snapshot.snapshots import SnapshotSession

from fidelity.shapes import baseline
from fidelity.target import Target, make_target
from fidelity.why import CLIENTS, WHY

SNAPSHOTS = Path(__file__).with_name("snapshots")
REPORT_ENV = "FIDELITY_REPORT"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.fidelity)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def target(_emulator_server: Any) -> Iterator[Target]:
    with make_target(_emulator_server) as made:
        yield made


@pytest.fixture
def t(target: Target, emu: Any) -> Target:
    """The target, reset (the emulator's world empty, every realism switch at its default)."""
    target.begin()
    return target


def _session(target_name: str, request: pytest.FixtureRequest, update: bool) -> SnapshotSession:
    module = Path(request.node.path).stem
    base = SNAPSHOTS / target_name / module
    base.parent.mkdir(parents=True, exist_ok=True)
    return SnapshotSession(base_file_path=str(base), scope_key=request.node.name, update=update, verify=True)


@pytest.fixture
def snapshot(request: pytest.FixtureRequest, t: Target) -> Iterator[SnapshotSession]:
    """localstack-snapshot's session: on Google it records; on the emulator it compares with Google's
    recording if there is one, else with the emulator's own (FIDELITY_SNAPSHOT_UPDATE=1 rewrites that)."""
    if t.name == "google":
        session = _session("google", request, update=True)
    elif os.environ.get("FIDELITY_SNAPSHOT_UPDATE") == "1":
        session = _session("emulator", request, update=True)
    else:
        recording = baseline(SNAPSHOTS, Path(request.node.path).stem, request.node.name)
        session = _session(recording, request, update=False)
    session.add_transformer(t.transformers())
    yield session
    session._persist_state()


# -- the report ------------------------------------------------------------------------------------------
def _scenario_of(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("scenario")
    if marker is None:
        raise pytest.UsageError(f"{item.nodeid}: every fidelity test declares @scenario(client, why)")
    client, *why = marker.args
    if client not in CLIENTS or any(w not in WHY for w in why):
        raise pytest.UsageError(f"{item.nodeid}: unknown client {client!r} or 'Why' item in {why}")
    return {"client": client, "why": why}


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    if call.when != "call" or item.get_closest_marker("fidelity") is None:
        return
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    outcome = "skipped" if call.excinfo and call.excinfo.errisinstance(pytest.skip.Exception) else None
    outcome = outcome or ("failed" if call.excinfo else "passed")
    record = {"scenario": item.nodeid.split("::", 1)[1], "module": Path(item.path).stem, **_scenario_of(item)}
    record.update(outcome=outcome, seconds=round(call.duration, 3), at=time.time())
    with open(path, "a") as out:
        out.write(json.dumps(record) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "scenario(client, *why): a fidelity scenario, its client and 'Why' items"
    )
    config.addinivalue_line("markers", "fidelity: the scenarios of `make fidelity` (tests/fidelity)")
