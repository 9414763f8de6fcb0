"""Waiting for long-running operations (google.longrunning.Operation), from any client.

Polls start fast (most operations finish within a second; the emulator's at once) and back off
exponentially, so a slow operation costs few requests. Every poll after the first reports progress.

    started = retry.call(client.batch_enable_services, request=request, retry=None)   # google-cloud-*
    op = operations.wait_cloud_operation(client, started, "enabling 7 APIs", ctx.progress_note)
    op = operations.wait_discovery_operation(body, get_operation)                     # discovery clients

`wait(poll, ...)` is the general form; `poll` does its own retries (retry.call / retry.execute), `wait`
only paces the polls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import retry


@dataclass(frozen=True)
class PollSchedule:
    first_s: float = 0.05
    multiplier: float = 1.6
    max_interval_s: float = 5.0
    timeout_s: float = 600.0


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
) -> Any:
    """Poll until done; return the finished operation, or raise GoogleApiError if it failed.
    `first` is the operation as the starting call returned it (no poll needed when already done)."""
    started = time.monotonic()
    interval = schedule.first_s
    op = first if first is not None else poll()
    while not is_done(op):
        elapsed = time.monotonic() - started
        if elapsed > schedule.timeout_s:
            raise GoogleApiError(
                f"{what}: operation still running after {elapsed:.0f} s",
                hint="it may still finish; run the same command again later",
            )
        progress(f"{what}: waiting ({elapsed:.1f} s)")
        time.sleep(interval)
        interval = min(schedule.max_interval_s, interval * schedule.multiplier)
        op = poll()
    failure = operation_error(op)
    if failure:
        code, message = failure
        raise GoogleApiError(f"{what} failed: {message}", code=_RPC_CODE_HTTP.get(code, code))
    return op


def _silent(message: str) -> None:
    """Progress sink when the caller shows none."""


def wait_discovery_operation(
    operation: dict[str, Any],
    get: Callable[[str], dict[str, Any]],
    progress: Callable[[str], None] = _silent,
    what: str = "",
) -> dict[str, Any]:
    """wait() for a discovery client's operation dict; `get(name)` fetches it again (with retries)."""
    name = operation["name"]
    return wait(lambda: get(name), what or name, progress, first=operation)


def wait_cloud_operation(client: Any, started: Any, what: str, progress: Callable[[str], None]) -> Any:
    """wait() for the api_core Operation a google-cloud-* client returned, polled through that client's
    own get_operation."""
    first = started.operation
    return wait(
        lambda: retry.call(client.get_operation, {"name": first.name}, retry=None),
        what,
        progress,
        first=first,
    )
