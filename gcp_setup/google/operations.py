"""Waiting for long-running operations (google.longrunning.Operation), from any client.

Polls back off exponentially (50 ms, x1.6, at most 5 s), timed from the start of the previous poll; the
first goes at once. Every poll after the first reports progress. What that costs: bench/README.md.

This is a wait, not a retry loop: each poll is one call under the retry policy (client.Client's
`wait_operation` and `wait_cloud_operation` pass it in), and `wait` only paces the polls.

Why not google.api_core.operation: the discovery clients answer operations as dicts, where
`operation.from_http_json` wants a protobuf result type and a transport of its own; and its polling is a
jittered api_core Retry timed from the end of each poll, with no progress callback and no injectable
clock, where this one counts the round trip, reports each poll, and is tested on a fake clock
(tests/google/test_operations.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError


@dataclass(frozen=True)
class PollSchedule:
    """When each poll starts, counted from the start of the one before it (the first: from the answer
    of the call that started the operation)."""

    first_s: float = 0.0
    interval_s: float = 0.05
    """Between the starts of the first and second polls; each later interval is `multiplier` times
    the one before, up to max_interval_s."""
    multiplier: float = 1.6
    max_interval_s: float = 5.0
    timeout_s: float = 600.0

    def intervals(self) -> Iterator[float]:
        yield self.first_s
        interval = self.interval_s
        while True:
            yield interval
            interval = min(self.max_interval_s, interval * self.multiplier)


DEFAULT_SCHEDULE = PollSchedule()


def is_done(op: Any) -> bool:
    return bool(op.get("done") if isinstance(op, dict) else op.done)


def operation_error(op: Any) -> tuple[int, str] | None:
    """(code, message) of a failed operation, for dicts (discovery clients) and protos (cloud clients)."""
    if isinstance(op, dict):
        error = op.get("error")
        return (int(error.get("code", 0)), error.get("message", "")) if error else None
    if op.HasField("error"):
        return op.error.code, op.error.message
    return None


_RPC_CODE_HTTP = {3: 400, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 13: 500, 14: 503, 16: 401}


def wait(
    poll: Callable[[], Any],
    what: str,
    progress: Callable[[str], None],
    first: Any = None,
    schedule: PollSchedule = DEFAULT_SCHEDULE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Poll until done; return the finished operation, or raise GoogleApiError if it failed.
    `first` is the operation as the starting call returned it (no poll needed when already done)."""
    started = previous = clock()
    intervals = schedule.intervals()
    op = first if first is not None else poll()
    while not is_done(op):
        now = clock()
        if now - started > schedule.timeout_s:
            raise GoogleApiError(
                f"{what}: operation still running after {now - started:.0f} s",
                hint="it may still finish; run the same command again later",
            )
        progress(f"{what}: waiting ({now - started:.1f} s)")
        sleep(max(0.0, previous + next(intervals) - now))
        previous = clock()
        op = poll()
    failure = operation_error(op)
    if failure:
        code, message = failure
        raise GoogleApiError(f"{what} failed: {message}", code=_RPC_CODE_HTTP.get(code, code))
    return op
