"""IAM v1 Workload Identity Federation: pools and their OIDC providers (state, then handlers).

Google's rules kept here: IDs are 4-32 lowercase letters, digits and hyphens, `gcp-` is reserved;
delete is soft (state DELETED, purged after 30 days, the ID stays taken: create answers 409
ALREADY_EXISTS, undelete restores); every write answers a long-running operation named under the
resource (`projects/NUMBER/locations/global/workloadIdentityPools/P/operations/...`). A provider of
GitHub's shared issuer must have an attribute condition. Every usable provider (active, enabled, in an
active pool) is registered with the STS emulator (`OAuthBackend.add_provider`), so token exchange
follows the pool's state, mapping and condition.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from gcp_setup.emulator import errors
from gcp_setup.emulator.iam.cel import CelError, compile_expression
from gcp_setup.emulator.iam.models import permission_denied
from gcp_setup.emulator.iam.responses import IAM, page_of, update_mask
from gcp_setup.emulator.oauth.models import OAuthBackend
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend, rfc3339
from gcp_setup.emulator.routing import ApiRequest, api_method
from gcp_setup.emulator.serviceusage.models import ServicesBackend
from gcp_setup.emulator.world import Backend, World, backend

POOLS = "iam.projects.locations.workloadIdentityPools."
PROVIDERS = POOLS + "providers."
SOFT_DELETE_S = 30 * 24 * 3600
_ID = re.compile(r"^[a-z0-9-]{4,32}$")
_ATTRIBUTE_KEY = re.compile(
    r"^(google\.(subject|groups|display_name|profile_photo)|attribute\.[a-z0-9_]{1,100})$"
)
MULTI_TENANT_ISSUERS = ("https://token.actions.githubusercontent.com", "https://app.terraform.io")
"""Issuers shared by every customer: Google refuses their providers without an attribute condition."""
ADMINS = frozenset({"roles/iam.workloadIdentityPoolAdmin"})
READERS = ADMINS | {"roles/iam.workloadIdentityPoolViewer", "roles/viewer"}
PROVIDER_FIELDS = {"displayName", "description", "disabled", "attributeMapping", "attributeCondition", "oidc"}


@dataclass
class Provider:
    provider_id: str
    issuer_uri: str
    attribute_mapping: dict[str, str]
    attribute_condition: str = ""
    allowed_audiences: list[str] = field(default_factory=list)
    display_name: str = ""
    description: str = ""
    disabled: bool = False
    deleted_at: float | None = None


@dataclass
class Pool:
    project_number: str
    pool_id: str
    display_name: str = ""
    description: str = ""
    disabled: bool = False
    deleted_at: float | None = None
    providers: dict[str, Provider] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"projects/{self.project_number}/locations/global/workloadIdentityPools/{self.pool_id}"

    @property
    def principal_prefix(self) -> str:
        return "principal://iam.googleapis.com/" + self.name + "/"


def validate_id(kind: str, value: str) -> None:
    if not _ID.match(value) or value.startswith("gcp-"):
        raise errors.InvalidArgument(
            f"Invalid {kind} ID '{value}': it must be 4 to 32 lowercase letters, digits or hyphens, "
            "and the prefix gcp- is reserved for Google."
        )


def validate_provider(provider: Provider) -> None:
    if not provider.issuer_uri.startswith("https://"):
        raise errors.InvalidArgument("The OIDC issuer URI must be an HTTPS URL.")
    if "google.subject" not in provider.attribute_mapping:
        raise errors.InvalidArgument("The attribute mapping must contain a mapping for google.subject.")
    for key, expression in provider.attribute_mapping.items():
        if not _ATTRIBUTE_KEY.match(key):
            raise errors.InvalidArgument(f"Invalid attribute mapping key '{key}'.")
        _check_cel(expression, f"attribute mapping of {key}")
    if provider.attribute_condition:
        _check_cel(provider.attribute_condition, "attribute condition")
    if provider.issuer_uri.rstrip("/") in MULTI_TENANT_ISSUERS and not re.search(
        r"\b(assertion|attribute|google)\.", provider.attribute_condition
    ):
        raise errors.InvalidArgument(
            "The attribute condition must reference one of the provider's claims. For more information, "
            "see https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines#conditions"
        )


def _check_cel(expression: str, what: str) -> None:
    try:
        compile_expression(expression)
    except CelError as exc:
        raise errors.InvalidArgument(f"Invalid {what} '{expression}': {exc}.") from None


@backend
class WorkloadIdentityBackend(Backend):
    name = "workload_identity"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.pools: dict[str, Pool] = {}
        """pool name (projects/NUMBER/locations/global/workloadIdentityPools/ID) -> pool"""

    def find(self, project: Project, pool_id: str) -> Pool | None:
        pool = self.pools.get(Pool(project.number, pool_id).name)
        if pool is not None and self._expired(pool.deleted_at):
            del self.pools[pool.name]  # purged: the ID is free again
            return None
        return pool

    def in_project(self, project: Project) -> list[Pool]:
        """The project's pools, deleted ones included (until purged), by ID."""
        ids = sorted(p.pool_id for p in self.pools.values() if p.project_number == project.number)
        return [pool for pool_id in ids if (pool := self.find(project, pool_id)) is not None]

    def get(self, project: Project, pool_id: str) -> Pool:
        pool = self.find(project, pool_id)
        if pool is None:
            raise errors.NotFound("Requested entity was not found.")
        return pool

    def provider(self, pool: Pool, provider_id: str) -> Provider:
        provider = pool.providers.get(provider_id)
        if provider is not None and self._expired(provider.deleted_at):
            del pool.providers[provider_id]
            provider = None
        if provider is None:
            raise errors.NotFound("Requested entity was not found.")
        return provider

    def _expired(self, deleted_at: float | None) -> bool:
        return deleted_at is not None and self.world.now() - deleted_at > SOFT_DELETE_S

    def create_pool(self, project: Project, pool_id: str, fields: dict[str, Any]) -> Pool:
        validate_id("workload identity pool", pool_id)
        if self.find(project, pool_id) is not None:
            raise errors.AlreadyExists("Requested entity already exists")
        pool = Pool(
            project.number,
            pool_id,
            fields.get("displayName", ""),
            fields.get("description", ""),
            bool(fields.get("disabled", False)),
        )
        self.pools[pool.name] = pool
        return pool

    def set_pool_deleted(self, pool: Pool, deleted: bool) -> None:
        if (pool.deleted_at is not None) == deleted:
            state = "deleted" if deleted else "active"
            raise errors.FailedPrecondition(f"The workload identity pool is already {state}.")
        pool.deleted_at = self.world.now() if deleted else None
        self.sync(pool)

    def create_provider(self, pool: Pool, provider: Provider) -> Provider:
        validate_id("workload identity pool provider", provider.provider_id)
        if pool.deleted_at is not None:
            raise errors.FailedPrecondition("The workload identity pool is deleted.")
        if provider.provider_id in pool.providers:
            self.provider(pool, provider.provider_id)  # purges an expired one
        if provider.provider_id in pool.providers:
            raise errors.AlreadyExists("Requested entity already exists")
        validate_provider(provider)
        pool.providers[provider.provider_id] = provider
        self.sync(pool)
        return provider

    def set_provider_deleted(self, pool: Pool, provider: Provider, deleted: bool) -> None:
        if (provider.deleted_at is not None) == deleted:
            state = "deleted" if deleted else "active"
            raise errors.FailedPrecondition(f"The workload identity pool provider is already {state}.")
        provider.deleted_at = self.world.now() if deleted else None
        self.sync(pool)

    def sync(self, pool: Pool) -> None:
        """Tell STS which of the pool's providers accept tokens now; revoke federated tokens of a
        pool that stops working (Google refuses them too)."""
        oauth = self.world.backend(OAuthBackend)
        pool_usable = pool.deleted_at is None and not pool.disabled
        for p in pool.providers.values():
            if pool_usable and p.deleted_at is None and not p.disabled:
                oauth.add_provider(
                    pool.project_number,
                    pool.pool_id,
                    p.provider_id,
                    p.issuer_uri,
                    p.attribute_mapping,
                    p.attribute_condition,
                )
            else:
                oauth.remove_provider(f"//iam.googleapis.com/{pool.name}/providers/{p.provider_id}")
        if not pool_usable:
            for principal in [p for p in oauth.federated_attributes if p.startswith(pool.principal_prefix)]:
                self.world.tokens.revoke_principal(principal)

    def to_json(self) -> dict[str, Any]:
        return {"pools": [asdict(p) for p in self.pools.values()]}

    def load_json(self, data: dict[str, Any]) -> None:
        self.pools = {}
        for item in data.get("pools", []):
            providers = {k: Provider(**v) for k, v in item.pop("providers", {}).items()}
            pool = Pool(**item, providers=providers)
            self.pools[pool.name] = pool


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


def _project(req: ApiRequest, permission: str, roles: frozenset[str]) -> Project:
    """The project of the path (ID or number), the caller allowed, the IAM API on; only `global`."""
    projects = req.world.backend(ProjectsBackend)
    project = projects.find(req.params["projectsId"])
    if project is None or not project.active or not projects.has_role(project, req.principal, roles):
        raise permission_denied(permission)
    req.world.backend(ServicesBackend).require_enabled(project, "iam.googleapis.com")
    if req.params["locationsId"] != "global":
        raise errors.InvalidArgument("Workload identity pools exist only in the location global.")
    return project


def _pool(req: ApiRequest, permission: str, roles: frozenset[str] = ADMINS) -> Pool:
    return _wif(req).get(_project(req, permission, roles), req.params["workloadIdentityPoolsId"])


@api_method(IAM, POOLS + "create")
def create_pool(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "iam.workloadIdentityPools.create", ADMINS)
    pool = _wif(req).create_pool(project, req.query.get("workloadIdentityPoolId", ""), req.body)
    return _operation(req, pool.name, pool_json(pool), "WorkloadIdentityPool")


@api_method(IAM, POOLS + "get")
def get_pool(req: ApiRequest) -> dict[str, Any]:
    return pool_json(_pool(req, "iam.workloadIdentityPools.get", READERS))


@api_method(IAM, POOLS + "list")
def list_pools(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "iam.workloadIdentityPools.list", READERS)
    show_deleted = (req.query.get("showDeleted") or "").lower() == "true"
    listed = [pool_json(p) for p in _wif(req).in_project(project) if show_deleted or p.deleted_at is None]
    page, next_token = page_of(req, listed)
    out: dict[str, Any] = {"workloadIdentityPools": page} if page else {}
    if next_token:
        out["nextPageToken"] = next_token
    return out


@api_method(IAM, POOLS + "delete")
def delete_pool(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.workloadIdentityPools.delete")
    _wif(req).set_pool_deleted(pool, True)
    return _operation(req, pool.name, pool_json(pool), "WorkloadIdentityPool")


@api_method(IAM, POOLS + "undelete")
def undelete_pool(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.workloadIdentityPools.undelete")
    _wif(req).set_pool_deleted(pool, False)
    return _operation(req, pool.name, pool_json(pool), "WorkloadIdentityPool")


@api_method(IAM, POOLS + "operations.get", PROVIDERS + "operations.get")
def get_operation(req: ApiRequest) -> dict[str, Any]:
    _project(req, "iam.workloadIdentityPools.get", READERS)
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
        display_name=body.get("displayName", ""),
        description=body.get("description", ""),
        disabled=bool(body.get("disabled", False)),
    )


@api_method(IAM, PROVIDERS + "create")
def create_provider(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.workloadIdentityPoolProviders.create")
    provider = _provider_from(req.query.get("workloadIdentityPoolProviderId", ""), req.body)
    _wif(req).create_provider(pool, provider)
    return _operation(
        req,
        pool.name + f"/providers/{provider.provider_id}",
        provider_json(pool, provider),
        "WorkloadIdentityPoolProvider",
    )


def _provider(req: ApiRequest, permission: str, roles: frozenset[str] = ADMINS) -> tuple[Pool, Provider]:
    pool = _pool(req, permission, roles)
    return pool, _wif(req).provider(pool, req.params["providersId"])


@api_method(IAM, PROVIDERS + "get")
def get_provider(req: ApiRequest) -> dict[str, Any]:
    return provider_json(*_provider(req, "iam.workloadIdentityPoolProviders.get", READERS))


@api_method(IAM, PROVIDERS + "list")
def list_providers(req: ApiRequest) -> dict[str, Any]:
    pool = _pool(req, "iam.workloadIdentityPoolProviders.list", READERS)
    show_deleted = (req.query.get("showDeleted") or "").lower() == "true"
    providers = [_wif(req).provider(pool, pid) for pid in sorted(pool.providers)]
    listed = [provider_json(pool, p) for p in providers if show_deleted or p.deleted_at is None]
    page, next_token = page_of(req, listed)
    out: dict[str, Any] = {"workloadIdentityPoolProviders": page} if page else {}
    if next_token:
        out["nextPageToken"] = next_token
    return out


def _provider_operation(req: ApiRequest, pool: Pool, provider: Provider) -> dict[str, Any]:
    name = f"{pool.name}/providers/{provider.provider_id}"
    return _operation(req, name, provider_json(pool, provider), "WorkloadIdentityPoolProvider")


@api_method(IAM, PROVIDERS + "delete")
def delete_provider(req: ApiRequest) -> dict[str, Any]:
    pool, provider = _provider(req, "iam.workloadIdentityPoolProviders.delete")
    _wif(req).set_provider_deleted(pool, provider, True)
    return _provider_operation(req, pool, provider)


@api_method(IAM, PROVIDERS + "undelete")
def undelete_provider(req: ApiRequest) -> dict[str, Any]:
    pool, provider = _provider(req, "iam.workloadIdentityPoolProviders.undelete")
    _wif(req).set_provider_deleted(pool, provider, False)
    return _provider_operation(req, pool, provider)


@api_method(IAM, PROVIDERS + "patch")
def patch_provider(req: ApiRequest) -> dict[str, Any]:
    pool, provider = _provider(req, "iam.workloadIdentityPoolProviders.update")
    mask = {m.split(".", 1)[0] for m in update_mask(req.query.get("updateMask"))}
    if not mask or mask - PROVIDER_FIELDS:
        raise errors.InvalidArgument(f"Invalid update mask: {req.query.get('updateMask') or '(empty)'}.")
    changed = _provider_from(provider.provider_id, {**provider_json(pool, provider), **req.body})
    attributes = [
        a for name in mask for a in {"oidc": ("issuer_uri", "allowed_audiences")}.get(name, (_snake(name),))
    ]
    provider = replace(provider, **{a: getattr(changed, a) for a in attributes})
    validate_provider(provider)
    pool.providers[provider.provider_id] = provider
    _wif(req).sync(pool)
    return _provider_operation(req, pool, provider)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
