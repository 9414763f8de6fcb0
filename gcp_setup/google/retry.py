"""The one retry policy for Google API calls: 429, 5xx, ABORTED/UNAVAILABLE and dropped connections are
retried with exponential backoff and full jitter (Google's documented advice for its APIs); anything
else is raised at once as a GoogleApiError with a hint.

    project = retry.call(client.get_project, name="projects/p", retry=None)   # retry=None: the client's
                                                                             # own retries are off
Mutating calls are retried too: every step's apply treats "already exists"/"already done" as success,
so a create whose answer was lost can be sent again safely.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gcp_setup.google.errors import as_google_api_error, with_hint

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    initial_s: float = 0.05
    multiplier: float = 2.0
    max_delay_s: float = 4.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, initial * multiplier**attempt)]."""
        return rng.uniform(0, min(self.max_delay_s, self.initial_s * self.multiplier**attempt))


DEFAULT_POLICY = RetryPolicy()
_rng = random.Random()


def is_connection_error(exc: BaseException) -> bool:
    """A request that never got an answer: reset, refused, timed out, or the server hung up."""
    if isinstance(exc, OSError):  # ConnectionError, requests' ConnectionError, socket timeouts
        return True
    return type(exc).__module__.startswith("httplib2") or type(exc).__name__ == "TransportError"


def classify(exc: BaseException) -> tuple[bool, BaseException]:
    """(retryable, the exception to raise if not retried)."""
    api_error = as_google_api_error(exc) if isinstance(exc, Exception) else None
    if api_error is not None:
        return api_error.retryable, with_hint(api_error)
    if is_connection_error(exc):
        return True, exc
    return False, exc


def call(fn: Callable[..., T], *args, policy: RetryPolicy = DEFAULT_POLICY, **kwargs) -> T:
    """fn(*args, **kwargs), retried per `policy`; Google errors come out as GoogleApiError."""
    for attempt in range(policy.attempts):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            retryable, error = classify(exc)
            if not retryable or attempt == policy.attempts - 1:
                if error is exc:
                    raise
                raise error from exc
            delay = policy.delay(attempt, _rng)
            log.info("retrying %s in %.2fs after %s", getattr(fn, "__name__", fn), delay, error)
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


def execute(request, policy: RetryPolicy = DEFAULT_POLICY):
    """A google-api-python-client request object's execute(), under the same policy."""
    return call(request.execute, policy=policy, num_retries=0)
