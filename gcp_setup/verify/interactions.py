"""Check: the Interactions API (Google's recommended interface for new Gemini code) with the API key,
through google-genai's `client.interactions`: one stored interaction, a second chained on it with
`previous_interaction_id` (the server answers from the stored turn), then both deleted."""

from __future__ import annotations

import functools

from gcp_setup.verify.core import Skip, VerifyContext, call
from gcp_setup.verify.gemini_api import (
    MAX_OUTPUT_TOKENS,
    PROMPT,
    api_key_for_gemini,
    chosen_model,
    genai_client,
    key_note,
)

FOLLOW_UP = "And once more, the same single word."


def warm_up(ctx: VerifyContext) -> None:
    """google-genai imports its Interactions client on first use (about 0.5 s of CPU)."""
    if ctx.api_key and ctx.generate:
        genai_client(ctx).interactions  # noqa: B018


def check(ctx: VerifyContext) -> tuple[str, str]:
    api_key_for_gemini(ctx)
    if not ctx.generate:
        raise Skip("--no-generate: an interaction is a generation")
    client, model = genai_client(ctx), chosen_model(ctx)
    config = {"max_output_tokens": MAX_OUTPUT_TOKENS}
    first = call(
        ctx,
        "interactions.create",
        lambda: client.interactions.create(model=model, input=PROMPT, generation_config=config),
    )
    second = call(
        ctx,
        "interactions.create (chained)",
        lambda: client.interactions.create(
            model=model, input=FOLLOW_UP, previous_interaction_id=first.id, generation_config=config
        ),
    )
    for interaction in (second, first):
        call(ctx, "interactions.delete", functools.partial(client.interactions.delete, interaction.id))
    return (
        f"{model}: a stored interaction, then one chained on it (input {second.usage.total_input_tokens} "
        f"tokens, with the first turn's); both deleted",
        key_note(ctx),
    )
