"""The latency floor: the least time any client needs, given the calls that depend on each other.

A fresh bootstrap is a chain of steps; a step cannot start before the steps it needs have finished
(billing needs the project, Vertex AI cannot be enabled without billing, a service account needs the
IAM API, its role binding and the API key bound to it need the account). Within a step the calls are
sequential, and a step that ends with a long-running operation must also poll it until done: the
emulator answers done=false to the starting call and done on the `operation_polls`-th GET of the
operation, so the operation costs `operation_polls` round trips more. The floor is the longest such
chain, counted in round trips, times the latency.

It counts the token refresh every authenticated client makes first, the mutating calls and the
operation polls; every observe-read a tool makes first, its process start-up and any sleep between
polls come on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Step:
    name: str
    calls: tuple[str, ...]
    """The sequential calls of the step."""
    after: tuple[str, ...] = ()
    operation: bool = False
    """The last call answers a long-running operation that must be polled until done."""

    def round_trips(self, operation_polls: int) -> int:
        return len(self.calls) + (operation_polls if self.operation else 0)


BOOTSTRAP: tuple[Step, ...] = (
    # Every request carries an access token, so any client with real credentials refreshes one first.
    Step("token", ("oauth2.token",)),
    Step("project", ("projects.create",), after=("token",), operation=True),
    Step("billing", ("projects.updateBillingInfo",), after=("project",)),
    Step("services", ("services.batchEnable",), after=("billing",), operation=True),
    Step("service account", ("serviceAccounts.create",), after=("services",)),
    Step("role binding", ("projects.getIamPolicy", "projects.setIamPolicy"), after=("service account",)),
    # An auth key is bound to the service account at its creation, so it waits for the account.
    Step("api key", ("keys.create",), after=("service account",), operation=True),
    # The key-creation operation's response carries the key string, so the .env needs no further call.
)


def critical_path(steps: tuple[Step, ...], operation_polls: int) -> tuple[int, list[str]]:
    """The longest dependency chain: (round trips, step names in order)."""
    by_name = {s.name: s for s in steps}

    @cache
    def longest_to(name: str) -> tuple[int, tuple[str, ...]]:
        step = by_name[name]
        before = max((longest_to(dep) for dep in step.after), default=(0, ()))
        return before[0] + step.round_trips(operation_polls), (*before[1], name)

    trips, chain = max(longest_to(s.name) for s in steps)
    return trips, list(chain)


def fewest_requests(steps: tuple[Step, ...], operation_polls: int) -> int:
    """Every mutating call and operation poll of every step, on the critical path or not."""
    return sum(s.round_trips(operation_polls) for s in steps)


def bootstrap_floor_s(latency_s: float, operation_polls: int) -> float:
    return critical_path(BOOTSTRAP, operation_polls)[0] * latency_s


NOOP_FLOOR_ROUND_TRIPS = 2
"""A finished project is confirmed by reads that depend on nothing but the project ID, so all of them can
be in flight at once: one round trip, after the token refresh every authenticated client makes first."""
