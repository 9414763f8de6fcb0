"""IAM v1 Workload Identity Federation state: pools and their OIDC providers. No HTTP here.

Google's rules kept here: IDs are 4-32 lowercase letters, digits and hyphens, `gcp-` is reserved;
delete is soft (state DELETED, purged after 30 days, the ID stays taken: create answers 409
ALREADY_EXISTS, undelete restores). A provider of GitHub's shared issuer must have an attribute
condition. Every usable provider (active, enabled, in an active pool) is registered with the STS
emulator (`OAuthBackend.add_provider`), so token exchange follows the pool's state, mapping and condition.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.cel import CelError, compile_expression
from gcp_setup.emulator.core.world import Backend, World, backend
from gcp_setup.emulator.oauth.models import OAuthBackend
from gcp_setup.emulator.resourcemanager.models import Project

SOFT_DELETE_S = 30 * 24 * 3600
_ID = re.compile(r"^[a-z0-9-]{4,32}$")
_ATTRIBUTE_KEY = re.compile(
    r"^(google\.(subject|groups|display_name|profile_photo)|attribute\.[a-z0-9_]{1,100})$"
)
MULTI_TENANT_ISSUERS = ("https://token.actions.githubusercontent.com", "https://app.terraform.io")
"""Issuers shared by every customer: Google refuses their providers without an attribute condition."""


@dataclass
class Provider:
    provider_id: str
    issuer_uri: str
    attribute_mapping: dict[str, str]
    attribute_condition: str = ""
    allowed_audiences: list[str] = field(default_factory=list)
    jwks_json: str = ""
    """The issuer's keys inline (oidc.jwksJson); empty: Google fetches them from the issuer."""
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
    if provider.jwks_json:
        validate_jwks(provider.jwks_json)
    if provider.issuer_uri.rstrip("/") in MULTI_TENANT_ISSUERS and not re.search(
        r"\b(assertion|attribute|google)\.", provider.attribute_condition
    ):
        raise errors.InvalidArgument(
            "The attribute condition must reference one of the provider's claims. For more information, "
            "see https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines#conditions"
        )


def validate_jwks(jwks_json: str) -> None:
    """As the discovery document describes oidc.jwksJson: {"keys": [...]} of RSA or EC keys. The emulator
    verifies RSA signatures only (what GitLab signs with), so it refuses EC keys as not emulated."""
    try:
        keys = json.loads(jwks_json)["keys"]
        ok = bool(keys) and all(k.get("kty") == "RSA" and k.get("n") and k.get("e") for k in keys)
    except (ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise errors.InvalidArgument("Invalid jwks_json: it must be a JSON Web Key Set of RSA keys.")


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
                    p.allowed_audiences,
                    p.jwks_json,
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
