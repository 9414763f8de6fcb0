"""The register of routes, which every emulated API enters the same way.

Each service is a package listed in SERVICES, with `models.py` (state, no HTTP) and `responses.py`, whose
handlers are short functions (parse, call the backend, serialise) declared with the method they implement:

    @api_method("iam.v1", "iam.projects.serviceAccounts.get")
    def get_service_account(req: ApiRequest) -> dict: ...

The URL comes from the discovery document. APIs with none in google-api-python-client (Generative Language,
the OAuth2 token endpoint) use `@http_route` with a written-out werkzeug rule.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from gcp_setup.emulator.core import discovery, errors
from gcp_setup.emulator.core.world import World

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
    "catalog",  # what exists outside projects: Service Management services, predefined IAM roles
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
    query: MultiDict[str, str]
    body: dict[str, Any]
    headers: Any
    principal: str
    """Who is calling: the default caller when anonymous, else the owner of the bearer token."""
    authenticated: bool
    """True when a valid bearer token came with the request."""
    api_key: str | None
    method_id: str
    api_version: str = ""
    """The discovery document the route comes from, e.g. "aiplatform.v1" ("" for written-out routes)."""
    remote_addr: str = "127.0.0.1"
    """The address the connection came from (an API key's IP restriction is checked against it)."""

    def flag(self, name: str) -> bool:
        """A boolean query parameter, e.g. `showDeleted=true`."""
        return (self.query.get(name) or "").lower() == "true"

    def check_body(self) -> None:
        """400 INVALID_ARGUMENT, as Google's front end answers, unless the body fits the method's request
        schema."""
        from gcp_setup.emulator.core.validation import check_body

        check_body(self.api_version, self.method_id, self.body)


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
NOT_EMULATED = "Operation is not implemented, or supported, or enabled."
"""Google's 501 message for a known operation it does not serve; the emulator adds what it does not
emulate."""


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
    api_version: str = ""


ROUTES: list[Route] = []


def _kind(http_method: str, method_id: str) -> str:
    verb = method_id.rsplit(".", 1)[-1]
    return "read" if http_method == "GET" or verb in READ_VERBS else "write"


def api_method(
    api_version: str, *method_ids: str, kind: str | None = None, api_key_bearer: bool = False
) -> Callable[[Handler], Handler]:
    """Route the discovery methods `method_ids` of `api_version` (e.g. "serviceusage.v1") here."""

    def register(handler: Handler) -> Handler:
        for method_id in method_ids:
            m = discovery.method(api_version, method_id)
            route_kind = kind or _kind(m.http_method, m.id)
            ROUTES.append(
                Route(m.http_method, m.rule, m.id, route_kind, handler, api_key_bearer, api_version)
            )
        return handler

    return register


def not_emulated_error(what: str) -> errors.Unimplemented:
    return errors.Unimplemented(f"{NOT_EMULATED} {what} is not emulated by gcp-setup.")


def _not_emulated(req: ApiRequest) -> dict[str, Any]:
    raise not_emulated_error(req.method_id)


NOT_EMULATED_ROUTES: list[Route] = []
"""Methods answered 501, matched only when no route in ROUTES matches (kept out of werkzeug's map, which
would take seconds to compile thousands of rules)."""


def not_emulated(api_version: str, kind: str = "data") -> None:
    """Answer every method of `api_version` that has no handler with Google's 501 UNIMPLEMENTED, naming it: a
    feature the emulator does not model never answers a 404 page or a made-up success."""
    for m in discovery.methods(api_version).values():
        NOT_EMULATED_ROUTES.append(
            Route(m.http_method, m.rule, m.id, kind, _not_emulated, api_version=api_version)
        )


@functools.cache
def _not_emulated_index(count: int) -> dict[str, list[tuple[re.Pattern[str], Route]]]:
    """By first path segment, each route's rule as a regular expression (`count` keys the cache)."""
    index: dict[str, list[tuple[re.Pattern[str], Route]]] = {}
    for route in NOT_EMULATED_ROUTES[:count]:
        pattern = re.sub(r"<path:\w+>", ".+", re.escape(route.rule))
        pattern = re.sub(r"<\w+>", "[^/:]+", pattern)  # a custom verb follows a colon
        index.setdefault(route.rule.split("/")[1], []).append((re.compile(pattern), route))
    return index


def find_not_emulated(http_method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The not-emulated method `path` names, if any."""
    candidates = _not_emulated_index(len(NOT_EMULATED_ROUTES)).get(
        path.split("/")[1] if "/" in path else "", []
    )
    for pattern, route in candidates:
        if route.http_method == http_method and pattern.fullmatch(path):
            return route, {}
    return None


def http_route(
    http_method: str, rule: str, method_id: str, kind: str = "data", api_key_bearer: bool = False
) -> Callable[[Handler], Handler]:
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
