"""Check 2: the Gemini API with an API key, through google-genai: models.list, the chosen model's
supported methods, countTokens, and (unless --no-generate) one tiny generateContent."""

from __future__ import annotations

from typing import Any

from gcp_setup import envvars
from gcp_setup.secrets.secret import Secret
from gcp_setup.verify.core import CheckFailed, Skip, VerifyContext, call
from gcp_setup.verify.models import (
    FALLBACK_MODEL,
    GENERATE,
    ModelInfo,
    choose_default,
    close_names,
    find,
    list_models,
)

PROMPT = "Reply with the single word: ok"
MAX_OUTPUT_TOKENS = 16


def genai_client(ctx: VerifyContext) -> Any:
    """google-genai with the API key, one per run."""
    with ctx.once("genai"):
        if "genai" not in ctx.clients:
            from google import genai

            ctx.clients["genai"] = genai.Client(
                api_key=api_key_for_gemini(ctx).reveal(), http_options=http_options(ctx, api_version="v1beta")
            )
        return ctx.clients["genai"]


def known_models(ctx: VerifyContext) -> list[ModelInfo]:
    """models.list through the API key, once per run (a failed list is asked again by the next caller)."""
    with ctx.once("models"):
        if ctx.models is None:
            client = genai_client(ctx)
            ctx.models = call(ctx, "models.list", lambda: list_models(client))
        return ctx.models


def chosen_model(ctx: VerifyContext) -> str:
    """--model, else the default chosen from models.list, else (no API key to list with) FALLBACK_MODEL."""
    with ctx.once("model"):
        if not ctx.model:
            ctx.model = _default_from_list(ctx) or FALLBACK_MODEL
        return ctx.model


def _default_from_list(ctx: VerifyContext) -> str | None:
    if not ctx.api_key:
        return None
    try:
        return choose_default(known_models(ctx))
    except Exception:  # the Gemini API check reports why listing failed; other checks go on
        return None


def api_key_for_gemini(ctx: VerifyContext) -> Secret:
    """The API key, or Skip when there is none (the Gemini API and its OpenAI-compatible endpoint)."""
    if not ctx.api_key:
        raise Skip("no API key: set GEMINI_API_KEY or GOOGLE_API_KEY, or pass --api-key-env NAME")
    return ctx.api_key


def check(ctx: VerifyContext) -> tuple[str, str]:
    api_key_for_gemini(ctx)
    models = known_models(ctx)
    model = chosen_model(ctx)
    info = find(models, model)
    if info is None:
        close = ", ".join(close_names(model, models)) or "none"
        raise CheckFailed(
            f"model {model} is not in models.list ({len(models)} models)",
            f"choose another --model; close names: {close} ({ctx.models_command()})",
            "NOT_FOUND",
        )
    if not info.supports(GENERATE):
        raise CheckFailed(
            f"model {model} does not support generateContent",
            f"choose a model listed by: {ctx.models_command()} --method generateContent",
            "METHOD_NOT_SUPPORTED",
        )
    return (
        f"{len(models)} models listed; {count_and_generate(ctx, genai_client(ctx), model)}",
        key_note(ctx),
    )


def key_note(ctx: VerifyContext) -> str:
    """Which key was sent: its kind, and its variable when that variable overrides another."""
    from gcp_setup.verify.keys import key_info, overriding_key_env

    info = key_info(ctx, api_key_for_gemini(ctx))
    # Unknown from Google (its project unreadable): a key the Gemini API took is an auth key, the only
    # kind it takes since September 2026.
    note = f"sent {info.describe() if info.kind else 'an auth key (the only kind the Gemini API takes)'}"
    if ctx.api_key_env:
        note += f" from ${ctx.api_key_env}"
    overriding = overriding_key_env(ctx)
    if overriding:
        note += f", which google-genai prefers over {envvars.GEMINI_API_KEY} (unset it to use that one)"
    return note


def count_and_generate(ctx: VerifyContext, client: Any, model: str) -> str:
    """countTokens, then (unless --no-generate) a generateContent of a few tokens; what they reported."""
    tokens = call(ctx, "countTokens", lambda: client.models.count_tokens(model=model, contents=PROMPT))
    detail = f"{model}: countTokens {tokens.total_tokens}"
    if ctx.generate:
        from google.genai import types

        config = types.GenerateContentConfig(max_output_tokens=MAX_OUTPUT_TOKENS)
        answer = call(
            ctx,
            "generateContent",
            lambda: client.models.generate_content(model=model, contents=PROMPT, config=config),
        )
        detail += f"; generateContent used {answer.usage_metadata.total_token_count} tokens"
    return detail


def http_options(ctx: VerifyContext, **extra: Any) -> Any:
    """The emulator when selected; the library's own retries off: calls go through the one retry policy
    (core.call), whose budget the docs state."""
    from google.genai import types

    from gcp_setup.google import deadline

    return types.HttpOptions(
        base_url=ctx.emulator_url,
        retry_options=types.HttpRetryOptions(attempts=1),
        timeout=int(deadline.seconds() * 1000),
        **extra,
    )
