"""IAM policies with etags, shared by every resource that has one (projects, service accounts, billing
accounts), and the rules Google's setIamPolicy enforces (cloudresourcemanager v1 discovery, `setIamPolicy`
and `Policy.version`).

Read-modify-write is guarded by the etag: setIamPolicy with an etag that is no longer current answers 409
ABORTED, and no etag at all overwrites (the real API does too, and then a version 1 write drops the
conditions). Etags are base64, because gcloud decodes them. A refused write leaves the policy as it was.

Conditional bindings need version 3 on the way in and on the way out: read at version 1 (or with no
version), a conditional binding shows as the role `roles/X_withcond_<hash>` without its condition, as
Google's current IAM does (docs: iam/docs/troubleshooting-withcond).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import cel, errors, roles

_MEMBER = re.compile(
    r"^(allUsers|allAuthenticatedUsers|"
    r"(user|serviceAccount|group|domain|principal|principalSet|deleted:serviceAccount|deleted:user):.+)$"
)
BASIC_ROLES = frozenset({roles.OWNER, roles.EDITOR, roles.VIEWER})
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
VERSIONS = (0, 1, 3)
WITHCOND = "_withcond_"
PROJECT_IAM_POLICY_ERROR = "type.googleapis.com/google.cloudresourcemanager.v1.ProjectIamPolicyError"
BINDING_TYPE = "type.googleapis.com/google.iam.v1.Binding"
POLICY_VERSIONS_HELP = "https://cloud.google.com/iam/docs/policies#versions"


@dataclass(frozen=True)
class ProjectRules:
    """The rules only a project's policy follows (setIamPolicy's description in the v1 discovery document)."""

    in_organization: bool
    """In an organization a user may be made owner directly and every owner may be removed; outside one, an
    owner must accept an invitation and the last owner who accepted the Terms of Service must stay."""


@dataclass
class Policy:
    bindings: list[dict[str, Any]] = field(default_factory=list)
    version: int = 1
    revision: int = 1
    granted_at: dict[str, float] = field(default_factory=dict)
    """"role member" -> when setIamPolicy granted it (world clock): Google's grants take a while to take
    effect (Realism.role_grant_propagation_s). Seeded bindings and removals take effect at once."""

    @property
    def etag(self) -> str:
        return base64.b64encode(f"etag-{self.revision:08d}".encode()).decode()

    @property
    def has_conditions(self) -> bool:
        return any("condition" in b for b in self.bindings)

    def to_json(self, requested_version: Any = 3) -> dict[str, Any]:
        """The policy as getIamPolicy answers it for `options.requestedPolicyVersion` (None: not given)."""
        requested = requested_policy_version(requested_version)
        conditional = self.has_conditions
        out: dict[str, Any] = {"version": 3 if conditional and requested == 3 else 1, "etag": self.etag}
        if self.bindings:
            bindings = copy.deepcopy(self.bindings)
            out["bindings"] = bindings if requested == 3 else [_hashed(b) for b in bindings]
        return out

    def roles_of(self, member: str, now: float | None = None, propagation_s: float = 0.0) -> set[str]:
        """The roles bound to `member`; with `now`, only those granted at least `propagation_s` ago."""
        held = {b.get("role", "") for b in self.bindings if member in b.get("members", [])}
        if now is None or propagation_s <= 0:
            return held
        return {
            r for r in held if self.granted_at.get(f"{r} {member}", -propagation_s) + propagation_s <= now
        }

    def add_binding(self, role: str, member: str) -> None:
        """For seeding state (a project's creator becomes its owner)."""
        for b in self.bindings:
            if b.get("role") == role and "condition" not in b:
                if member not in b["members"]:
                    b["members"].append(member)
                    self.revision += 1
                return
        self.bindings.append({"role": role, "members": [member]})
        self.revision += 1

    def replace(
        self,
        body: dict[str, Any],
        member_exists: Callable[[str], bool] | None = None,
        project: ProjectRules | None = None,
        now: float = 0.0,
    ) -> None:
        """Apply a setIamPolicy request body ({"policy": {...}, "updateMask": ...}), or refuse it whole;
        the grants it adds date from `now`."""
        new = body.get("policy")
        if not isinstance(new, dict):
            raise errors.InvalidArgument("Request contains an invalid argument: policy is required.")
        etag = new.get("etag")
        if etag and etag != self.etag:
            raise errors.Aborted(
                "There were concurrent policy changes. Please retry the whole read-modify-write with "
                "exponential backoff. The request's ETag '" + etag + "' did not match the current policy's "
                "ETag '" + self.etag + "'."
            )
        version = _written_version(new.get("version"))
        bindings = _bindings(new.get("bindings"))
        self._check_versions(version, bindings, bool(etag))
        for index, binding in enumerate(bindings):
            _check_binding(index, binding, member_exists, project)
        if project is not None:
            self._check_owners(bindings, project)
        before, after = _grants(self.bindings), _grants(bindings)
        self.granted_at = {g: self.granted_at[g] for g in after & before if g in self.granted_at}
        self.granted_at.update({g: now for g in after - before})
        self.bindings = bindings
        self.version = version
        self.revision += 1

    def _check_versions(self, version: int, bindings: list[dict[str, Any]], with_etag: bool) -> None:
        conditional = any("condition" in b for b in bindings)
        if conditional and any(WITHCOND in b["role"] for b in bindings):
            raise errors.InvalidArgument(
                "Policy cannot contain both conditions and condition hashes. Please update your client to "
                "request version 3 policy. For more information, please refer to "
                "https://cloud.google.com/iam/help/allow-policies/versions."
            )
        if conditional and version != 3:
            raise guesses.conditional_binding_needs_version_3(version)
        if with_etag and self.has_conditions and version < 3:
            raise errors.InvalidArgument(
                f"Specified policy version ({version}) cannot be less than the existing policy version (3). "
                f"For more information, please refer to {POLICY_VERSIONS_HELP}."
            )

    def _check_owners(self, bindings: list[dict[str, Any]], project: ProjectRules) -> None:
        before = _owners(self.bindings)
        after = _owners(bindings)
        if not project.in_organization:
            invited = sorted(m for m in after - before if m.startswith("user:"))
            if invited:
                raise errors.InvalidArgument(
                    "Request contains an invalid argument.",
                    extra_details=[
                        {
                            "@type": PROJECT_IAM_POLICY_ERROR,
                            "type": "SOLO_MUST_INVITE_OWNERS",
                            "member": m,
                            "role": roles.OWNER,
                        }
                        for m in invited
                    ],
                )
            accepted_before = {m for m in before if m.startswith("user:")}
            if accepted_before and not any(m.startswith("user:") for m in after):
                raise guesses.last_owner_removed(sorted(accepted_before))

    def to_state(self) -> dict[str, Any]:
        return {
            "bindings": self.bindings,
            "version": self.version,
            "revision": self.revision,
            "granted_at": self.granted_at,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Policy:
        return cls(**data)


def requested_in(body: dict[str, Any], query: Any) -> Any:
    """getIamPolicy's `options.requestedPolicyVersion`: in the body (POST, Resource Manager) or the query
    (IAM's service accounts, Cloud Billing); None when not given."""
    options = body.get("options")
    if isinstance(options, dict) and "requestedPolicyVersion" in options:
        return options["requestedPolicyVersion"]
    return query.get("options.requestedPolicyVersion")


def requested_policy_version(value: Any) -> int:
    """`options.requestedPolicyVersion` (a number, a numeric string, or None when not given) as 1 or 3."""
    if value in (None, ""):
        return 1
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise guesses.invalid_requested_policy_version(value) from None
    if version not in VERSIONS:
        raise guesses.invalid_requested_policy_version(value)
    return 3 if version == 3 else 1


def _written_version(value: Any) -> int:
    version = 1 if value in (None, "") else value
    if not isinstance(version, int) or isinstance(version, bool) or version not in VERSIONS:
        raise guesses.invalid_policy_version(value)
    return version or 1


def _bindings(value: Any) -> list[dict[str, Any]]:
    """The bindings as sent, each an object with a role string and a list of member strings; bindings
    without members are dropped, as Google drops them."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.InvalidArgument(
            f"Invalid value at 'policy.bindings' (type.googleapis.com/Binding), {value}"
        )
    for i, b in enumerate(value):
        role = b.get("role") if isinstance(b, dict) else None
        members = b.get("members", []) if isinstance(b, dict) else None
        if not isinstance(role, str) or not isinstance(members, list):
            raise errors.InvalidArgument(
                f"Invalid value at 'policy.bindings[{i}]' (type.googleapis.com/Binding)"
            )
        if not all(isinstance(m, str) for m in members):
            raise errors.InvalidArgument(f"Invalid value at 'policy.bindings[{i}].members' (TYPE_STRING)")
    return [copy.deepcopy(b) for b in value if b.get("members")]


def _check_binding(
    index: int,
    binding: dict[str, Any],
    member_exists: Callable[[str], bool] | None,
    project: ProjectRules | None,
) -> None:
    role = binding["role"]
    if roles.is_custom(role):
        raise errors.InvalidArgument(f"Role ({role}) does not exist in the resource's hierarchy.")
    if roles.find(role) is None:
        raise errors.InvalidArgument(f"Role {role} is not supported for this resource.")
    if "condition" in binding:
        if role in BASIC_ROLES:
            raise guesses.basic_role_with_condition()
        _check_condition(index, binding["condition"])
    for member in binding["members"]:
        if not _MEMBER.match(member):
            raise errors.InvalidArgument(f"Invalid principal: {member}")
        if project is not None and member in PUBLIC_MEMBERS:
            raise errors.InvalidArgument("Request contains an invalid argument.")
        if member_exists is not None and not member_exists(member):
            kind, _, who = member.partition(":")
            label = "Service account" if kind == "serviceAccount" else "Principal"
            raise errors.InvalidArgument(f"{label} {who} does not exist.")


def _check_condition(index: int, condition: Any) -> None:
    where = f"policy.bindings[{index}].condition"
    if not isinstance(condition, dict):
        raise guesses.invalid_condition(where, "The condition must be an object.")
    if not str(condition.get("title") or "").strip():
        raise guesses.invalid_condition(f"{where}.title", "A condition needs a title.")
    expression = str(condition.get("expression") or "")
    try:
        cel.check_syntax(expression)
    except cel.CelError as exc:
        raise guesses.invalid_condition(
            f"{where}.expression", f"The expression is not valid CEL: {exc}"
        ) from None


def _grants(bindings: list[dict[str, Any]]) -> set[str]:
    """Every "role member" pair the bindings grant."""
    return {f"{b['role']} {m}" for b in bindings for m in b.get("members", [])}


def _owners(bindings: list[dict[str, Any]]) -> set[str]:
    """Members holding roles/owner without a condition."""
    return {m for b in bindings if b["role"] == roles.OWNER and "condition" not in b for m in b["members"]}


def _hashed(binding: dict[str, Any]) -> dict[str, Any]:
    """A conditional binding as a version 1 view shows it: `roles/X_withcond_<20 hex digits>`."""
    condition = binding.pop("condition", None)
    if condition is None:
        return binding
    digest = hashlib.sha256(repr(sorted(condition.items())).encode()).hexdigest()[:20]
    binding["role"] = f"{binding['role']}{WITHCOND}{digest}"
    return binding
