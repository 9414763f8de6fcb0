"""Reaping: delete the projects gcp-setup created with --ttl once their time has passed.

A project is reaped only when all three hold: gcp-setup created it (label created-by=gcp-setup), it
carries an expiry (label gcp-setup-expires, Unix seconds) that has passed, and it is ACTIVE. Resource
Manager v3 `projects.search` finds the candidates with a label query; every condition is checked again
here on what it answers, so a looser search (Google documents the query syntax, not how strictly each
term matches) can only find too many, never delete one too many.

A deleted project waits 30 days in DELETE_REQUESTED, restorable, and counts against the project quota
until it is gone for good (Google's "Delete and restore projects" page, docs.cloud.google.com/
resource-manager/docs/delete-restore-projects): reaping frees quota 30 days later, not at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gcp_setup import defaults
from gcp_setup.google import resourcemanager
from gcp_setup.google.errors import explain
from gcp_setup.google.resourcemanager import ProjectInfo, ResourceManagerClient
from gcp_setup.steps.project import CREATED_BY, created_by_gcp_setup

if TYPE_CHECKING:
    from gcp_setup.google.session import GoogleSession


@dataclass(frozen=True)
class Reaped:
    project: str
    expired_at: int
    deleted: bool = False
    error: str = ""


def search_query(parent: str | None) -> str:
    """The projects.search query for reapable candidates, under `parent` (organizations/N, folders/N)
    when given; `parent:` matches direct children only, as Google's search does."""
    terms = [f"labels.{CREATED_BY[0]}:{CREATED_BY[1]}", f"labels.{defaults.EXPIRES_LABEL}:*", "state:ACTIVE"]
    if parent:
        terms.append(f"parent:{parent}")
    return " ".join(terms)


def expiry_of(info: ProjectInfo) -> int | None:
    value = info.labels.get(defaults.EXPIRES_LABEL, "")
    return int(value) if value.isdigit() else None


def expired(info: ProjectInfo, now: float) -> bool:
    expires = expiry_of(info)
    return (
        created_by_gcp_setup(info)
        and info.state == resourcemanager.ACTIVE
        and expires is not None
        and expires <= now
    )


def reap(
    session: GoogleSession, parent: str | None, *, dry_run: bool, now: float | None = None
) -> list[Reaped]:
    """Find the expired projects gcp-setup created (under `parent`) and, unless `dry_run`, delete each;
    one that cannot be deleted is reported with its error, the others are still deleted."""
    client = ResourceManagerClient(session)
    now = time.time() if now is None else now
    found = sorted(
        (p for p in client.search_projects(search_query(parent)) if expired(p, now)),
        key=lambda p: p.project_id,
    )
    results = []
    for info in found:
        expires = expiry_of(info) or 0
        if dry_run:
            results.append(Reaped(info.project_id, expires))
            continue
        try:
            client.delete_project(f"projects/{info.project_id}")
            results.append(Reaped(info.project_id, expires, deleted=True))
        except Exception as exc:  # one project's failure is its row; the others are still reaped
            results.append(Reaped(info.project_id, expires, error=explain(exc)))
    return results
