"""Steps 5 and 5b: the Gemini API key and (with --vertex-express) the Vertex AI express mode key.

An auth key (the default) is bound to the service account, which the requests it carries act as, and
restricted to one API. Only its creation can bind it, so a key that is unbound (a standard key, such as
the one gcp-setup made before auth keys), bound to another account, or replaced on purpose
(--rotate-key) is replaced: a new key under the next free numbered ID (gemini-key-1, gemini-key-2,
...; a deleted key keeps its ID for 30 days, so numbers never repeat), while the old one stays until
the .env holds the new key and the smoke test has passed with it (steps/retire_keys.py deletes it).

Observed: every key of the project, deleted ones included, in one list. Which of them are gcp-setup's
follows from their IDs alone, so a run cut off after any call finds its keys again: the newest good
key is current, every other live key of the same purpose is to be retired. A standard key
(--api-key-type standard) keeps the fixed ID gemini-api-key; a deleted one is undeleted.
The key string is never part of the state, a plan or the outputs, unless --show-secrets asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gcp_setup import defaults
from gcp_setup.google.apikeys import ApiKeysClient, Key, api_targets, is_deleted, key_id, key_name
from gcp_setup.secrets.secret import Secret
from gcp_setup.settings.config import Config
from gcp_setup.steps.base import UNKNOWN, Action, Context, Step


@dataclass(frozen=True)
class KeySpec:
    """One purpose gcp-setup makes a key for."""

    what: str
    """For people: "Gemini API key"."""
    id_prefix: str
    display_name: str
    targets: tuple[str, ...]
    legacy_id: str | None = None
    """The fixed ID of the standard key gcp-setup made before auth keys (replaced by a migration)."""

    def number(self, key: Key) -> int | None:
        """The key's number when it is one of this purpose's numbered IDs; 0 for the legacy ID."""
        found = re.fullmatch(re.escape(self.id_prefix) + r"([1-9][0-9]{0,5})", key_id(key))
        if found:
            return int(found.group(1))
        return 0 if self.legacy_id and key_id(key) == self.legacy_id else None


GEMINI_KEY = KeySpec(
    "Gemini API key",
    defaults.API_KEY_ID_PREFIX,
    defaults.API_KEY_DISPLAY_NAME,
    defaults.API_KEY_TARGETS,
    legacy_id=defaults.API_KEY_ID,
)
EXPRESS_KEY = KeySpec(
    "Vertex AI express mode key",
    defaults.EXPRESS_KEY_ID_PREFIX,
    defaults.EXPRESS_KEY_DISPLAY_NAME,
    defaults.EXPRESS_KEY_TARGETS,
)


@dataclass
class KeysState:
    name: str
    """The current key's resource name (for a key still to be created: the name it will get)."""
    key: Key | None
    """The current key: live, of the wanted type and binding. None: one is to be created."""
    retire: list[str] = field(default_factory=list)
    """Names of this purpose's other live keys, deleted once the current key is proven."""
    replaces: str = ""
    """Why a new key is planned although keys exist: "replace standard key gemini-api-key", ..."""
    key_string: Secret | None = None
    """Known when this run created the key (its creation answers it), or read for --show-secrets."""

    @property
    def deleted(self) -> bool:
        return bool(self.key and is_deleted(self.key))

    @property
    def usable(self) -> bool:
        return self.key is not None and not self.deleted


class ApiKeyStep(Step):
    name = "api_key"
    depends_on = ("services", "service_account", "key_policy")
    reads = {"service_account": ("created",), "services": ("enabled_now",)}
    spec = GEMINI_KEY

    def enabled(self, config: Any) -> bool:
        return bool(config.api_key)

    def bound_to(self, config: Config) -> str | None:
        """The account the key must be bound to; None for a standard key."""
        return config.service_account_email if config.api_key_type == "auth" else None

    def observe(self, ctx: Context) -> KeysState:
        keys = ApiKeysClient(ctx.session, ctx.progress_note).list(ctx.config.project)
        return _revealed(
            ctx, self.sort(ctx, keys, account_is_new=bool(ctx.output("service_account", "created")))
        )

    def absent_state(self, ctx: Context) -> KeysState:
        return self.sort(ctx, [])

    def sort(self, ctx: Context, keys: list[Key], account_is_new: bool = False) -> KeysState:
        """The state of this purpose among the project's `keys` (keys.list's answer): which is current,
        which are to go, which ID comes next. `account_is_new`: this run created the account, so no key
        bound to its email is bound to it."""
        config = ctx.config
        keys = [k for k in keys if self.spec.number(k) is not None]
        if config.api_key_type == "standard" and self.spec.legacy_id:
            return self._sort_standard(ctx, keys)
        want = self.bound_to(config)
        live = sorted(
            (k for k in keys if not is_deleted(k)), key=lambda k: self.spec.number(k) or 0, reverse=True
        )
        # A key follows the account it was bound to, not its email: one made before this run created
        # the account (deleted and made again) is bound to the old one.
        good = [k for k in live if k.get("serviceAccountEmail") == want and not (want and account_is_new)]
        current = good[0] if good else None
        others = [k["name"] for k in live if k is not current]
        # A second good key is the one an interrupted rotation made: that rotation is finished, not redone.
        if current is not None and config.rotate_key and len(good) == 1:
            current, others = None, [k["name"] for k in live]
        if current is not None:
            return KeysState(current["name"], current, others)
        next_number = max((self.spec.number(k) or 0 for k in keys), default=0) + 1
        name = key_name(ctx.config.project, f"{self.spec.id_prefix}{next_number}")
        return KeysState(name, None, others, _why_new(live, want, config.rotate_key))

    def _sort_standard(self, ctx: Context, keys: list[Key]) -> KeysState:
        fixed = next((k for k in keys if key_id(k) == self.spec.legacy_id), None)
        retire = [k["name"] for k in keys if k is not fixed and not is_deleted(k)]
        name = fixed["name"] if fixed else key_name(ctx.config.project, self.spec.legacy_id or "")
        return KeysState(name, fixed, retire)

    def plan(self, ctx: Context, state: KeysState) -> list[Action]:
        spec, kid = self.spec, state.name.rsplit("/", 1)[-1]
        targets = ", ".join(spec.targets)
        if state.key is None:
            bound = self.bound_to(ctx.config)
            kind = f"auth key {kid} bound to {bound}" if bound else f"standard key {kid}"
            summary = f"{state.replaces}: create {kind}" if state.replaces else f"create {spec.what}: {kind}"
            data = {"bound_to": bound} if bound else {}
            return [Action("create", state.name, f"{summary}, restricted to {targets}", data)]
        fixes = []
        if state.deleted:
            fixes.append("undelete")
        if api_targets(state.key) != set(spec.targets):
            fixes.append(f"restrict to {targets}")
        return [Action("update", state.name, f"{' and '.join(fixes)} {spec.what} {kid}")] if fixes else []

    def apply(self, ctx: Context, action: Action) -> Key | None:
        """Create, or fix, the key; the key as the last answer has it. Either way the key may turn out
        to be in any state (a run whose answer was lost, a concurrent one, a key deleted earlier), so
        each fix is checked again."""
        client = ApiKeysClient(ctx.session, ctx.progress_note)
        project, kid = ctx.config.project, action.resource.rsplit("/", 1)[-1]
        if action.kind == "create":
            key: Key | None = client.create(
                project, kid, self.spec.display_name, self.spec.targets, self.bound_to(ctx.config)
            )
        else:
            key = client.get(project, kid)
        if key is None:
            return None  # gone for good meanwhile: the engine observes again and reports it
        if is_deleted(key):
            key = client.undelete(key)
        if api_targets(key) != set(self.spec.targets):
            key = client.set_restrictions(key, self.spec.targets)
        return key

    def state_after(self, ctx: Context, state: KeysState, action: Action, answer: Key | None) -> Any:
        if not answer or not answer.get("name"):
            return UNKNOWN
        retire = [n for n in state.retire if n != answer["name"]]
        return _revealed(ctx, KeysState(answer["name"], answer, retire, key_string=answer.get("keyString")))

    def describe(self, ctx: Context, state: KeysState) -> str:
        kid = state.name.rsplit("/", 1)[-1]
        if state.key is None:
            return f"no {self.spec.what} yet" + (f" ({state.replaces})" if state.replaces else "")
        if state.deleted:
            return f"{self.spec.what} {kid} is deleted (restorable)"
        targets = ", ".join(sorted(api_targets(state.key))) or "any API (unrestricted)"
        bound = state.key.get("serviceAccountEmail")
        kind = f"auth key bound to {bound}" if bound else "standard key"
        shown = f": {state.key_string.reveal()}" if state.key_string and ctx.config.show_secrets else ""
        old = f"; to retire after the smoke test: {', '.join(_ids(state.retire))}" if state.retire else ""
        return f"{self.spec.what} {kid} ({kind}) restricted to {targets}{shown}{old}"

    def outputs(self, ctx: Context, state: KeysState) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": state.name,
            "key_id": state.name.rsplit("/", 1)[-1],
            "exists": state.usable,
            "bound_to": (state.key or {}).get("serviceAccountEmail", ""),
            "retire": list(state.retire),
        }
        if state.usable and state.key is not None:
            out["etag"] = state.key.get("etag", "")  # lets the .env vouch for its key string (credentials)
        if state.key_string:
            out["key_string"] = state.key_string
        return out


class ExpressKeyStep(ApiKeyStep):
    name = "express_key"
    spec = EXPRESS_KEY

    def enabled(self, config: Any) -> bool:
        return bool(config.vertex_express)

    def bound_to(self, config: Config) -> str | None:
        return config.service_account_email


def _why_new(live: list[Key], want: str | None, rotate: bool) -> str:
    """Why a key is to be created although the purpose has `live` keys (empty: it has none)."""
    if not live:
        return ""
    newest = live[0]
    bound = newest.get("serviceAccountEmail")
    if rotate and bound == want:
        return f"rotate {key_id(newest)}"
    if bound and bound == want:  # bound to the email, yet not good: this run made the account again
        return f"replace {key_id(newest)} (bound to an earlier account {bound})"
    if not bound:
        return f"replace standard key {key_id(newest)} with an auth key"
    return f"replace {key_id(newest)} (bound to {bound})"


def _ids(names: list[str]) -> list[str]:
    return [n.rsplit("/", 1)[-1] for n in names]


def _revealed(ctx: Context, state: KeysState) -> KeysState:
    """With --show-secrets, the state with the key string (from the key's creation, else one
    getKeyString)."""
    if state.usable and ctx.config.show_secrets and not state.key_string:
        state.key_string = ApiKeysClient(ctx.session).key_string(state.name)
    return state
