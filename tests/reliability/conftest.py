"""The suites `make reliability` runs and counts (issue 13): fault seeds, SIGKILLs, concurrent applies,
bad inputs, emulator fuzz, and a scan of everything gcp-setup printed for the run's actual secrets.

Each test adds its counts to the tally (reliability_kit.Tally), a JSON-lines file named by
RELIABILITY_REPORT; `python -m tests.reliability.table FILE` prints the table docs/safety.md quotes.
Every test here is marked `reliability` (and `slow`): `make test` leaves them to `make reliability`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_kit import Tally


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def tally() -> Tally:
    return Tally()
