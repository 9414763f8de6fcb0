"""What the emulated model answers, whatever the wire format asked it: canned text, JSON built from the
response schema, or a call to a declared function with arguments built from its parameters.

The choice is deterministic. Function calling follows the mode: NONE answers text; ANY (OpenAI "required" or
a named function) always calls; AUTO and VALIDATED call unless the conversation ends with a function result,
so that an agent loop ends. The function called is the first allowed one whose name the last user turn
mentions, else the first allowed one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gcp_setup.emulator.core.gemini import tokens
from gcp_setup.emulator.core.gemini.schema_instance import instance

CANNED_REPLY = (
    "Hello from the gcp-setup emulator. This deterministic reply stands in for a Gemini answer, so that "
    "clients, token accounting and streaming can be tested offline without calling Google."
)
AUTO, ANY, NONE, VALIDATED = "AUTO", "ANY", "NONE", "VALIDATED"


@dataclass(frozen=True)
class Function:
    name: str
    parameters: dict[str, Any] | None = None


@dataclass(frozen=True)
class Ask:
    """A generation request, in terms common to the Gemini and OpenAI wire formats."""

    last_user_text: str = ""
    functions: tuple[Function, ...] = ()
    mode: str = AUTO
    allowed: tuple[str, ...] = ()
    after_function_result: bool = False
    json: bool = False
    schema: dict[str, Any] | None = None
    enum: bool = False
    """text/x.enum: the answer is one of the schema's enum values, as plain text."""
    max_tokens: int | None = None
    candidates: int = 1


@dataclass(frozen=True)
class Answer:
    text: str | None = None
    call: Function | None = None
    """The function called; `parameters` holds the arguments."""
    cut: bool = False
    """The text was cut at max_tokens."""

    @property
    def output_text(self) -> str:
        """What the answer costs in output tokens."""
        if self.call is not None:
            return self.call.name + " " + json.dumps(self.call.parameters)
        return self.text or ""


def answer(ask: Ask) -> Answer:
    called = _function_to_call(ask)
    if called is not None:
        return Answer(call=Function(called.name, instance(called.parameters)))
    if ask.enum and ask.schema and ask.schema.get("enum"):
        return Answer(text=str(ask.schema["enum"][0]))
    text = (
        json.dumps(instance(ask.schema) if ask.schema else {"reply": CANNED_REPLY})
        if ask.json
        else CANNED_REPLY
    )
    cut_text, cut = cut_to(text, ask.max_tokens)
    return Answer(text=cut_text, cut=cut)


def _function_to_call(ask: Ask) -> Function | None:
    if not ask.functions or ask.mode == NONE:
        return None
    if ask.mode != ANY and ask.after_function_result:
        return None
    allowed = [f for f in ask.functions if not ask.allowed or f.name in ask.allowed] or list(ask.functions)
    words = set(tokens.tokens(ask.last_user_text))
    return next((f for f in allowed if f.name in words or f.name in ask.last_user_text), allowed[0])


def cut_to(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """`text` cut to `max_tokens` tokens, at a word boundary; True when it was cut."""
    if not max_tokens or tokens.count(text) <= max_tokens:
        return text, False
    words = text.split(" ")
    kept: list[str] = []
    for word in words:
        if tokens.count(" ".join([*kept, word])) > max_tokens:
            break
        kept.append(word)
    return " ".join(kept) or words[0], True
