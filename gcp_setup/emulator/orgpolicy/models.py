"""Org Policy v2 state: project-level policies of the one constraint the emulator models, and the enforcement
in effect for a project. No HTTP here.

The constraint is iam.managed.disableServiceAccountApiKeyCreation (binding API keys to service accounts).
Its organization-level policy is the world's `org_policies.disable_service_account_api_key_creation` (on by
default, as Google sets it in organizations); it reaches every project with an organization or folder above
it. A project-level policy overrides it: `enforce` true or false, or `reset` to the constraint's default.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.times import rfc3339
from gcp_setup.emulator.core.world import Backend, World, backend
from gcp_setup.emulator.resourcemanager.models import Project

API_KEY_BINDING = "iam.managed.disableServiceAccountApiKeyCreation"
MODELLED = frozenset({API_KEY_BINDING})


def constraint_not_emulated(constraint: str) -> errors.Unimplemented:
    return errors.Unimplemented(
        f"The gcp-setup emulator models only the constraint {API_KEY_BINDING}; {constraint} is not emulated."
    )


def modelled_constraint(name: str) -> str:
    """The constraint a policy name ends with ("constraints/" prefix allowed), if the emulator models it."""
    constraint = name.rsplit("/", 1)[-1].removeprefix("constraints/")
    if "." not in constraint:  # every constraint is named SERVICE.NAME
        raise guesses.invalid_policy_name(name)
    if constraint not in MODELLED:
        raise constraint_not_emulated(constraint)
    return constraint


@dataclass
class ProjectPolicy:
    project_number: str
    constraint: str
    enforce: bool
    reset: bool
    update_time: float

    @property
    def name(self) -> str:
        return f"projects/{self.project_number}/policies/{self.constraint}"

    @property
    def etag(self) -> str:
        digest = hashlib.sha256(
            f"{self.name}|{self.enforce}|{self.reset}|{self.update_time}".encode()
        ).digest()
        return base64.b64encode(digest[:12]).decode()

    def to_json(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"etag": self.etag, "updateTime": rfc3339(self.update_time)}
        if self.reset:
            spec["reset"] = True
        else:
            spec["rules"] = [{"enforce": self.enforce}]
        return {"name": self.name, "spec": spec, "etag": self.etag}


def parse_spec(spec: dict[str, Any]) -> tuple[bool, bool]:
    """(enforce, reset) of a boolean constraint's policy spec, checked as the discovery document describes."""
    rules = spec.get("rules") or []
    if spec.get("reset"):
        if rules:
            raise errors.InvalidArgument("A policy with reset set must not have rules.")
        return guesses.API_KEY_BINDING_CONSTRAINT_DEFAULT, True
    if any("condition" in rule for rule in rules):
        raise errors.Unimplemented("Conditional policy rules are not emulated.")
    if len(rules) != 1 or not isinstance(rules[0].get("enforce"), bool):
        raise errors.InvalidArgument(
            "A policy for a boolean constraint must have exactly one rule, without a condition, that sets "
            "enforce."
        )
    return rules[0]["enforce"], False


@backend
class OrgPolicyBackend(Backend):
    name = "orgpolicy"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.policies: dict[tuple[str, str], ProjectPolicy] = {}
        """(project number, constraint) -> the project's own policy"""

    def get(self, project: Project, constraint: str) -> ProjectPolicy | None:
        return self.policies.get((project.number, constraint))

    def in_project(self, project: Project) -> list[ProjectPolicy]:
        return [p for (number, _), p in sorted(self.policies.items()) if number == project.number]

    def enforced(self, project: Project, constraint: str = API_KEY_BINDING) -> bool:
        """The enforcement in effect: the project's own policy, else the organization's (if it has one)."""
        policy = self.get(project, constraint)
        if policy is not None:
            return policy.enforce
        return self.enforced_above(project.parent)

    def enforced_above(self, parent: str) -> bool:
        """The enforcement an organization or folder passes down ("": no parent, the constraint's default).
        Every organization the emulator knows has the policy Google sets in organizations."""
        if parent:
            return self.world.org_policies.disable_service_account_api_key_creation
        return guesses.API_KEY_BINDING_CONSTRAINT_DEFAULT

    def put(self, project: Project, constraint: str, spec: dict[str, Any]) -> ProjectPolicy:
        enforce, reset = parse_spec(spec)
        policy = ProjectPolicy(project.number, constraint, enforce, reset, self.world.now())
        self.policies[(project.number, constraint)] = policy
        return policy

    def delete(self, policy: ProjectPolicy) -> None:
        del self.policies[(policy.project_number, policy.constraint)]

    def to_json(self) -> dict[str, Any]:
        return {"policies": [vars(p) for p in self.policies.values()]}

    def load_json(self, data: dict[str, Any]) -> None:
        policies = [ProjectPolicy(**item) for item in data.get("policies", [])]
        self.policies = {(p.project_number, p.constraint): p for p in policies}
