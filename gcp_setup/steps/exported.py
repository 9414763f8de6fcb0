"""What the .env and $GITHUB_ENV hold (steps/env_file.py, steps/github_env.py write them), and where the
API key strings in them come from.

A key string is a `Secret`, taken in this order, so that a run reads it at most once and a re-run not at
all: from the key's creation in this run (the key step's `key_string` output), from a value a writer
already holds (the .env's, when the note above it vouches for it: `key_note`), else one getKeyString.
"""

from __future__ import annotations

import hashlib

from gcp_setup import defaults, envvars
from gcp_setup.google.apikeys import ApiKeysClient
from gcp_setup.secrets.secret import Secret
from gcp_setup.steps.base import Context

KEY_VARIABLES: dict[str, str] = {
    envvars.GEMINI_API_KEY: "api_key",
    envvars.VERTEX_EXPRESS_API_KEY: "express_key",
}
"""Which variable holds the string of which key step's key."""
KEY_READS = ("exists", "name", "etag", "key_string")
"""What a writer reads of each key step."""
UPSTREAM = ("credentials", *KEY_VARIABLES.values())
READS: dict[str, tuple[str, ...]] = {
    "credentials": ("credentials_file",),
    **dict.fromkeys(KEY_VARIABLES.values(), KEY_READS),
}


def exported_values(ctx: Context, keys: dict[str, Secret]) -> dict[str, str | Secret]:
    """The variables to export, `keys` (variable -> the key's string) among them."""
    has_key = bool(ctx.output("api_key", "exists"))
    vertex = "false" if has_key or not ctx.config.wants_vertex else "true"
    values: dict[str, str | Secret] = {
        envvars.PROJECT: ctx.config.project,
        envvars.LOCATION: ctx.config.location,
        envvars.USE_VERTEXAI: vertex,
        envvars.USE_ENTERPRISE: vertex,
    }
    values.update(ctx.session.program_environment())
    credentials_file = ctx.output("credentials", "credentials_file")
    if credentials_file:
        values[envvars.CREDENTIALS] = credentials_file
    values.update(keys)
    if ctx.config.openai_env and envvars.GEMINI_API_KEY in keys:  # both or neither
        values[envvars.OPENAI_BASE_URL] = openai_base_url(ctx)
        values[envvars.OPENAI_API_KEY] = keys[envvars.GEMINI_API_KEY]
    return values


OPENAI_NOTE = (
    "is GEMINI_API_KEY's string: the openai library reads only OPENAI_API_KEY and OPENAI_BASE_URL, "
    "so plain OpenAI() talks to Gemini (both or neither: --no-openai-env leaves them out)"
)
"""The .env's note above OPENAI_API_KEY (a user's real OpenAI key in the same file would go to Gemini)."""
PROXY_NOTE = (
    "is the emulator, as the HTTPS proxy of Google's API hosts (*.googleapis.com, loopback clients only), "
    "with SSL_CERT_FILE / REQUESTS_CA_BUNDLE its CA (and certifi's roots): google-genai in both modes and "
    "google-auth's token refresh reach it at Google's own host names; NO_PROXY keeps the emulator direct"
)
"""The .env's note above HTTPS_PROXY, which only the emulator's session writes (program_environment)."""


def openai_base_url(ctx: Context) -> str:
    if ctx.session.is_emulator:
        return f"http://{ctx.session.emulator_host}/v1beta/openai/"
    return defaults.GEMINI_OPENAI_BASE_URL


def existing_keys(ctx: Context) -> dict[str, str]:
    """Variable -> key step, for the keys that exist."""
    return {variable: step for variable, step in KEY_VARIABLES.items() if ctx.output(step, "exists")}


def key_string(ctx: Context, step: str, held: str | Secret | None = None) -> Secret:
    """The string of `step`'s key: from its creation, else `held` (a writer's vouched value), else read."""
    created: Secret | None = ctx.output(step, "key_string")
    if created:
        return created
    if held:
        return held if isinstance(held, Secret) else Secret(held)
    return ApiKeysClient(ctx.session).key_string(ctx.output(step, "name"))


def key_note(name: str, etag: str, key_string: str) -> str:
    """What the .env notes above a key variable: the key, its etag when the string was written, and a
    SHA-256 prefix of the string. The etag is a checksum of the whole key resource, its string
    included, so while the key keeps that etag (not edited, not regenerated in the console) and the
    value keeps that hash (not edited by hand), the value is the key's string. A hash of a string the
    same file holds tells nobody anything new."""
    digest = hashlib.sha256(key_string.encode()).hexdigest()[:16]
    return f"is the string of {name} (etag {etag}, sha256 {digest})"


def is_standard_key(value: str | None) -> bool:
    """A standard API key's string starts with AIza (Google's documented form); an auth key's (bound to an
    account) has no fixed prefix (AQ. and IQ. are seen)."""
    return value is not None and value.startswith("AIza")
