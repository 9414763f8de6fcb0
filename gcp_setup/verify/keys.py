"""What kind of API key verify is sending: an auth key (bound to a service account; the only kind the
Gemini API accepts since September 2026) or a standard key, and the account it is bound to.

Read from Google (API Keys keys:lookupKey, then the key's serviceAccountEmail) when the caller may look
the key up, else judged from its string's prefix: AIza... is a standard key, AQ.... an auth key.
"""

from __future__ import annotations

from dataclasses import dataclass

from gcp_setup.verify.core import VerifyContext

AUTH, STANDARD = "auth", "standard"


@dataclass(frozen=True)
class KeyInfo:
    kind: str | None
    """AUTH, STANDARD, or None when neither Google nor the string tells."""
    account: str = ""
    """The service account an auth key is bound to, when it could be read."""
    name: str = ""
    """projects/N/locations/global/keys/ID, when it could be looked up."""
    source: str = "prefix"
    """"lookupKey" or "prefix": where the kind came from."""

    def describe(self) -> str:
        if self.kind == AUTH:
            return f"an auth key bound to {self.account}" if self.account else "an auth key"
        return "a standard key" if self.kind == STANDARD else "a key of unknown kind"


def kind_from_string(key: str | None) -> str | None:
    if not key:
        return None
    if key.startswith("AQ."):
        return AUTH
    return STANDARD if key.startswith("AIza") else None


def key_info(ctx: VerifyContext, key: str) -> KeyInfo:
    """The kind of `key`: looked up (one lookupKey and one get) when allowed, else from its prefix.
    Once per key and run."""
    known = ctx.key_infos.get(key)
    if known is None:
        known = ctx.key_infos[key] = _looked_up(ctx, key) or KeyInfo(kind_from_string(key))
    return known


def _looked_up(ctx: VerifyContext, key: str) -> KeyInfo | None:
    """lookupKey names the key (any caller may ask); reading its binding needs access to its project."""
    from gcp_setup.google.apikeys import ApiKeysClient

    try:
        keys = ApiKeysClient(ctx.session())
        name = keys.lookup(key, ctx.project)
    except Exception:  # no such key, or no credentials: the prefix tells
        return None
    try:
        found = keys.get_by_name(name)
    except Exception:  # no access to the key's project (or its API Keys API is off)
        return KeyInfo(kind_from_string(key), "", name)
    account = found.get("serviceAccountEmail", "")
    return KeyInfo(AUTH if account else STANDARD, account, name, "lookupKey")
