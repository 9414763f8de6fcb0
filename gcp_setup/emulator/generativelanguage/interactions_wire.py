"""The Interactions API's wire format: the request's input as text, the Interaction resource, and the
server-sent events of a streamed create, as google-genai 3.x parses them (google/genai/_gaos/types/
interactions: Interaction, Step, Usage, InteractionSSEEvent) and ai.google.dev/api/interactions-api shows.

A streamed create sends interaction.created, interaction.status_update (in_progress), then per step
step.start, step.delta (the text in two pieces), step.stop, then interaction.completed with the usage.
"""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.gemini import tokens
from gcp_setup.emulator.core.times import rfc3339
from gcp_setup.emulator.generativelanguage.interactions_models import COMPLETED, IN_PROGRESS, Interaction

MODELLED = frozenset(
    {
        "model",
        "input",
        "previous_interaction_id",
        "store",
        "stream",
        "background",
        "system_instruction",
        "generation_config",
        "labels",
        "safety_settings",
        "service_tier",
    }
)
NOT_EMULATED = frozenset(
    {
        "agent",
        "agent_config",
        "cached_content",
        "continuation_token",
        "environment",
        "response_format",
        "response_mime_type",
        "response_modalities",
        "tools",
        "webhook_config",
    }
)
"""Fields google-genai sends that the emulator does not model: an honest 501 rather than an answer that
ignores them."""


TYPES = {
    "model": str,
    "previous_interaction_id": str,
    "system_instruction": str,
    "store": bool,
    "stream": bool,
    "background": bool,
    "generation_config": dict,
}


def check_fields(body: dict[str, Any]) -> None:
    for name, value in body.items():
        if name in TYPES and not isinstance(value, TYPES[name]):
            raise guesses.interactions_field_type(name, TYPES[name].__name__)
        if name in NOT_EMULATED:
            raise errors.InteractionsError(
                501, "unimplemented", f"{name} is not emulated by gcp-setup's Interactions API."
            )
        if name not in MODELLED:
            raise errors.InteractionsError(
                400, "parameter_unknown", f'Unknown name "{name}": Cannot find field.'
            )


def input_text(given: Any) -> str:
    """The text of `input`: a string, one content block, a list of them, or a list of steps."""
    if isinstance(given, str):
        return given
    if isinstance(given, dict):
        if given.get("type") == "text":
            return str(given.get("text") or "")
        return input_text(given.get("content"))
    if isinstance(given, list):
        return "\n".join(t for t in (input_text(item) for item in given) if t)
    return ""


def max_output_tokens(body: dict[str, Any]) -> int | None:
    limit = (body.get("generation_config") or {}).get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise guesses.interactions_field_type("generation_config.max_output_tokens", "int")
    return limit


def _text(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


def prompt_tokens(interaction: Interaction) -> int:
    """What the model read: the system instruction, every earlier turn of the chain, and this input."""
    earlier = [text for turn in interaction.history for text in turn]
    parts = [interaction.system_instruction or "", *earlier, interaction.user_text]
    return tokens.count("\n".join(p for p in parts if p))


def usage(interaction: Interaction) -> dict[str, Any]:
    prompt, output = prompt_tokens(interaction), tokens.count(interaction.reply)
    return {
        "total_input_tokens": prompt,
        "input_tokens_by_modality": [{"modality": "text", "tokens": prompt}],
        "total_output_tokens": output,
        "output_tokens_by_modality": [{"modality": "text", "tokens": output}],
        "total_tokens": prompt + output,
    }


def model_steps(interaction: Interaction) -> list[dict[str, Any]]:
    if interaction.status != COMPLETED:
        return []
    return [{"type": "model_output", "content": _text(interaction.reply)}]


def resource(interaction: Interaction, *, with_input: bool = False) -> dict[str, Any]:
    """The Interaction as create answers it (the model's steps); `get` adds the user's input step, as Google
    says of the stored resource."""
    steps = model_steps(interaction)
    if with_input:
        steps = [{"type": "user_input", "content": _text(interaction.user_text)}, *steps]
    body: dict[str, Any] = {
        "id": interaction.id,
        "model": interaction.model,
        "status": interaction.status,
        "created": rfc3339(interaction.created, whole_seconds=True),
        "updated": rfc3339(interaction.updated, whole_seconds=True),
        "steps": steps,
    }
    if interaction.previous_interaction_id:
        body["previous_interaction_id"] = interaction.previous_interaction_id
    if interaction.system_instruction:
        body["system_instruction"] = interaction.system_instruction
    if interaction.status == COMPLETED:
        body["usage"] = usage(interaction)
    return body


def _lifecycle(interaction: Interaction, status: str) -> dict[str, Any]:
    """The partial interaction lifecycle events carry (InteractionSseEventInteraction)."""
    body: dict[str, Any] = {
        "id": interaction.id,
        "object": "interaction",
        "model": interaction.model,
        "status": status,
    }
    body["created"] = rfc3339(interaction.created, whole_seconds=True)
    if status == COMPLETED:
        body["usage"] = usage(interaction)
    return body


def stream_events(interaction: Interaction) -> list[dict[str, Any]]:
    """The events of a streamed create, each with an event_id a client may resume from."""
    half = len(interaction.reply) // 2
    events: list[dict[str, Any]] = [
        {"event_type": "interaction.created", "interaction": _lifecycle(interaction, IN_PROGRESS)},
        {"event_type": "interaction.status_update", "interaction_id": interaction.id, "status": IN_PROGRESS},
        {"event_type": "step.start", "index": 0, "step": {"type": "model_output"}},
        *(
            {"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": piece}}
            for piece in (interaction.reply[:half], interaction.reply[half:])
            if piece
        ),
        {"event_type": "step.stop", "index": 0},
        {"event_type": "interaction.completed", "interaction": _lifecycle(interaction, COMPLETED)},
    ]
    return [{**event, "event_id": f"{interaction.id}-{n}"} for n, event in enumerate(events, 1)]
