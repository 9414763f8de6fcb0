"""The register of routes, which every emulated API enters the same way.

Each service is a package listed in SERVICES, with `models.py` (state, no HTTP) and `responses.py`, whose
handlers are short functions (parse, call the backend, serialise) declared with the method they implement:

    @api_method("iam.v1", "iam.projects.serviceAccounts.get")
    def get_service_account(req: ApiRequest) -> dict: ...

The URL comes from the discovery document. APIs with none in google-api-python-client (Generative Language,
the OAuth2 token endpoint) use `@http_route` with a written-out werkzeug rule.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from gcp_setup.emulator.core import discovery
from gcp_setup.emulator.world import World

SERVICES = (
    "serviceusage",  # Service Usage v1
    "resourcemanager",  # Cloud Resource Manager v1 + v3 over one state
    "billing",  # Cloud Billing v1
    "iam",  # IAM v1: service accounts, their keys and policies
    "workload_identity",  # IAM v1: Workload Identity pools and providers
    "apikeys",  # API Keys v2
    "orgpolicy",  # Org Policy v2: the constraint on binding API keys to service accounts
    "oauth",  # OAuth2 token endpoint, IAM Credentials, STS
    "generativelanguage",  # Gemini API v1 and v1beta, its OpenAI-compatible endpoints
    "aiplatform",  # Vertex AI: Gemini on project paths and in express mode, its OpenAI-compatible endpoints
)
"""Where two services declare the same path, the one listed first serves it (see shared_path_methods): the
request log names /v1/operations/X serviceusage.operations.get."""


def load_all() -> None:
    """Import every service's handlers, which registers their routes and backends."""
    for service in SERVICES:
        importlib.import_module(f"gcp_setup.emulator.{service}.responses")


# Verbs sent with POST that change nothing; their requests count as reads in the request log.
READ_VERBS = frozenset(
    {
        "getIamPolicy",
        "testIamPermissions",
        "getAncestry",
        "getEffectiveOrgPolicy",
        "getOrgPolicy",
        "listOrgPolicies",
        "search",
        "batchGet",
        "lookupKey",
        "getKeyString",
    }
)


@dataclass
class ApiRequest:
    world: World
    method: str
    path: str
    params: dict[str, str]
    query: MultiDict
    body: dict[str, Any]
    headers: Any
    principal: str
    """Who is calling: the default caller when anonymous, else the owner of the bearer token."""
    authenticated: bool
    """True when a valid bearer token came with the request."""
    api_key: str | None
    method_id: str

    def flag(self, name: str) -> bool:
        """A boolean query parameter, e.g. `showDeleted=true`."""
        return (self.query.get(name) or "").lower() == "true"


def update_mask(value: str | None) -> list[str]:
    """A FieldMask as camelCase paths (gcloud sends snake_case: "display_name", "restrictions.api_targets")"""
    paths = [p.strip() for p in (value or "").split(",") if p.strip()]
    return [re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p) for p in paths]


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


Handler = Callable[[ApiRequest], "dict[str, Any] | Reply"]


@dataclass(frozen=True)
class Route:
    http_method: str
    rule: str
    method_id: str
    kind: str
    """"read", "write", "data" (a model call) or "auth" (tokens): how the request log classifies it."""
    handler: Handler
    api_key_bearer: bool = False
    """`Authorization: Bearer X` carries an API key here, not a token (the Gemini API's OpenAI-compatible
    endpoints, called by the openai library)."""


ROUTES: list[Route] = []


def _kind(http_method: str, method_id: str) -> str:
    verb = method_id.rsplit(".", 1)[-1]
    return "read" if http_method == "GET" or verb in READ_VERBS else "write"


def api_method(api_version: str, *method_ids: str, kind: str | None = None):
    """Route the discovery methods `method_ids` of `api_version` (e.g. "serviceusage.v1") here."""

    def register(handler: Handler) -> Handler:
        for method_id in method_ids:
            m = discovery.method(api_version, method_id)
            ROUTES.append(Route(m.http_method, m.rule, m.id, kind or _kind(m.http_method, m.id), handler))
        return handler

    return register


def http_route(http_method: str, rule: str, method_id: str, kind: str = "data", api_key_bearer: bool = False):
    """Route a method that has no discovery document here, by a written-out werkzeug rule."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(http_method, rule, method_id, kind, handler, api_key_bearer))
        return handler

    return register


def shared_path_methods(routes: list[Route]) -> list[Route]:
    """Keep one route per (HTTP method, rule): Service Usage and Resource Manager share /v1/operations/X,
    which polls the one store of operations either way."""
    seen: dict[tuple[str, str], Route] = {}
    for r in routes:
        seen.setdefault((r.http_method, r.rule), r)
    return list(seen.values())
