"""API Keys v2 handlers. Changes answer long-running operations (`operations/akmf.*`) whose response is
the Key, typed with `@type`, as the real API does. Binding a key to a service account (`serviceAccountEmail`
at creation) is checked as Google does: the caller may act as the account, the account is the project's, and
the org policy constraint on binding is not enforced (a key restricted to the Gemini API alone is exempt)."""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.apikeys.models import KEY_TYPE_URL, MUTABLE_FIELDS, ApiKeysBackend, Key, check_etag
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.authorization import (
    holds_permission,
    may_act_on_service_account,
    project_caller_may_act_on,
    sees,
)
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, api_method, update_mask
from gcp_setup.emulator.iam.models import ServiceAccount, ServiceAccountsBackend
from gcp_setup.emulator.orgpolicy.models import OrgPolicyBackend
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend, caller_lacks_permission

API = "apikeys.v2"
METHOD = "apikeys.projects.locations.keys."
SERVICE = "apikeys.googleapis.com"
PAGE_SIZE, MAX_PAGE_SIZE = 20, 100


def _keys(req: ApiRequest) -> ApiKeysBackend:
    return req.world.backend(ApiKeysBackend)


def _project(req: ApiRequest, permission: str) -> Project:
    """The project in the path (ID or number), with the API enabled and the caller allowed `permission`."""
    if req.params["locationsId"] != "global":
        raise errors.InvalidArgument(f"Location {req.params['locationsId']} is not supported; use global.")
    project = project_caller_may_act_on(
        req,
        req.params["projectsId"],
        allowed=sees(req),
        denied=caller_lacks_permission,
        when_deleted="refuse",
        service=SERVICE,
    )
    if not holds_permission(req, permission)(project):
        raise errors.iam_denied(permission)
    return project


def _key(req: ApiRequest, permission: str, *, deleted_ok: bool = False) -> Key:
    project = _project(req, permission)
    return _keys(req).get(project, req.params["keysId"], deleted_ok=deleted_ok)


def _operation(req: ApiRequest, key: Key, *, with_key_string: bool = False) -> dict[str, Any]:
    response = {"@type": KEY_TYPE_URL, **key.to_json(with_key_string=with_key_string)}
    op = req.world.operations.start(f"operations/akmf.p7-{key.project_number}-", response=response)
    return op.to_json()


@api_method(API, METHOD + "create")
def create(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "apikeys.keys.create")
    account = _account_to_bind(req, project)
    key = _keys(req).create(project, req.query.get("keyId"), req.body, account)
    return _operation(req, key, with_key_string=True)


def _account_to_bind(req: ApiRequest, project: Project) -> ServiceAccount | None:
    email = req.body.get("serviceAccountEmail")
    if not email:
        return None
    account = req.world.backend(ServiceAccountsBackend).find(email)
    account_project = req.world.backend(ProjectsBackend).find(account.project_id) if account else None
    if account is None or not may_act_on_service_account(
        req, account_project, account, guesses.BIND_PERMISSION
    ):
        raise errors.iam_denied(guesses.BIND_PERMISSION)  # IAM answers a missing account alike
    if account.project_id != project.project_id:
        raise guesses.bound_account_not_in_project(email, project.number)
    targets = {t.get("service") for t in (req.body.get("restrictions") or {}).get("apiTargets") or []}
    exempt = bool(targets) and targets <= guesses.BINDING_EXEMPT_TARGETS
    if not exempt and req.world.backend(OrgPolicyBackend).enforced(project):
        raise guesses.api_key_binding_not_allowed(project.number, account.email)
    return account


@api_method(API, METHOD + "get")
def get(req: ApiRequest) -> dict[str, Any]:
    return _key(req, "apikeys.keys.get").to_json()


@api_method(API, METHOD + "list")
def list_keys(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "apikeys.keys.list")
    keys = _keys(req).in_project(project, show_deleted=req.flag("showDeleted"))
    items, next_token = page(keys, req.query, default_size=PAGE_SIZE, max_size=MAX_PAGE_SIZE)
    return with_next_page({"keys": [k.to_json() for k in items]} if items else {}, next_token)


@api_method(API, METHOD + "getKeyString")
def get_key_string(req: ApiRequest) -> dict[str, Any]:
    return {"keyString": _key(req, "apikeys.keys.getKeyString").key_string}


@api_method(API, METHOD + "patch")
def patch(req: ApiRequest) -> dict[str, Any]:
    key = _key(req, "apikeys.keys.update")
    check_etag(key, req.body.get("etag"))
    mask = update_mask(req.query.get("updateMask"))
    # No mask: every mutable field present in the body, as Google's AIP-134 says.
    mask = mask or [f for f in MUTABLE_FIELDS if f in req.body]
    return _operation(req, _keys(req).update(key, req.body, mask))


@api_method(API, METHOD + "delete")
def delete(req: ApiRequest) -> dict[str, Any]:
    key = _key(req, "apikeys.keys.delete")
    check_etag(key, req.query.get("etag"))
    return _operation(req, _keys(req).delete(key))


@api_method(API, METHOD + "undelete")
def undelete(req: ApiRequest) -> dict[str, Any]:
    key = _key(req, "apikeys.keys.undelete", deleted_ok=True)
    return _operation(req, _keys(req).undelete(key))


@api_method(API, "apikeys.keys.lookupKey")
def lookup_key(req: ApiRequest) -> dict[str, Any]:
    key = _keys(req).by_key_string(req.query.get("keyString") or "")
    if key is None or key.deleted:
        raise errors.NotFound(
            "The API key was not found.", reason="KEY_NOT_FOUND", domain="apikeys.googleapis.com"
        )
    return {"parent": key.parent, "name": key.name}


@api_method(API, "apikeys.operations.get")
def get_operation(req: ApiRequest) -> dict[str, Any]:
    return req.world.operations.answer(f"operations/{req.params['operationsId']}")
