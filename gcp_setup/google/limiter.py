"""The fleet's shared limiter: when Google answers 429 naming a quota, every request of the fleet that
spends that quota waits its turn, not only the one that was refused.

Google's rate quotas are requests per minute (Resource Manager's project creations, Service Usage's
mutate requests, IAM policy writes, API key creation); its 429 says which, in the ErrorInfo's metadata
(`quota_metric`, `quota_limit_value`). The limiter learns from that answer which method spends the quota
and its limit, then lets at most `limit` of those requests start in any 60 seconds, across the fleet's
threads (a sliding window: any minute Google counts then holds at most `limit`). Until a first 429 it
holds nothing back: the limits differ per project and organization, and a fleet under them never waits.

One quota is one gate for the whole fleet, whoever the consumer is: Service Usage's per-project quota is
then shared by the fleet's projects, which is stricter than Google needs but never refused.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gcp_setup.errors import GoogleApiError
from gcp_setup.google.errors import as_google_api_error

T = TypeVar("T")
WINDOW_S = 60.0


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class _Gate:
    """One quota: the start times of its latest requests, at most `limit` in any WINDOW_S."""

    limit: int
    started: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close_now(self, now: float) -> None:
        """Google refused one: count the window as spent, from now."""
        self.started = deque([now] * self.limit, maxlen=max(self.limit, 1))

    def wait_turn(self, clock: Clock) -> None:
        # The lock is held while waiting: the fleet's other callers of this quota queue behind the one
        # that waits, and only one of them sleeps.
        with self.lock:
            if self.limit == 0:
                return  # a limit of 0 frees no request by waiting: let the refusal through (retry.py)
            now = clock.now()
            if len(self.started) >= self.limit:
                wait_s = self.started[0] + WINDOW_S - now
                if wait_s > 0:
                    clock.sleep(wait_s)
                    now = clock.now()
            self.started.append(now)
            if len(self.started) > self.limit:
                self.started.popleft()


@dataclass
class QuotaLimiter:
    """Shared by every thread of a fleet run (GoogleSession.limiter)."""

    clock: Clock = field(default_factory=MonotonicClock)
    gates: dict[str, _Gate] = field(default_factory=dict)
    """quota metric -> its gate"""
    spends: dict[str, str] = field(default_factory=dict)
    """method -> the quota metric a 429 of it named"""
    refusals: int = 0
    """429s naming a quota, seen by the fleet."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def paced(self, method: str, fn: Callable[..., T]) -> Callable[..., T]:
        """`fn` (one attempt of a request of `method`), waiting its turn when its quota is known to bind,
        and teaching the limiter from a 429 that names a quota."""

        def attempt(*args: Any, **kwargs: Any) -> T:
            gate = self._gate_of(method)
            if gate is not None:
                gate.wait_turn(self.clock)
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                self._learn(method, exc)
                raise

        return attempt

    def _gate_of(self, method: str) -> _Gate | None:
        with self._lock:
            metric = self.spends.get(method)
            return self.gates.get(metric) if metric else None

    def _learn(self, method: str, exc: Exception) -> None:

        error = exc if isinstance(exc, GoogleApiError) else as_google_api_error(exc)
        metric = error.metadata.get("quota_metric") if error is not None and error.code == 429 else None
        if not metric or error is None:
            return
        limit = _limit(error.metadata.get("quota_limit_value"))
        with self._lock:
            self.refusals += 1
            self.spends[method] = metric
            gate = self.gates.setdefault(metric, _Gate(limit))
            gate.limit = min(gate.limit, limit)
        with gate.lock:
            gate.close_now(self.clock.now())


def _limit(value: str | None) -> int:
    """The quota's requests per minute as the 429 gives it; unknown: one a second, Google's most common
    write limit (Resource Manager allows 10 writes a second, a project creation costing 10)."""
    try:
        return max(int(value or ""), 0)
    except ValueError:
        return 60
