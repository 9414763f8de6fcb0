"""IAM policies with etags, shared by every resource that has one (projects, service accounts).

Read-modify-write is guarded by the etag, as in Google's IAM: setIamPolicy with an etag that is no
longer current answers 409 ABORTED, and no etag at all overwrites (the real API does too). Etags are
base64, because gcloud decodes them.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.emulator.core import errors

_MEMBER = re.compile(
    r"^(allUsers|allAuthenticatedUsers|"
    r"(user|serviceAccount|group|domain|principal|principalSet|deleted:serviceAccount|deleted:user):.+)$"
)


@dataclass
class Policy:
    bindings: list[dict[str, Any]] = field(default_factory=list)
    version: int = 1
    revision: int = 1

    @property
    def etag(self) -> str:
        return base64.b64encode(f"etag-{self.revision:08d}".encode()).decode()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "etag": self.etag}
        if self.bindings:
            out["bindings"] = copy.deepcopy(self.bindings)
        return out

    def roles_of(self, member: str) -> set[str]:
        return {b.get("role", "") for b in self.bindings if member in b.get("members", [])}

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

    def replace(self, body: dict[str, Any], member_exists: Callable[[str], bool] | None = None) -> None:
        """Apply a setIamPolicy request body ({"policy": {...}, "updateMask": ...})."""
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
        bindings = [b for b in copy.deepcopy(new.get("bindings", [])) if b.get("members")]
        for b in bindings:
            _check_binding(b, member_exists)
        self.bindings = bindings
        self.version = int(new.get("version", 1) or 1)
        self.revision += 1

    def to_state(self) -> dict[str, Any]:
        return {"bindings": self.bindings, "version": self.version, "revision": self.revision}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Policy:
        return cls(**data)


def _check_binding(binding: dict[str, Any], member_exists: Callable[[str], bool] | None) -> None:
    role = binding.get("role", "")
    if not role.startswith(("roles/", "projects/", "organizations/")):
        raise errors.InvalidArgument(f"Role {role} is not supported for this resource.")
    for member in binding["members"]:
        if not _MEMBER.match(member):
            raise errors.InvalidArgument(f"Invalid principal: {member}")
        if member_exists is not None and not member_exists(member):
            kind, _, who = member.partition(":")
            label = "Service account" if kind == "serviceAccount" else "Principal"
            raise errors.InvalidArgument(f"{label} {who} does not exist.")
