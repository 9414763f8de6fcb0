"""The one retry policy for Google API calls: 429, 5xx, ABORTED/UNAVAILABLE and dropped connections are
retried with exponential backoff and full jitter (Google's documented advice for its APIs); anything
else is raised at once as a GoogleApiError with a hint.

    project = retry.call(client.get_project, name="projects/p", retry=None, session=session)
    # retry=None: the client's own retries are off; session: the run (see below)
Mutating calls are retried too: every step's apply treats "already exists"/"already done" as success,
so a create whose answer was lost can be sent again safely.

An API this run has just enabled answers SERVICE_DISABLED for a while (Google: "wait a few minutes
for the action to propagate"). The services step records what it enabled on the run's session
(`GoogleSession.note_enabled`); such an answer for one of those services is retried, with the same
backoff, for up to PROPAGATION_WINDOW_S after the enablement.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from gcp_setup.google import deadline
from gcp_setup.google.errors import as_google_api_error, with_hint

if TYPE_CHECKING:
    from gcp_setup.google.session import GoogleSession

T = TypeVar("T")
log = logging.getLogger(__name__)

PROPAGATION_WINDOW_S = 180.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    initial_s: float = 0.05
    multiplier: float = 2.0
    max_delay_s: float = 4.0
    unanswered: bool = True
    """Send again a request that got no answer (dropped connection). False for a create that is not
    idempotent (a service-account key): the first may have been carried out."""

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, initial * multiplier**attempt)]."""
        return rng.uniform(0, min(self.max_delay_s, self.initial_s * self.multiplier**attempt))


DEFAULT_POLICY = RetryPolicy()
ANSWERED_ONLY = RetryPolicy(unanswered=False)
_rng = random.Random()


def _propagation_deadline(exc: BaseException, session: GoogleSession | None) -> float | None:
    """When a SERVICE_DISABLED answer about a service the run enabled moments ago stops being worth
    retrying."""
    api_error = as_google_api_error(exc) if isinstance(exc, Exception) and session else None
    if api_error is None or api_error.reason != "SERVICE_DISABLED":
        return None
    since = session.enabled_at.get(api_error.metadata.get("service", ""))
    return None if since is None else since + PROPAGATION_WINDOW_S


def is_connection_error(exc: BaseException) -> bool:
    """A request that never got an answer: reset, refused, timed out, or the server hung up."""
    if isinstance(exc, OSError):  # ConnectionError, requests' ConnectionError, socket timeouts
        return True
    return type(exc).__module__.startswith("httplib2") or type(exc).__name__ == "TransportError"


def classify(exc: BaseException) -> tuple[bool, BaseException]:
    """(retryable, the exception to raise if not retried). No answer in time is final (deadline.py)."""
    api_error = as_google_api_error(exc) if isinstance(exc, Exception) else None
    if api_error is not None:
        return api_error.retryable, with_hint(api_error)
    no_answer = deadline.timed_out(exc)
    if no_answer is not None:
        return False, no_answer
    if is_connection_error(exc):
        return True, exc
    return False, exc


def call(
    fn: Callable[..., T],
    *args,
    policy: RetryPolicy = DEFAULT_POLICY,
    session: GoogleSession | None = None,
    **kwargs,
) -> T:
    """fn(*args, **kwargs), retried per `policy`; Google errors come out as GoogleApiError. With the
    run's `session`, SERVICE_DISABLED for an API it has just enabled is waited out too."""
    if "retry" in kwargs:  # a google-cloud-* method: without a timeout its REST transport may wait forever
        kwargs.setdefault("timeout", deadline.seconds())
    attempt = 0
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            retryable, error = classify(exc)
            retryable = retryable and (policy.unanswered or not is_connection_error(exc))
            propagating_until = _propagation_deadline(exc, session)
            propagating = propagating_until is not None and time.monotonic() < propagating_until
            if not propagating and (not retryable or attempt >= policy.attempts - 1):
                if error is exc:
                    raise
                raise error from exc
            delay = policy.delay(min(attempt, 16), _rng)
            if propagating:
                delay = max(delay, policy.initial_s)
            log.info("retrying %s in %.2fs after %s", getattr(fn, "__name__", fn), delay, error)
            time.sleep(delay)
            attempt += 1


def execute(request, policy: RetryPolicy = DEFAULT_POLICY, session: GoogleSession | None = None):
    """A google-api-python-client request object's execute(), under the same policy."""
    return call(request.execute, policy=policy, session=session, num_retries=0)
