"""Google's predefined IAM roles with their real permission lists: the one registry that every permission
check of the emulator reads, and that IAM's `roles.get`, `roles.list` and `queryGrantableRoles` serve.

The roles come from a dated snapshot (data/iam-roles.json.xz, 2,387 roles as Google's `roles.list?view=FULL`
gave them on 2026-08-22; tools/iam_roles.py rebuilds it). A caller holds a permission on a resource when a
role bound to it there lists that permission, exactly as in Google's IAM: roles/owner does not carry
iam.serviceAccounts.getAccessToken, roles/viewer does carry aiplatform.endpoints.predict, and
roles/aiplatform.user carries resourcemanager.projects.get.
"""

from __future__ import annotations

import functools
import json
import lzma
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SNAPSHOT_FILE = Path(__file__).resolve().parents[1] / "data" / "iam-roles.json.xz"

OWNER = "roles/owner"
EDITOR = "roles/editor"
VIEWER = "roles/viewer"
BROWSER = "roles/browser"
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    description: str
    stage: str
    etag: str
    permissions: frozenset[str]

    def to_json(self, *, full: bool = True) -> dict[str, Any]:
        """The IAM v1 Role; the BASIC view (roles.list's default, queryGrantableRoles) has no permissions."""
        out: dict[str, Any] = {"name": self.name, "title": self.title, "description": self.description}
        if full:
            out["includedPermissions"] = sorted(self.permissions)
        out.update(stage=self.stage, etag=self.etag)
        return out


@dataclass(frozen=True)
class Snapshot:
    date: str
    source: str
    roles: dict[str, Role]


@functools.cache
def snapshot() -> Snapshot:
    data = json.loads(lzma.decompress(SNAPSHOT_FILE.read_bytes()))
    names = data["permissions"]
    roles = {
        r["name"]: Role(
            r["name"],
            r["title"],
            r["description"],
            r["stage"],
            r["etag"],
            frozenset(names[i] for i in r["permissions"]),
        )
        for r in data["roles"]
    }
    return Snapshot(data["date"], data["source"], roles)


def find(name: str) -> Role | None:
    return snapshot().roles.get(name)


def predefined() -> list[Role]:
    """Every predefined role, by name."""
    return sorted(snapshot().roles.values(), key=lambda r: r.name)


def is_custom(name: str) -> bool:
    """projects/P/roles/R or organizations/O/roles/R (the emulator keeps no custom roles)."""
    return name.startswith(("projects/", "organizations/")) and "/roles/" in name


def grants(role: str, permission: str) -> bool:
    found = find(role)
    return found is not None and permission in found.permissions


def holds(roles: Iterable[str], permission: str) -> bool:
    """Whether one of `roles` (role names bound to a member) carries `permission`."""
    return any(grants(role, permission) for role in roles)
