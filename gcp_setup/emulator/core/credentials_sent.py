"""What credential a request carries, read from its headers (for the principal lookup and the request
log; the value itself is never logged)."""

from __future__ import annotations

from werkzeug.wrappers import Request

from gcp_setup.emulator.core.routes import Route


def credential_kind(request: Request, route: Route) -> str:
    """How `request` authenticated, for the request log (never the credential itself)."""
    if request.headers.get("x-goog-api-key") or request.args.get("key"):
        return "api-key"
    if bearer(request) is None:
        return ""
    return "api-key" if route.api_key_bearer else "token"


def bearer(request: Request) -> str | None:
    """The credential of `Authorization: Bearer X`: an access token, or on `api_key_bearer` routes a key."""
    auth = request.headers.get("Authorization", "")
    return auth[len("bearer ") :].strip() if auth.lower().startswith("bearer ") else None
