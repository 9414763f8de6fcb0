"""Cloud Resource Manager handlers, v1 (what gcloud speaks) and v3 (what the Python client speaks).

Both versions share ProjectsBackend; they differ in wire format only: v1 names a project by ID and gives
`parent` as {"type","id"}, v3 names it "projects/NUMBER" with `parent` "organizations/N", and v3 answers
changes with long-running operations where v1 answers at once.
"""

from __future__ import annotations

import re
from typing import Any

from gcp_setup.emulator.core import errors, quotas
from gcp_setup.emulator.core.authorization import holds_permission, project_caller_may_act_on
from gcp_setup.emulator.core.iam_policy import requested_in
from gcp_setup.emulator.core.operations import Operation
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, api_method, update_mask
from gcp_setup.emulator.resourcemanager.models import (
    Project,
    ProjectsBackend,
    caller_lacks_permission,
    matches,
)
from gcp_setup.emulator.serviceusage.models import DEFAULT_SERVICES, ServicesBackend

V1 = "cloudresourcemanager.v1"
V3 = "cloudresourcemanager.v3"
M = "cloudresourcemanager."

V1_TYPE = "type.googleapis.com/google.cloudresourcemanager.v1."
V3_TYPE = "type.googleapis.com/google.cloud.resourcemanager.v3."
# service.resource.verb, or (IAM's newer ones) service.googleapis.com/resource.verb
_PERMISSION = re.compile(
    r"[a-z][a-zA-Z0-9]*(\.[a-zA-Z0-9]+){2,}|[a-z][a-zA-Z0-9]*\.googleapis\.com/[a-zA-Z0-9]+\.[a-zA-Z0-9]+"
)


def _projects(req: ApiRequest) -> ProjectsBackend:
    return req.world.backend(ProjectsBackend)


# -- wire formats ---------------------------------------------------------------------------------------
def v1_project(p: Project) -> dict[str, Any]:
    out: dict[str, Any] = {
        "projectNumber": p.number,
        "projectId": p.project_id,
        "lifecycleState": p.state,
        "name": p.display_name,
        "createTime": p.create_time,
    }
    if p.labels:
        out["labels"] = dict(p.labels)
    if p.parent:
        kind, _, parent_id = p.parent.partition("/")
        out["parent"] = {"type": kind.removesuffix("s"), "id": parent_id}
    return out


def v3_project(p: Project) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f"projects/{p.number}",
        "projectId": p.project_id,
        "state": p.state,
        "displayName": p.display_name,
        "createTime": p.create_time,
        "updateTime": p.update_time,
        "etag": p.etag,
    }
    if p.parent:
        out["parent"] = p.parent
    if p.delete_time:
        out["deleteTime"] = p.delete_time
    if p.labels:
        out["labels"] = dict(p.labels)
    return out


def _parent_from_v1(parent: Any) -> str:
    if not parent:
        return ""
    if (
        not isinstance(parent, dict)
        or parent.get("type") not in ("organization", "folder")
        or not parent.get("id")
    ):
        raise errors.InvalidArgument(
            "Request contains an invalid argument: parent must be an organization or folder."
        )
    return f"{parent['type']}s/{parent['id']}"


def _parent_from_v3(parent: Any) -> str:
    if parent and not (isinstance(parent, str) and parent.startswith(("organizations/", "folders/"))):
        raise errors.InvalidArgument(f"Request contains an invalid argument: parent '{parent}' is invalid.")
    return parent or ""


def _labels(body: dict[str, Any]) -> dict[str, str]:
    labels = body.get("labels") or {}
    if not isinstance(labels, dict):
        raise errors.InvalidArgument("Request contains an invalid argument: labels must be a map.")
    return labels


# -- access ---------------------------------------------------------------------------------------------
def _denied(version: str, permission: str, ref: str) -> errors.PermissionDenied:
    """v1 says only that the caller lacks permission; v3 names the permission, as Google's IAM does."""
    if version == V1:
        return caller_lacks_permission()
    resource = f"projects/{ref.removeprefix('projects/')}"
    return errors.iam_permission_denied("cloudresourcemanager.googleapis.com", permission, resource)


def _project(req: ApiRequest, version: str, ref: str, permission: str, *, active: bool = False) -> Project:
    """The project `ref` if the caller holds `permission` on it; missing and forbidden look alike."""
    return project_caller_may_act_on(
        req,
        ref,
        allowed=holds_permission(req, permission),
        denied=lambda: _denied(version, permission, ref),
        when_deleted="refuse" if active else "allow",
    )


def _path_ref(req: ApiRequest) -> str:
    return req.params.get("projectId") or req.params.get("projectsId") or req.params["resource"]


def _operation(req: ApiRequest, kind: str, response: dict[str, Any], metadata: dict[str, Any]) -> Operation:
    return req.world.operations.start(f"operations/{kind}.", response=response, metadata=metadata)


def _v3_done(req: ApiRequest, kind: str, project: Project, metadata_type: str) -> dict[str, Any]:
    response = {"@type": V3_TYPE + "Project", **v3_project(project)}
    return _operation(req, kind, response, {"@type": V3_TYPE + metadata_type}).to_json()


# -- create ---------------------------------------------------------------------------------------------
def _create(req: ApiRequest, *, display_name: str | None, parent: str) -> Project | None:
    """The new project, or None when the caller's project quota is used up (the operation then fails)."""
    project_id = req.body.get("projectId") or ""
    if not project_id:
        raise errors.InvalidArgument("Request contains an invalid argument: field [project_id] is required.")
    quotas.charge(req.world, quotas.PROJECT_CREATES, quotas.consumer_of(req.headers, req.principal))
    if _projects(req).created_by(req.principal) >= req.world.realism.projects_per_creator:
        return None
    project = _projects(req).create(
        project_id, owner=req.principal, parent=parent, display_name=display_name, labels=_labels(req.body)
    )
    req.world.backend(ServicesBackend).enable_many(project, list(DEFAULT_SERVICES))
    return project


def _creation_status(project: Project, type_url: str) -> dict[str, Any]:
    return {"@type": type_url, "createTime": project.create_time, "gettable": True, "ready": True}


def _quota_used_up(req: ApiRequest, metadata_type: str) -> dict[str, Any]:
    """Google's answer when the caller may create no more projects: the operation fails with
    RESOURCE_EXHAUSTED (seen in GAM-team/GAMADV-XTD3#116, 2021)."""
    message = "The project cannot be created because you have exceeded your allotted project quota."
    error = {"code": 8, "message": message, "details": [quotas.quota_failure(message)]}
    metadata = {"@type": metadata_type, "ready": True}
    return req.world.operations.start("operations/cp.", error=error, metadata=metadata).to_json()


@api_method(V1, M + "projects.create")
def create_v1(req: ApiRequest) -> dict[str, Any]:
    project = _create(req, display_name=req.body.get("name"), parent=_parent_from_v1(req.body.get("parent")))
    if project is None:
        return _quota_used_up(req, V1_TYPE + "ProjectCreationStatus")
    response = {"@type": V1_TYPE + "Project", **v1_project(project)}
    metadata = _creation_status(project, V1_TYPE + "ProjectCreationStatus")
    return _operation(req, "cp", response, metadata).to_json()


@api_method(V3, M + "projects.create")
def create_v3(req: ApiRequest) -> dict[str, Any]:
    project = _create(
        req, display_name=req.body.get("displayName"), parent=_parent_from_v3(req.body.get("parent"))
    )
    if project is None:
        return _quota_used_up(req, V3_TYPE + "CreateProjectMetadata")
    response = {"@type": V3_TYPE + "Project", **v3_project(project)}
    metadata = _creation_status(project, V3_TYPE + "CreateProjectMetadata")
    return _operation(req, "cp", response, metadata).to_json()


# -- read -----------------------------------------------------------------------------------------------
@api_method(V1, M + "projects.get")
def get_v1(req: ApiRequest) -> dict[str, Any]:
    return v1_project(_project(req, V1, _path_ref(req), "resourcemanager.projects.get"))


@api_method(V3, M + "projects.get")
def get_v3(req: ApiRequest) -> dict[str, Any]:
    return v3_project(_project(req, V3, _path_ref(req), "resourcemanager.projects.get"))


def _visible(req: ApiRequest, expression: str) -> list[Project]:
    found = [p for p in _projects(req).visible_to(req.principal) if matches(p, expression)]
    return sorted(found, key=lambda p: p.project_id)


@api_method(V1, M + "projects.list")
def list_v1(req: ApiRequest) -> dict[str, Any]:
    items, token = page(
        _visible(req, req.query.get("filter", "")), req.query, default_size=500, max_size=1000
    )
    return with_next_page({"projects": [v1_project(p) for p in items]} if items else {}, token)


@api_method(V3, M + "projects.search")
def search_v3(req: ApiRequest) -> dict[str, Any]:
    items, token = page(_visible(req, req.query.get("query", "")), req.query, default_size=500, max_size=500)
    return with_next_page({"projects": [v3_project(p) for p in items]} if items else {}, token)


@api_method(V3, M + "projects.list")
def list_v3(req: ApiRequest) -> dict[str, Any]:
    """Direct children of `parent`; projects pending deletion only with showDeleted=true."""
    parent = _parent_from_v3(req.query.get("parent"))
    if not parent:
        raise errors.InvalidArgument("Request contains an invalid argument: parent is required.")
    show_deleted = req.flag("showDeleted")
    children = [p for p in _visible(req, "") if p.parent == parent and (p.active or show_deleted)]
    items, token = page(children, req.query, default_size=500, max_size=500)
    return with_next_page({"projects": [v3_project(p) for p in items]} if items else {}, token)


@api_method(V1, M + "projects.getAncestry")
def get_ancestry_v1(req: ApiRequest) -> dict[str, Any]:
    """The project, then its parent; the emulator keeps no folders, so the chain ends there."""
    project = _project(req, V1, _path_ref(req), "resourcemanager.projects.get")
    ancestors = [{"resourceId": {"type": "project", "id": project.project_id}}]
    if project.parent:
        ancestors.append({"resourceId": v1_project(project)["parent"]})
    return {"ancestor": ancestors}


# -- update ---------------------------------------------------------------------------------------------
@api_method(V1, M + "projects.update")
def update_v1(req: ApiRequest) -> dict[str, Any]:
    """PUT: the display name and labels are replaced as given; a parent can be set only when there is none."""
    project = _project(req, V1, _path_ref(req), "resourcemanager.projects.update", active=True)
    _apply_update(
        req,
        project,
        display_name=req.body.get("name"),
        labels=_labels(req.body),
        parent=_parent_from_v1(req.body.get("parent")),
    )
    return v1_project(project)


@api_method(V3, M + "projects.patch")
def patch_v3(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, V3, _path_ref(req), "resourcemanager.projects.update", active=True)
    mask = update_mask(req.query.get("updateMask"))
    unknown = set(mask) - {"displayName", "labels"}
    if unknown:
        raise errors.InvalidArgument(
            f"Request contains an invalid argument: cannot update {sorted(unknown)}."
        )
    fields = set(mask) or {"displayName", "labels"}
    _apply_update(
        req,
        project,
        display_name=req.body.get("displayName") if "displayName" in fields else None,
        labels=_labels(req.body) if "labels" in fields else project.labels,
        parent=project.parent,
    )
    return _v3_done(req, "up", project, "UpdateProjectMetadata")


def _apply_update(
    req: ApiRequest, project: Project, *, display_name: str | None, labels: dict[str, str], parent: str
) -> None:
    if parent and project.parent and parent != project.parent:
        raise errors.InvalidArgument(
            "Request contains an invalid argument: use MoveProject to change the parent."
        )
    if display_name is not None:
        project.display_name = display_name
    project.labels = dict(labels)
    project.parent = parent or project.parent
    _projects(req).touch(project)


# -- delete / undelete ----------------------------------------------------------------------------------
@api_method(V1, M + "projects.delete")
def delete_v1(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, V1, _path_ref(req), "resourcemanager.projects.delete", active=True)
    _projects(req).request_delete(project)
    return {}


@api_method(V3, M + "projects.delete")
def delete_v3(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, V3, _path_ref(req), "resourcemanager.projects.delete", active=True)
    _projects(req).request_delete(project)
    return _v3_done(req, "dp", project, "DeleteProjectMetadata")


@api_method(V1, M + "projects.undelete")
def undelete_v1(req: ApiRequest) -> dict[str, Any]:
    _projects(req).undelete(_project(req, V1, _path_ref(req), "resourcemanager.projects.undelete"))
    return {}


@api_method(V3, M + "projects.undelete")
def undelete_v3(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, V3, _path_ref(req), "resourcemanager.projects.undelete")
    _projects(req).undelete(project)
    return _v3_done(req, "udp", project, "UndeleteProjectMetadata")


# -- IAM ------------------------------------------------------------------------------------------------
def _version(req: ApiRequest) -> str:
    return V3 if req.path.startswith("/v3/") else V1


@api_method(V1, M + "projects.getIamPolicy")
@api_method(V3, M + "projects.getIamPolicy")
def get_iam_policy(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, _version(req), _path_ref(req), "resourcemanager.projects.getIamPolicy")
    return project.policy.to_json(requested_in(req.body, req.query))


@api_method(V1, M + "projects.setIamPolicy")
@api_method(V3, M + "projects.setIamPolicy")
def set_iam_policy(req: ApiRequest) -> dict[str, Any]:
    permission = "resourcemanager.projects.setIamPolicy"
    project = _project(req, _version(req), _path_ref(req), permission, active=True)
    consumer = quotas.consumer_of(req.headers, f"projects/{project.number}")
    quotas.charge(req.world, quotas.PROJECT_POLICY_WRITES, consumer)
    _projects(req).set_policy(project, req.body)
    return project.policy.to_json()


@api_method(V1, M + "projects.testIamPermissions")
@api_method(V3, M + "projects.testIamPermissions")
def test_iam_permissions(req: ApiRequest) -> dict[str, Any]:
    backend = _projects(req)
    project = backend.find(_path_ref(req))
    if project is None or not backend.can_see(project, req.principal):
        raise _denied(_version(req), "resourcemanager.projects.get", _path_ref(req))
    asked = list(req.body.get("permissions") or [])
    invalid = [p for p in asked if not _PERMISSION.fullmatch(p)]
    if invalid:
        raise errors.InvalidArgument(f"Permission {invalid[0]} is not valid.")
    granted = backend.permitted(project, req.principal, asked)
    return {"permissions": granted} if granted else {}


# -- operations -----------------------------------------------------------------------------------------
@api_method(V1, M + "operations.get")
@api_method(V3, M + "operations.get")
def get_operation(req: ApiRequest) -> dict[str, Any]:
    return req.world.operations.answer(f"operations/{req.params['operationsId']}")
