"""Step 5: an API key for the Gemini API, restricted to generativelanguage.googleapis.com.

The key has a fixed ID (defaults.API_KEY_ID), so it is found again by name: a re-run, or a run after
one that was interrupted mid-create, never makes a second key. A key with other restrictions is
patched; one deleted within the last 30 days is undeleted (its ID stays taken until then).
The key string is never part of the state, a plan or the outputs, unless --show-secrets asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gcp_setup import defaults
from gcp_setup.google.apikeys import ApiKeysClient, Key, api_targets, key_name
from gcp_setup.steps.base import UNKNOWN, Action, Context, Step
from gcp_setup.steps.service_account import project_id


@dataclass
class ApiKeyState:
    name: str
    key: Key | None
    key_string: str | None = field(default=None, repr=False)
    """Read only with --show-secrets."""

    @property
    def deleted(self) -> bool:
        return bool(self.key and self.key.get("deleteTime"))

    @property
    def usable(self) -> bool:
        return self.key is not None and not self.deleted


class ApiKeyStep(Step):
    name = "api_key"
    depends_on = ("services",)

    def enabled(self, config: Any) -> bool:
        return bool(config.api_key)

    def observe(self, ctx: Context) -> ApiKeyState:
        key = ApiKeysClient(ctx.session, ctx.progress_note).get(project_id(ctx), defaults.API_KEY_ID)
        return _revealed(
            ctx, ApiKeyState(key["name"] if key else key_name(project_id(ctx), defaults.API_KEY_ID), key)
        )

    def absent_state(self, ctx: Context) -> ApiKeyState:
        return ApiKeyState(key_name(project_id(ctx), defaults.API_KEY_ID), None)

    def plan(self, ctx: Context, state: ApiKeyState) -> list[Action]:
        key_id, targets = defaults.API_KEY_ID, ", ".join(defaults.API_KEY_TARGETS)
        if state.key is None:
            return [Action("create", state.name, f"create API key {key_id} restricted to {targets}")]
        fixes = []
        if state.deleted:
            fixes.append("undelete")
        if api_targets(state.key) != set(defaults.API_KEY_TARGETS):
            fixes.append(f"restrict to {targets}")
        return [Action("update", state.name, f"{' and '.join(fixes)} API key {key_id}")] if fixes else []

    def apply(self, ctx: Context, action: Action) -> Key | None:
        """Create, or fix, the key; the key as the last answer has it. Either way the key may turn out
        to be in any state (a run whose answer was lost, a concurrent one, a key deleted earlier), so
        each fix is checked again."""
        client = ApiKeysClient(ctx.session, ctx.progress_note)
        project, key_id = project_id(ctx), defaults.API_KEY_ID
        if action.kind == "create":
            key = client.create(project, key_id, defaults.API_KEY_DISPLAY_NAME, defaults.API_KEY_TARGETS)
        else:
            key = client.get(project, key_id)
        if key is None:
            return None  # gone for good meanwhile: the engine observes again and reports it
        if key.get("deleteTime"):
            key = client.undelete(key)
        if api_targets(key) != set(defaults.API_KEY_TARGETS):
            key = client.set_restrictions(key, defaults.API_KEY_TARGETS)
        return key

    def state_after(self, ctx: Context, state: ApiKeyState, action: Action, answer: Key | None) -> Any:
        if not answer or not answer.get("name"):
            return UNKNOWN
        return _revealed(ctx, ApiKeyState(answer["name"], answer))

    def describe(self, ctx: Context, state: ApiKeyState) -> str:
        if state.key is None:
            return f"no API key {defaults.API_KEY_ID}"
        if state.deleted:
            return f"API key {defaults.API_KEY_ID} is deleted (restorable)"
        targets = ", ".join(sorted(api_targets(state.key))) or "any API (unrestricted)"
        shown = f": {state.key_string}" if state.key_string else ""  # --show-secrets asked for it
        return f"API key {defaults.API_KEY_ID} restricted to {targets}{shown}"

    def outputs(self, ctx: Context, state: ApiKeyState) -> dict[str, Any]:
        out: dict[str, Any] = {"name": state.name, "key_id": defaults.API_KEY_ID, "exists": state.usable}
        if state.usable:
            out["etag"] = state.key.get("etag", "")  # lets the .env vouch for its key string (credentials)
        if state.key_string:
            out["key_string"] = state.key_string
        return out


def _revealed(ctx: Context, state: ApiKeyState) -> ApiKeyState:
    """With --show-secrets, the state with the key string (kept by the session when a create's answer
    carried it, else one getKeyString)."""
    if state.usable and ctx.config.show_secrets:
        state.key_string = ApiKeysClient(ctx.session).key_string(state.key)
    return state
