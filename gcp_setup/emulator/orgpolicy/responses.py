"""Org Policy v2 handlers for project-level policies of the modelled constraint: get, list, getEffectivePolicy
(what a tool reads before it writes; on an organization or folder too, for a project still to be made),
and create, patch and delete (what `gcloud org-policies set-policy` and `reset` send). Any other constraint
answers UNIMPLEMENTED: the emulator does not know its default."""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.authorization import project_caller_may_act_on, sees
from gcp_setup.emulator.core.routes import ApiRequest, api_method
from gcp_setup.emulator.orgpolicy.models import OrgPolicyBackend, ProjectPolicy, modelled_constraint
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend

API = "orgpolicy.v2"
METHOD = "orgpolicy.projects.policies."
READ_PERMISSION = "orgpolicy.policy.get"


def _policies(req: ApiRequest) -> OrgPolicyBackend:
    return req.world.backend(OrgPolicyBackend)


def _project(req: ApiRequest, permission: str) -> Project:
    """The project in the path, if the caller holds `permission` on it (missing and forbidden look alike)."""
    ref = req.params["projectsId"]
    return project_caller_may_act_on(
        req,
        ref,
        allowed=lambda project: _may(req, project, permission),
        denied=lambda: guesses.org_policy_denied(permission, f"projects/{ref}"),
    )


def _may(req: ApiRequest, project: Project, permission: str) -> bool:
    """Anyone who can see a project may read its policies; writing them takes an organization policy
    administrator (roles/orgpolicy.policyAdmin, granted on the organization: no project owner holds it)."""
    if permission == READ_PERMISSION:
        return sees(req)(project)
    return req.principal in req.world.org_policies.policy_admins


def _existing(req: ApiRequest, permission: str) -> ProjectPolicy:
    project = _project(req, permission)
    policy = _policies(req).get(project, modelled_constraint(req.params["policiesId"]))
    if policy is None:
        raise errors.NotFound("Requested entity was not found.")
    return policy


def _check_etag(policy: ProjectPolicy, etag: str | None) -> None:
    if etag and etag != policy.etag:
        raise errors.Aborted(f"The etag {etag} does not match the current etag of policy {policy.name}.")


@api_method(API, METHOD + "getEffectivePolicy")
def get_effective_policy(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, READ_PERMISSION)
    constraint = modelled_constraint(req.params["policiesId"])
    enforced = _policies(req).enforced(project, constraint)
    return {
        "name": f"projects/{project.number}/policies/{constraint}",
        "spec": guesses.effective_spec(enforced),
    }


@api_method(
    API,
    "orgpolicy.organizations.policies.getEffectivePolicy",
    "orgpolicy.folders.policies.getEffectivePolicy",
)
def get_effective_policy_above(req: ApiRequest) -> dict[str, Any]:
    """What an organization or folder passes down: read before a project is created under it. The
    emulator keeps no IAM on organizations: every caller may read it."""
    kind, ref = (
        ("organizations", req.params["organizationsId"])
        if "organizationsId" in req.params
        else (
            "folders",
            req.params["foldersId"],
        )
    )
    constraint = modelled_constraint(req.params["policiesId"])
    enforced = _policies(req).enforced_above(f"{kind}/{ref}")
    return {"name": f"{kind}/{ref}/policies/{constraint}", "spec": guesses.effective_spec(enforced)}


@api_method(API, METHOD + "get")
def get(req: ApiRequest) -> dict[str, Any]:
    return _existing(req, READ_PERMISSION).to_json()


@api_method(API, METHOD + "list")
def list_policies(req: ApiRequest) -> dict[str, Any]:
    policies = _policies(req).in_project(_project(req, READ_PERMISSION))
    return {"policies": [p.to_json() for p in policies]} if policies else {}


@api_method(API, METHOD + "create")
def create(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "orgpolicy.policies.create")
    constraint = modelled_constraint(str(req.body.get("name") or ""))
    if _policies(req).get(project, constraint) is not None:
        raise errors.AlreadyExists("Requested entity already exists")
    return _policies(req).put(project, constraint, req.body.get("spec") or {}).to_json()


@api_method(API, METHOD + "patch")
def patch(req: ApiRequest) -> dict[str, Any]:
    policy = _existing(req, "orgpolicy.policies.update")
    _check_etag(policy, req.body.get("etag"))
    project = req.world.backend(ProjectsBackend).lookup(policy.project_number)
    return _policies(req).put(project, policy.constraint, req.body.get("spec") or {}).to_json()


@api_method(API, METHOD + "delete")
def delete(req: ApiRequest) -> dict[str, Any]:
    policy = _existing(req, "orgpolicy.policies.delete")
    _check_etag(policy, req.query.get("etag"))
    _policies(req).delete(policy)
    return {}
