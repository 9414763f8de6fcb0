"""IAM v1 Workload Identity Federation handlers: pools and their OIDC providers. Every write answers a
long-running operation named under the resource (`projects/NUMBER/locations/global/workloadIdentityPools/P/
operations/...`), polled through that resource's `operations.get`. The IAM API must be on in the project;
only the location `global` exists."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.authorization import holds_permission, project_caller_may_act_on
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, api_method, update_mask
from gcp_setup.emulator.core.times import rfc3339
from gcp_setup.emulator.resourcemanager.models import Project
from gcp_setup.emulator.workload_identity.models import (
    SOFT_DELETE_S,
    Pool,
    Provider,
    WorkloadIdentityBackend,
    validate_provider,
)

IAM = "iam.v1"
POOLS = "iam.projects.locations.workloadIdentityPools."
PROVIDERS = POOLS + "providers."
PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
POOL_FIELDS = {"displayName", "description", "disabled"}
PROVIDER_FIELDS = {"displayName", "description", "disabled", "attributeMapping", "attributeCondition", "oidc"}


# -- wire format ------------------------------------------------------------------------------------
def _lifecycle(out: dict[str, Any], disabled: bool, deleted_at: float | None) -> dict[str, Any]:
    out["state"] = "DELETED" if deleted_at is not None else "ACTIVE"
    if disabled:
        out["disabled"] = True
    if deleted_at is not None:
        out["expireTime"] = rfc3339(deleted_at + SOFT_DELETE_S)
    return out


def pool_json(pool: Pool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": pool.name}
    if pool.display_name:
        out["displayName"] = pool.display_name
    if pool.description:
        out["description"] = pool.description
    return _lifecycle(out, pool.disabled, pool.deleted_at)


def provider_json(pool: Pool, provider: Provider) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f"{pool.name}/providers/{provider.provider_id}"}
    if provider.display_name:
        out["displayName"] = provider.display_name
    if provider.description:
        out["description"] = provider.description
    out["attributeMapping"] = dict(provider.attribute_mapping)
    if provider.attribute_condition:
        out["attributeCondition"] = provider.attribute_condition
    oidc: dict[str, Any] = {"issuerUri": provider.issuer_uri}
    if provider.allowed_audiences:
        oidc["allowedAudiences"] = list(provider.allowed_audiences)
    if provider.jwks_json:
        oidc["jwksJson"] = provider.jwks_json
    out["oidc"] = oidc
    return _lifecycle(out, provider.disabled, provider.deleted_at)


def _operation(
    req: ApiRequest, resource_name: str, response: dict[str, Any], type_name: str
) -> dict[str, Any]:
    body = {"@type": f"type.googleapis.com/google.iam.v1.{type_name}", **response}
    return req.world.operations.start(f"{resource_name}/operations/", response=body).to_json()


# -- handlers ---------------------------------------------------------------------------------------
def _wif(req: ApiRequest) -> WorkloadIdentityBackend:
    return req.world.backend(WorkloadIdentityBackend)


def _project(req: ApiRequest, permission: str) -> Project:
    """The project of the path (ID or number), the caller allowed, the IAM API on; only `global`."""
    project = project_caller_may_act_on(
        req,
        req.params["projectsId"],
        allowed=holds_permission(req, permission),
        denied=lambda: errors.iam_denied(permission),
        when_deleted="deny",
        service="iam.googleapis.com",
    )
    if req.params["locationsId"] != "global":
        raise errors.InvalidArgument("Workload identity pools exist only in the location global.")
    return project


def _pool(req: ApiRequest, permission: str) -> Pool:
    return _wif(req).get(_project(req, permission), req.params["workloadIdentityPoolsId"])


@api_method(IAM, POOLS + "create")
def create_pool(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "iam.googleapis.com/workloadIdentityPools.create")
    pool = _wif(req).create_pool(project, req.query.get("workloadIdentityPoolId", ""), req.body)
    return _operation(req, pool.name, pool_json(pool), "WorkloadIdentityPool")


@api_method(IAM, POOLS + "get")
def get_pool(req: ApiRequest) -> dict[str, Any]:
    return pool_json(_pool(req, "iam.googleapis.com/workloadIdentityPools.get"))


@api_method(IAM, POOLS + "list")
def list_pools(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "iam.googleapis.com/workloadIdentityPools.list")
    show_deleted = req.flag("showDeleted")
    listed = [pool_json(p) for p in _wif(req).in_project(project) if show_deleted or p.deleted_at is None]
    items, next_token = page(listed, req.query, default_size=PAGE_SIZE, max_size=MAX_PAGE_SIZE)
    return with_next_page({"workloadIdentityPools": items} if items else {}, next_token)


@api_method(IAM, POOLS + "delete")
def delete_pool(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.googleapis.com/workloadIdentityPools.delete")
    _wif(req).set_pool_deleted(pool, True)
    return _operation(req, pool.name, pool_json(pool), "WorkloadIdentityPool")


@api_method(IAM, POOLS + "undelete")
def undelete_pool(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.googleapis.com/workloadIdentityPools.undelete")
    _wif(req).set_pool_deleted(pool, False)
    return _operation(req, pool.name, pool_json(pool), "WorkloadIdentityPool")


@api_method(IAM, POOLS + "patch")
def patch_pool(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.googleapis.com/workloadIdentityPools.update")
    mask = set(update_mask(req.query.get("updateMask")))
    if not mask or mask - POOL_FIELDS:
        raise errors.InvalidArgument(f"Invalid update mask: {req.query.get('updateMask') or '(empty)'}.")
    for name in mask:
        setattr(pool, _snake(name), req.body.get(name, False if name == "disabled" else ""))
    _wif(req).sync(pool)
    return _operation(req, pool.name, pool_json(pool), "WorkloadIdentityPool")


@api_method(IAM, POOLS + "operations.get", PROVIDERS + "operations.get")
def get_operation(req: ApiRequest) -> dict[str, Any]:
    _project(req, "iam.googleapis.com/workloadIdentityPools.get")
    op = req.world.operations.poll(req.path.removeprefix("/v1/"))
    if op is None:
        raise errors.NotFound("Requested entity was not found.")
    return op.to_json()


def _provider_from(provider_id: str, body: dict[str, Any]) -> Provider:
    if "oidc" not in body:
        raise errors.InvalidArgument("The emulator supports OIDC providers only (set oidc.issuerUri).")
    oidc = body.get("oidc") or {}
    return Provider(
        provider_id,
        issuer_uri=oidc.get("issuerUri", ""),
        attribute_mapping=dict(body.get("attributeMapping") or {}),
        attribute_condition=body.get("attributeCondition", ""),
        allowed_audiences=list(oidc.get("allowedAudiences") or []),
        jwks_json=oidc.get("jwksJson", ""),
        display_name=body.get("displayName", ""),
        description=body.get("description", ""),
        disabled=bool(body.get("disabled", False)),
    )


@api_method(IAM, PROVIDERS + "create")
def create_provider(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.googleapis.com/workloadIdentityPoolProviders.create")
    provider = _provider_from(req.query.get("workloadIdentityPoolProviderId", ""), req.body)
    _wif(req).create_provider(pool, provider)
    return _operation(
        req,
        pool.name + f"/providers/{provider.provider_id}",
        provider_json(pool, provider),
        "WorkloadIdentityPoolProvider",
    )


def _provider(req: ApiRequest, permission: str) -> tuple[Pool, Provider]:
    pool = _pool(req, permission)
    return pool, _wif(req).provider(pool, req.params["providersId"])


@api_method(IAM, PROVIDERS + "get")
def get_provider(req: ApiRequest) -> dict[str, Any]:
    return provider_json(*_provider(req, "iam.googleapis.com/workloadIdentityPoolProviders.get"))


@api_method(IAM, PROVIDERS + "list")
def list_providers(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.googleapis.com/workloadIdentityPoolProviders.list")
    show_deleted = req.flag("showDeleted")
    providers = [_wif(req).provider(pool, pid) for pid in sorted(pool.providers)]
    listed = [provider_json(pool, p) for p in providers if show_deleted or p.deleted_at is None]
    items, next_token = page(listed, req.query, default_size=PAGE_SIZE, max_size=MAX_PAGE_SIZE)
    return with_next_page({"workloadIdentityPoolProviders": items} if items else {}, next_token)


def _provider_operation(req: ApiRequest, pool: Pool, provider: Provider) -> dict[str, Any]:
    name = f"{pool.name}/providers/{provider.provider_id}"
    return _operation(req, name, provider_json(pool, provider), "WorkloadIdentityPoolProvider")


@api_method(IAM, PROVIDERS + "delete")
def delete_provider(req: ApiRequest) -> dict[str, Any]:
    pool, provider = _provider(req, "iam.googleapis.com/workloadIdentityPoolProviders.delete")
    _wif(req).set_provider_deleted(pool, provider, True)
    return _provider_operation(req, pool, provider)


@api_method(IAM, PROVIDERS + "undelete")
def undelete_provider(req: ApiRequest) -> dict[str, Any]:
    pool, provider = _provider(req, "iam.googleapis.com/workloadIdentityPoolProviders.undelete")
    _wif(req).set_provider_deleted(pool, provider, False)
    return _provider_operation(req, pool, provider)


@api_method(IAM, PROVIDERS + "patch")
def patch_provider(req: ApiRequest) -> dict[str, Any]:
    pool, provider = _provider(req, "iam.googleapis.com/workloadIdentityPoolProviders.update")
    mask = {m.split(".", 1)[0] for m in update_mask(req.query.get("updateMask"))}
    if not mask or mask - PROVIDER_FIELDS:
        raise errors.InvalidArgument(f"Invalid update mask: {req.query.get('updateMask') or '(empty)'}.")
    changed = _provider_from(provider.provider_id, {**provider_json(pool, provider), **req.body})
    attributes = [
        a
        for name in mask
        for a in {"oidc": ("issuer_uri", "allowed_audiences", "jwks_json")}.get(name, (_snake(name),))
    ]
    provider = replace(provider, **{a: getattr(changed, a) for a in attributes})
    validate_provider(provider)
    pool.providers[provider.provider_id] = provider
    _wif(req).sync(pool)
    return _provider_operation(req, pool, provider)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
