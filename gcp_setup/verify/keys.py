"""What kind of API key verify is sending: an auth key (bound to a service account; the only kind the
Gemini API accepts since September 2026) or a standard key, and the account it is bound to.

Read from Google (API Keys keys:lookupKey, then the key's serviceAccountEmail) when the caller may look
the key up, else judged from its string only where Google documents the form: AIza and 35 characters is a
standard key. Auth keys start AQ. and also IQ., so no prefix makes a key an auth key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gcp_setup import envvars
from gcp_setup.secrets.secret import Secret
from gcp_setup.verify.core import VerifyContext

_STANDARD_KEY = re.compile(r"AIza[0-9A-Za-z_\-]{35}")

AUTH, STANDARD = "auth", "standard"


@dataclass(frozen=True)
class KeyInfo:
    kind: str | None
    """AUTH, STANDARD, or None when neither Google nor the string tells."""
    account: str = ""
    """The service account an auth key is bound to, when it could be read."""
    name: str = ""
    """projects/N/locations/global/keys/ID, when it could be looked up."""
    source: str = "string"
    """"lookupKey" or "string": where the kind came from."""

    def describe(self) -> str:
        if self.kind == AUTH:
            return f"an auth key bound to {self.account}" if self.account else "an auth key"
        return "a standard key" if self.kind == STANDARD else "a key of unknown kind"


def kind_from_string(key: str | None) -> str | None:
    """STANDARD for Google's standard key form (AIza and 35 characters), else None: auth keys come as
    AQ. and IQ. and may come otherwise, so only lookupKey tells one."""
    return STANDARD if key and _STANDARD_KEY.fullmatch(key) else None


def key_info(ctx: VerifyContext, secret: Secret) -> KeyInfo:
    """The kind of the key: looked up (one lookupKey and one get) when allowed, else from its string.
    Once per key and run."""
    key = secret.reveal()  # for Google's lookup, and as the name of what is known of it
    with ctx.once(f"key {key}"):
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
    except Exception:  # no such key, or no credentials: only a standard key's string tells
        return None
    try:
        found = keys.get_by_name(name)
    except Exception:  # no access to the key's project (or its API Keys API is off)
        return KeyInfo(kind_from_string(key), "", name)
    account = found.get("serviceAccountEmail", "")
    return KeyInfo(AUTH if account else STANDARD, account, name, "lookupKey")


def overriding_key_env(ctx: VerifyContext) -> str | None:
    """GOOGLE_API_KEY, when it is the key sent although GEMINI_API_KEY (e.g. the .env's) holds another:
    google-genai prefers GOOGLE_API_KEY, so a stale one exported in the shell wins over the .env."""
    if ctx.api_key_env != envvars.GOOGLE_API_KEY:
        return None
    other = ctx.environ.get(envvars.GEMINI_API_KEY)
    sent = ctx.api_key.reveal() if ctx.api_key else None
    return envvars.GOOGLE_API_KEY if other and other != sent else None
