"""Step: the .env (--env-file): the variables of steps/exported.py, merged into the file (our variables
replace their lines in place, every other line stays; 0600; written atomically, through a symlink).
Above each key variable a note says which key its string is (exported.key_note): while the key keeps
that etag and the value that hash, the value is the key's string, so a re-run reads no key string."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gcp_setup import envvars
from gcp_setup.secrets.env_file import merge_env_file, merge_env_text, parse_env_notes, parse_env_text
from gcp_setup.secrets.files import read_text_exactly
from gcp_setup.secrets.secret import Secret, revealed_all
from gcp_setup.steps.base import Action, Context, Step
from gcp_setup.steps.exported import (
    KEY_VARIABLES,
    OPENAI_NOTE,
    PROXY_NOTE,
    READS,
    UPSTREAM,
    existing_keys,
    exported_values,
    is_standard_key,
    key_note,
    key_string,
)


@dataclass
class EnvFileState:
    path: Path
    values: dict[str, str | Secret]
    notes: dict[str, str] = field(default_factory=dict)
    current: bool = False
    replaces_standard_key: bool = False
    """The file's GEMINI_API_KEY is a standard key (AIza...), which the Gemini API rejects, and this run
    writes another kind in its place (not so with --api-key-type standard, which keeps one)."""


class EnvFileStep(Step):
    name = "env_file"
    depends_on = (*UPSTREAM, "secret_files")  # no new key note while an interrupted one is cleaned up
    reads = READS

    def enabled(self, config: Any) -> bool:
        return config.env_file is not None

    def observe(self, ctx: Context) -> EnvFileState:
        assert ctx.config.env_file is not None  # the step is enabled only with one
        path = ctx.config.env_file.expanduser()
        text = read_text_exactly(path) if path.is_file() else None
        held, held_notes = (parse_env_text(text), parse_env_notes(text)) if text is not None else ({}, {})
        keys, notes = {}, {}
        for variable, step in existing_keys(ctx).items():
            name, etag, value = ctx.output(step, "name"), ctx.output(step, "etag"), held.get(variable)
            vouched = (
                value if value and etag and held_notes.get(variable) == key_note(name, etag, value) else None
            )
            keys[variable] = key_string(ctx, step, vouched)
            if etag:
                notes[variable] = key_note(name, etag, keys[variable].reveal())
        values = exported_values(ctx, keys)
        if envvars.OPENAI_API_KEY in values:
            notes[envvars.OPENAI_API_KEY] = OPENAI_NOTE
        if envvars.HTTPS_PROXY in values:
            notes[envvars.HTTPS_PROXY] = PROXY_NOTE
        current = text is not None and merge_env_text(text, revealed_all(values), notes) == text
        new_key = keys.get(envvars.GEMINI_API_KEY)
        replaced = is_standard_key(held.get(envvars.GEMINI_API_KEY)) and not (
            new_key and is_standard_key(new_key.reveal())
        )
        return EnvFileState(path, values, notes, current, replaced)

    def plan(self, ctx: Context, state: EnvFileState) -> list[Action]:
        if state.current:
            return []
        replaces = " (replacing its standard key)" if state.replaces_standard_key else ""
        summary = f"write {state.path}: {', '.join(state.values)}{replaces}"
        return [Action("update", str(state.path), summary, {"values": state.values, "notes": state.notes})]

    def apply(self, ctx: Context, action: Action) -> None:
        merge_env_file(Path(action.resource), revealed_all(action.data["values"]), action.data["notes"])

    def state_after(self, ctx: Context, state: EnvFileState, action: Action, answer: None) -> EnvFileState:
        return replace(state, current=True)  # written whole or not at all

    def describe(self, ctx: Context, state: EnvFileState) -> str:
        return f".env at {state.path}" + ("" if state.current else " (to write)")

    def outputs(self, ctx: Context, state: EnvFileState) -> dict[str, Any]:
        """The path, and the key strings it holds (Secrets: for the smoke test and $GITHUB_ENV)."""
        keys = {v: value for v, value in state.values.items() if v in KEY_VARIABLES}
        return {"path": str(state.path), **keys}
