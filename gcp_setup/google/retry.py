"""The one retry policy, for every call gcp-setup makes: the API clients (client.py) and verify's model
calls through google-genai and openai alike.

    retry.call(fn, *args, policy=DEFAULT_POLICY, waits=...)   # Google's error, with a hint, at the end

Retried within one call's budget (RetryPolicy): 5xx, ABORTED, UNAVAILABLE, a 429 whose RetryInfo fits the
budget, and a request that got no answer because the connection broke (unless `unanswered=False`). Not
retried: a quota whose limit is 0, no answer in time, every other error. Propagation (SERVICE_DISABLED
from an API enabled moments ago) is waited for beside the budget, as long as the caller's `Waits` allow.
The figures and the table of answers: docs/retries.md.

Why not google.api_core.retry.Retry: it bounds a call by seconds only (max attempts is an open request,
googleapis/python-api-core#535), its predicate judges one exception without the call's history (which
propagation allowance and RetryInfo need), it sleeps with time.sleep (tests move the emulator's clock
instead of waiting), and on giving up it raises RetryError rather than Google's own error. The backoff
itself is api_core's: `exponential_sleep_generator` (truncated exponential, full jitter).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import deadline
from gcp_setup.google.errors import as_google_api_error, is_quota_limit_0, is_refused, with_hint

T = TypeVar("T")
log = logging.getLogger(__name__)

SERVICE_DISABLED = "SERVICE_DISABLED"

Waits = Callable[[GoogleApiError], float | None]
"""For an error answer that may be propagation: how many more seconds it is worth waiting for, else None.
Asked until it answers a number, once per call; the waits are then counted against that allowance."""
OnRetry = Callable[[BaseException, float], None]
"""Told of each retry: the error (a GoogleApiError for an answer), and the seconds before the next attempt."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    budget_s: float = 10.0
    """Seconds of waiting between the attempts of one call, in all (propagation waits aside)."""
    initial_s: float = 0.05
    multiplier: float = 2.0
    max_delay_s: float = 4.0
    unanswered: bool = True
    """Send again a request that got no answer (dropped connection). False for a create that is not
    idempotent (a service-account key): the first may have been carried out."""


DEFAULT_POLICY = RetryPolicy()
ANSWERED_ONLY = RetryPolicy(unanswered=False)
ONCE = RetryPolicy(attempts=1)
"""Only propagation is waited for: setIamPolicy, whose caller reads the policy again instead."""


def service_enabled_recently(
    enabled_since: Callable[[GoogleApiError], float | None], window_s: float
) -> Waits:
    """Waits for SERVICE_DISABLED answers about a service known to be enabled since `enabled_since(error)`
    (a time.monotonic() time, or None when not known to be): until `window_s` after that."""

    def allowance(error: GoogleApiError) -> float | None:
        if error.reason != SERVICE_DISABLED:
            return None
        since = enabled_since(error)
        return None if since is None else since + window_s - time.monotonic()

    return allowance


def is_connection_error(exc: BaseException) -> bool:
    """A request that never got an answer: reset, refused, or the server hung up. (No answer in time is
    deadline.timed_out, asked first.)"""
    if isinstance(exc, OSError):  # ConnectionError, requests' ConnectionError
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    # httplib2's errors; google-auth's and httpx2's (google-genai) TransportError; openai's wrapper
    return type(exc).__module__.startswith("httplib2") or bool(
        names & {"TransportError", "APIConnectionError"}
    )


@dataclass
class _Call:
    """The retry decisions of one call, with what it has used of its budget."""

    policy: RetryPolicy
    waits: Waits | None
    attempts: int = 1
    waited_s: float = 0.0
    allowance_s: float | None = None
    """Propagation: seconds still worth waiting, once an answer was found to be propagation."""
    backoff: Iterator[float] | None = None

    def next_delay(self, exc: BaseException, error: GoogleApiError | None) -> float | None:
        """Seconds to wait before the next attempt, or None: give up."""
        if self.backoff is None:  # imported at the first failure: a call that succeeds needs none of it
            from google.api_core.retry import exponential_sleep_generator

            self.backoff = exponential_sleep_generator(
                self.policy.initial_s, self.policy.max_delay_s, self.policy.multiplier
            )
        delay = next(self.backoff)
        if error is not None and self._propagating(error):
            delay = max(delay, self.policy.initial_s)
            if self.allowance_s is None or delay > self.allowance_s:
                return None
            self.allowance_s -= delay
            return delay
        if not self._retryable(exc, error) or self.attempts >= self.policy.attempts:
            return None
        if self.waited_s + delay > self.policy.budget_s:
            return None
        self.attempts += 1
        self.waited_s += delay
        return delay

    def _propagating(self, error: GoogleApiError) -> bool:
        """`error` is propagation worth waiting for; the first such answer sets the allowance."""
        allowance = self.waits(error) if self.waits is not None else None
        if allowance is None:
            return False
        if self.allowance_s is None:
            self.allowance_s = allowance
        return True

    def _retryable(self, exc: BaseException, error: GoogleApiError | None) -> bool:
        if error is None:  # no answer; a refused connection is not retried: nothing listens there
            unanswered = deadline.timed_out(exc) is None and is_connection_error(exc) and not is_refused(exc)
            return unanswered and self.policy.unanswered
        if is_quota_limit_0(error):
            return False
        if error.retry_after_s is not None and error.retry_after_s > self.policy.budget_s - self.waited_s:
            return False  # Google says when: later than this call may wait
        return error.retryable


def _log_retry(exc: BaseException, delay: float) -> None:
    log.info("retrying in %.2fs after %s", delay, exc)


def call(
    fn: Callable[..., T],
    *args: Any,
    policy: RetryPolicy = DEFAULT_POLICY,
    waits: Waits | None = None,
    on_retry: OnRetry = _log_retry,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> T:
    """fn(*args, **kwargs), retried per `policy` (and `waits`); an error answer comes out as a
    GoogleApiError with its hint, no answer in time as deadline.NoAnswer."""
    decisions = _Call(policy, waits)
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            error = as_google_api_error(exc)
            delay = decisions.next_delay(exc, error)
            if delay is None:
                final = with_hint(error) if error is not None else deadline.timed_out(exc)
                if final is None or final is exc:
                    raise
                raise final from exc
            on_retry(error or exc, delay)
            sleep(delay)
