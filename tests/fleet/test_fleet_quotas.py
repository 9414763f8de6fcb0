"""The fleet's shared limiter against the emulator's quota model, quotas set low: every project gets
through, and the fleet meets fewer 429s than it has projects, because the first 429 naming a quota
holds back every later request that spends it, fleet-wide.

The emulator's clock is frozen: its minutes pass only when the limiter waits (the test's clock moves
the emulator's forward instead of sleeping), so the test never waits a real minute.
"""

from __future__ import annotations

import functools
import threading

from gcp_setup.commands.options import load_config
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.fleet.report import Quiet
from gcp_setup.fleet.run import fleet_schedule, fleet_session, run_fleet
from gcp_setup.fleet.work import apply_work

PROJECTS = [f"quota-fleet-{i:02d}" for i in range(1, 21)]
CREATES_PER_MINUTE = 4


class EmulatorClock:
    """The limiter's clock: waiting moves the emulator's frozen clock forward."""

    def __init__(self, emu) -> None:
        self.emu = emu
        self.t = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.emu.advance_clock(seconds)
            self.t += seconds


def test_low_quotas_slow_the_whole_fleet_down_instead_of_failing_it(provision_env):
    provision_env.set_realism(project_creates_per_minute=CREATES_PER_MINUTE)
    provision_env.freeze_clock()
    flags = {"create": True, "billing_account": OPEN_ACCOUNT.removeprefix("billingAccounts/")}
    configs = [load_config({**flags, "project": p}) for p in PROJECTS]
    session = fleet_session(provision_env.host, clock=EmulatorClock(provision_env))

    work = functools.partial(apply_work, fleet_schedule())
    results = run_fleet(configs, work, session=session, parallelism=8, display=Quiet())

    assert [r.project for r in results if not r.ok] == []
    refused = [r for r in provision_env.requests() if r["status"] == 429]
    assert 0 < len(refused) < len(PROJECTS)
    assert {r["method_id"] for r in refused} == {"cloudresourcemanager.projects.create"}
    assert session.limiter.refusals == len(refused)
