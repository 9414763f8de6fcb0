"""Cloud Resource Manager state: projects, their lifecycle and IAM policies. No HTTP here.

v1 and v3 handlers share this one backend; they differ only in wire format.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.emulator.core import errors, roles
from gcp_setup.emulator.core.iam_policy import Policy, ProjectRules
from gcp_setup.emulator.core.roles import OWNER
from gcp_setup.emulator.core.times import rfc3339
from gcp_setup.emulator.core.world import Backend, World, backend

ACTIVE = "ACTIVE"
DELETE_REQUESTED = "DELETE_REQUESTED"

OTHER_OWNER = "user:other@example.com"
SEEDED_FOREIGN_PROJECT = "someone-elses-project"
"""Exists, but belongs to OTHER_OWNER: the default caller gets 403 on it, as for a taken project ID."""

# Google's rule: 6 to 30 characters, lowercase letters, digits and hyphens, starting with a letter and
# not ending with a hyphen.
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_FORBIDDEN_ID_WORDS = ("google", "null", "undefined", "ssl")


@dataclass
class Project:
    project_id: str
    number: str
    display_name: str
    parent: str
    """"organizations/N", "folders/N" or "" (no parent, as for a project made without an organization)."""
    labels: dict[str, str]
    state: str
    create_time: str
    policy: Policy = field(default_factory=Policy)
    update_time: str = ""
    delete_time: str = ""
    creator: str = ""
    """Who created it: a project counts against its creator's project quota until it is purged."""

    @property
    def active(self) -> bool:
        return self.state == ACTIVE

    @property
    def etag(self) -> str:
        """The v3 Project etag: base64 like Google's, changing whenever the project does."""
        digest = hashlib.sha256(f"{self.project_id}|{self.update_time}|{self.state}".encode()).digest()
        return base64.b64encode(digest[:12]).decode()

    def to_state(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "number": self.number,
            "display_name": self.display_name,
            "parent": self.parent,
            "labels": self.labels,
            "state": self.state,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "delete_time": self.delete_time,
            "creator": self.creator,
            "policy": self.policy.to_state(),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Project:
        data = dict(data)
        policy = Policy.from_state(data.pop("policy"))
        return cls(**data, policy=policy)


MemberCheck = Callable[[World, str], bool]
MEMBER_CHECKS: dict[str, MemberCheck] = {}
"""Per member kind ("serviceAccount"), how the API that owns such principals says whether one exists and
is usable yet. The IAM emulator registers one, so a project's setIamPolicy refuses a service account that
does not exist (or was created moments ago) with 400 "... does not exist", as Google does."""


def member_check(kind: str) -> Callable[[MemberCheck], MemberCheck]:
    """Decorator: register `check(world, member) -> bool` for members of `kind`."""

    def register(check: MemberCheck) -> MemberCheck:
        MEMBER_CHECKS[kind] = check
        return check

    return register


def caller_lacks_permission() -> errors.PermissionDenied:
    """What Resource Manager answers for a project that does not exist or that the caller cannot see:
    the two are indistinguishable on purpose (project IDs are global, existence leaks otherwise)."""
    return errors.PermissionDenied("The caller does not have permission")


def invalid_field(field_name: str, description: str) -> errors.InvalidArgument:
    """Google's generic message, with the field named in a google.rpc.BadRequest detail."""
    return errors.InvalidArgument(
        "Request contains an invalid argument.",
        extra_details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field_name, "description": description}],
            }
        ],
    )


def validate_project_id(project_id: str) -> None:
    if not _PROJECT_ID.match(project_id or "") or any(w in project_id for w in _FORBIDDEN_ID_WORDS):
        raise invalid_field(
            "project_id",
            f"Project ID '{project_id}' must be 6 to 30 lowercase letters, digits or hyphens, start with a "
            "letter and not end with a hyphen.",
        )


def validate_display_name(name: str) -> None:
    if name and not re.fullmatch(r"[A-Za-z0-9'\"! -]{4,30}", name):
        raise invalid_field(
            "display_name",
            f"Display name '{name}' must be 4 to 30 letters, digits, spaces, hyphens, quotes or exclamation "
            "marks.",
        )


@backend
class ProjectsBackend(Backend):
    name = "projects"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.projects: dict[str, Project] = {}
        self.create(SEEDED_FOREIGN_PROJECT, owner=OTHER_OWNER, display_name="Someone else's project")

    # -- lookups -------------------------------------------------------------------------------------
    def find(self, ref: str) -> Project | None:
        """By project ID, project number, or either as "projects/X"."""
        ref = ref.removeprefix("projects/")
        if ref in self.projects:
            return self.projects[ref]
        return next((p for p in self.projects.values() if p.number == ref), None)

    def lookup(self, ref: str, caller: str | None = None) -> Project:
        """The project, or the 403 Google gives when it is missing (or, given `caller`, not visible)."""
        project = self.find(ref)
        if project is None or (caller is not None and not self.can_see(project, caller)):
            raise caller_lacks_permission()
        return project

    def can_see(self, project: Project, member: str) -> bool:
        return any(member in b.get("members", []) for b in project.policy.bindings)

    def roles_of(self, project: Project, member: str) -> set[str]:
        """The roles in effect for `member` (a new grant once it has propagated)."""
        return project.policy.roles_of(member, self.world.now(), self.world.realism.role_grant_propagation_s)

    def holds(self, project: Project, member: str, permission: str) -> bool:
        """Whether a role bound to `member` on `project` carries `permission` (core.roles)."""
        return roles.holds(self.roles_of(project, member), permission)

    def permitted(self, project: Project, member: str, permissions: list[str]) -> list[str]:
        """The subset of `permissions` that `member` holds on `project` (testIamPermissions)."""
        held = self.roles_of(project, member)
        return [p for p in permissions if roles.holds(held, p)]

    def created_by(self, member: str) -> int:
        """How many projects `member` created that still exist, pending deletion or not (Google: "Until it
        is deleted, the project will count towards your project quota")."""
        return sum(p.creator == member for p in self.projects.values())

    def visible_to(self, member: str) -> list[Project]:
        """What projects.list and projects.search answer: the projects where `member` holds
        resourcemanager.projects.get."""
        return [p for p in self.projects.values() if self.holds(p, member, "resourcemanager.projects.get")]

    # -- changes -------------------------------------------------------------------------------------
    def create(
        self,
        project_id: str,
        *,
        owner: str,
        parent: str = "",
        display_name: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> Project:
        validate_project_id(project_id)
        validate_display_name(display_name or "")
        if project_id in self.projects:
            raise errors.AlreadyExists("Requested entity already exists")
        now = rfc3339(self.world.now())
        project = Project(
            project_id=project_id,
            number=self._new_number(project_id),
            display_name=display_name if display_name is not None else project_id,
            parent=parent,
            labels=dict(labels or {}),
            state=ACTIVE,
            create_time=now,
            update_time=now,
            creator=owner,
        )
        project.policy.add_binding(OWNER, owner)
        self.projects[project_id] = project
        return project

    def _new_number(self, project_id: str) -> str:
        """A 12-digit project number, stable for a project ID so that runs are reproducible."""
        seed = int.from_bytes(hashlib.sha256(project_id.encode()).digest()[:8], "big")
        number = 100_000_000_000 + seed % 900_000_000_000
        taken = {p.number for p in self.projects.values()}
        while str(number) in taken:
            number += 1
        return str(number)

    def set_policy(self, project: Project, body: dict[str, Any]) -> None:
        """setIamPolicy: etag-guarded replace; members of a kind with a registered check must pass it."""
        rules = ProjectRules(in_organization=bool(project.parent))
        project.policy.replace(body, member_exists=self._member_exists, project=rules, now=self.world.now())

    def _member_exists(self, member: str) -> bool:
        check = MEMBER_CHECKS.get(member.partition(":")[0])
        return check is None or check(self.world, member)

    def touch(self, project: Project) -> None:
        project.update_time = rfc3339(self.world.now())

    def request_delete(self, project: Project) -> None:
        project.state = DELETE_REQUESTED
        project.delete_time = rfc3339(self.world.now())
        self.touch(project)

    def undelete(self, project: Project) -> None:
        if project.active:
            raise errors.FailedPrecondition(f"Project {project.project_id} is not in DELETE_REQUESTED state.")
        project.state = ACTIVE
        project.delete_time = ""
        self.touch(project)

    # -- persistence ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"projects": [p.to_state() for p in self.projects.values()]}

    def load_json(self, data: dict[str, Any]) -> None:
        self.projects = {}
        for item in data.get("projects", []):
            project = Project.from_state(item)
            self.projects[project.project_id] = project


# -- list filters (v1 `filter`, v3 `query`) -------------------------------------------------------------
_FILTER_ALIASES = {
    "displayname": "name",
    "projectid": "id",
    "lifecyclestate": "state",
    "projectnumber": "number",
}


def project_fields(project: Project) -> dict[str, str]:
    """The fields a list filter can name, under one spelling for v1 and v3."""
    kind, _, parent_id = project.parent.partition("/")
    fields = {
        "name": project.display_name,
        "id": project.project_id,
        "state": project.state,
        "number": project.number,
        "parent": project.parent,
        "parent.type": kind.removesuffix("s"),
        "parent.id": parent_id,
    }
    fields.update({f"labels.{k}": v for k, v in project.labels.items()})
    return fields


def matches(project: Project, expression: str) -> bool:
    """Google's project filter, the common part: `field:value` terms joined by spaces or AND, alternatives
    by OR (parentheses are dropped, so AND binds tighter), `*` wildcards, `labels.KEY:*` for presence;
    field names and values compare case-insensitively. gcloud sends e.g.
    `lifecycleState:ACTIVE AND (labels.env:dev)`."""
    fields = project_fields(project)
    terms = expression.replace("(", " ").replace(")", " ").split()
    alternatives: list[list[str]] = [[]]
    for term in terms:
        if term.upper() == "OR":
            alternatives.append([])
        elif term.upper() != "AND":
            alternatives[-1].append(term)
    return any(all(_term_holds(fields, term, expression) for term in group) for group in alternatives)


def _term_holds(fields: dict[str, str], term: str, expression: str) -> bool:
    found = re.fullmatch(r"([^:=]+)[:=](.*)", term)
    if found is None:
        raise errors.InvalidArgument(f"Invalid filter: '{expression}'")
    key, value = found.groups()
    key = _FILTER_ALIASES.get(key.lower(), key if key.startswith("labels.") else key.lower())
    actual = fields.get(key)
    return actual is not None and fnmatch.fnmatch(actual.lower(), value.strip("'\"").lower())
