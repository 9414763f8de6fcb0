"""Which API keys the Gemini API takes, by era (the realism switch `gemini_key_policy`). No HTTP here.

- `any` (before 2026-06-19): every key.
- `restricted-standard` (2026-06-19 to September 2026): a standard key with no API restriction is refused
  on GenerativeService methods (generation, counting tokens) with 401 ACCESS_TOKEN_TYPE_UNSUPPORTED;
  ModelService (models.list/get) still answers it, as reported in google-gemini/gemini-cli#28538.
- `auth-only` (today): every standard key is refused with 400 API_KEY_INVALID, the answer Google also
  gives a deleted or mistyped key (NousResearch/hermes-agent#114315).
Keys bound to a service account (auth keys) are taken in every era.
"""

from __future__ import annotations

from gcp_setup.emulator import guesses
from gcp_setup.emulator.apikeys.models import Key
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.key_callers import api_key_invalid
from gcp_setup.emulator.core.realism import AUTH_ONLY, RESTRICTED_STANDARD


def standard_key_retired(service: str) -> errors.InvalidArgument:
    """Google's answer to a standard key since September 2026: the same as for a key it does not know."""
    return api_key_invalid(service)


def is_generation(rpc_method: str) -> bool:
    """GenerativeService methods (generateContent, streamGenerateContent, countTokens) and the Interactions
    API's, not ModelService."""
    return ".GenerativeService." in rpc_method or f".{guesses.INTERACTIONS_SERVICE}." in rpc_method


def check_key_policy(policy: str, key: Key, service: str, rpc_method: str) -> None:
    """Refuse a standard key the way the Gemini API does in the era `policy`."""
    if key.bound:
        return
    generation = is_generation(rpc_method)
    if policy == AUTH_ONLY and (generation or guesses.AUTH_ONLY_REFUSES_MODEL_LISTING):
        raise standard_key_retired(service)
    if policy == RESTRICTED_STANDARD and generation and not key.targets:
        raise guesses.access_token_type_unsupported(service, rpc_method)
