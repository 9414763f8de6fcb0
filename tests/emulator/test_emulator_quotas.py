"""The quota switches and the frozen clock the per-minute quotas are tested with (the quotas themselves are
scenarios of `make fidelity`, tests/fidelity/test_scenarios_quotas.py)."""

from __future__ import annotations

import pytest
import requests
from conftest import reset_keeping_the_login

from gcp_setup.emulator.control import EmulatorControl


@pytest.mark.parametrize(
    "switches",
    [
        {"api_keys_per_project": -1},
        {"service_accounts_per_project": "many"},
        {"project_creates_per_minute": True},
        {"billing_account_quotas": ["billingAccounts/x"]},
        {"billing_account_quotas": {"billingAccounts/x": 1.5}},
    ],
)
def test_a_bad_quota_is_refused(emu: EmulatorControl, switches: dict) -> None:
    response = requests.patch(f"{emu.url}/_emulator/realism", json=switches, timeout=10)
    assert response.status_code == 400 and "quotas are whole numbers" in response.json()["error"]["message"]


def test_a_frozen_clock_moves_only_when_advanced(emu: EmulatorControl, world) -> None:
    frozen = emu.freeze_clock()
    assert emu.advance_clock(0) == frozen
    assert emu.advance_clock(60) == frozen + 60
    reset_keeping_the_login(emu)
    assert world.frozen_at is None  # a reset lets time run again
