"""IAM policy read-modify-write, the way Google asks for it (https://cloud.google.com/iam/docs/policies#etag):

1. get the policy with requestedPolicyVersion 3 (so conditional bindings are not mangled),
2. change only our own bindings, keeping every other member and role exactly as read,
3. set it with the etag that came with it; a 409 ABORTED means someone wrote in between: read again.

A service account created seconds ago is not yet known to setIamPolicy, which answers 400
"Service account ... does not exist." for up to a minute or more (IAM is eventually consistent);
that answer is waited for, for a bounded time. A policy that needs no change is not written.

The read-modify-write round goes through the one retry policy (retry.py): a failed write is followed by a
fresh read, because only that tells whether the write happened (a dropped answer) and gives the current
etag; the new member's propagation is one of the policy's waits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import retry

log = logging.getLogger(__name__)

POLICY_VERSION = 3
WRITE_POLICY = retry.RetryPolicy(attempts=9, budget_s=30.0)
"""Rounds of read-modify-write: concurrent changes (409 ABORTED), transient errors and lost answers of
setIamPolicy each cost one."""
NEW_MEMBER_WAIT_S = 180.0
"""How long a "does not exist" answer for a just-created service account is waited for."""

Policy = dict[str, Any]


@dataclass(frozen=True)
class Binding:
    role: str
    member: str
    """e.g. "serviceAccount:gemini-client@p.iam.gserviceaccount.com" or "user:me@example.com"."""


@dataclass
class PolicyTarget:
    """A resource with getIamPolicy/setIamPolicy (a project, a service account)."""

    label: str
    get: Callable[[], Policy]
    """Read the policy at version 3."""
    set: Callable[[Policy], Policy]
    """Write the policy (with its etag)."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def unconditional_members(policy: Policy, role: str) -> set[str]:
    """Members granted `role` without a condition (a conditional grant is not the grant we make)."""
    return {
        m
        for b in policy.get("bindings", [])
        if b.get("role") == role and "condition" not in b
        for m in b.get("members", [])
    }


def missing(policy: Policy, wanted: Iterable[Binding]) -> list[Binding]:
    return [b for b in wanted if b.member not in unconditional_members(policy, b.role)]


def present(policy: Policy, wanted: Iterable[Binding]) -> list[Binding]:
    return [b for b in wanted if b.member in unconditional_members(policy, b.role)]


def with_bindings(policy: Policy, add: Iterable[Binding]) -> Policy:
    """A copy of `policy` that also grants `add`; other bindings are untouched."""
    bindings = [dict(b, members=list(b.get("members", []))) for b in policy.get("bindings", [])]
    for grant in add:
        target = next((b for b in bindings if b.get("role") == grant.role and "condition" not in b), None)
        if target is None:
            bindings.append({"role": grant.role, "members": [grant.member]})
        elif grant.member not in target["members"]:
            target["members"].append(grant.member)
    return _policy_with(policy, bindings)


def without_bindings(policy: Policy, remove: Iterable[Binding]) -> Policy:
    """A copy of `policy` without the unconditional grants `remove`; empty bindings are dropped."""
    drop = {(b.role, b.member) for b in remove}
    bindings = []
    for b in policy.get("bindings", []):
        members = list(b.get("members", []))
        if "condition" not in b:
            members = [m for m in members if (b.get("role"), m) not in drop]
        if members:
            bindings.append(dict(b, members=members))
    return _policy_with(policy, bindings)


def _policy_with(policy: Policy, bindings: list[dict[str, Any]]) -> Policy:
    out = {k: v for k, v in policy.items() if k != "bindings"}
    out["version"] = max(
        int(policy.get("version", 1) or 1), POLICY_VERSION if _has_conditions(bindings) else 1
    )
    if bindings:
        out["bindings"] = bindings
    return out


def _has_conditions(bindings: list[dict[str, Any]]) -> bool:
    return any("condition" in b for b in bindings)


def grant(
    target: PolicyTarget, wanted: Iterable[Binding], *, new_member_wait_s: float = NEW_MEMBER_WAIT_S
) -> list[Binding]:
    """Make sure every binding in `wanted` is in the policy; returns those added (none: nothing written)."""
    wanted = list(wanted)
    return _read_modify_write(target, lambda p: missing(p, wanted), with_bindings, new_member_wait_s)


def regrant(
    target: PolicyTarget,
    wanted: Iterable[Binding],
    unwanted: Iterable[Binding],
    *,
    new_member_wait_s: float = NEW_MEMBER_WAIT_S,
) -> list[Binding]:
    """`wanted` in and `unwanted` out of the policy in one write; returns the bindings changed."""
    wanted, unwanted = list(wanted), list(unwanted)

    def changes_for(policy: Policy) -> list[Binding]:
        return missing(policy, wanted) + present(policy, unwanted)

    def changed(policy: Policy, changes: list[Binding]) -> Policy:
        added = with_bindings(policy, [b for b in changes if b in wanted])
        return without_bindings(added, [b for b in changes if b in unwanted])

    return _read_modify_write(target, changes_for, changed, new_member_wait_s)


def revoke(target: PolicyTarget, unwanted: Iterable[Binding]) -> list[Binding]:
    """Remove the bindings in `unwanted` that are present; returns those removed (none: no write)."""
    unwanted = list(unwanted)
    return _read_modify_write(target, lambda p: present(p, unwanted), without_bindings, 0.0)


class _ReadFailed(Exception):
    """The read of a round failed after its own retries: not a reason for another round."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _read_modify_write(
    target: PolicyTarget,
    changes_for: Callable[[Policy], list[Binding]],
    apply_changes: Callable[[Policy, list[Binding]], Policy],
    new_member_wait_s: float,
) -> list[Binding]:
    """Rounds of read, change, write (the write sent once), under WRITE_POLICY."""

    def round_() -> list[Binding]:
        try:
            policy = target.get()
        except Exception as exc:
            raise _ReadFailed(exc) from exc
        changes = changes_for(policy)
        if changes:
            target.set(apply_changes(policy, changes))
        return changes

    def new_member(error: GoogleApiError) -> float | None:
        return new_member_wait_s if is_unknown_new_member(error) else None

    def note(error: BaseException, delay: float) -> None:
        log.info(
            "%s: setIamPolicy failed (%s); reading the policy again in %.2fs", target.label, error, delay
        )

    try:
        return retry.call(round_, policy=WRITE_POLICY, waits=new_member, on_retry=note, sleep=target.sleep)
    except _ReadFailed as failed:
        raise failed.error from failed.error.__cause__


def is_unknown_new_member(exc: GoogleApiError) -> bool:
    """setIamPolicy's answer for a member IAM does not know (yet): 400 "... does not exist"."""
    return exc.code == 400 and "does not exist" in str(exc)
