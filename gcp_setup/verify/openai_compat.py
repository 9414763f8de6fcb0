"""Checks 4 and 5: the OpenAI-compatible endpoints through the real `openai` library.

- Gemini API: base_url https://generativelanguage.googleapis.com/v1beta/openai/, the API key as api_key.
- Vertex AI: base_url https://{host}/v1/projects/{project}/locations/{location}/endpoints/openapi, an
  OAuth2 access token from ADC as api_key, model `google/<model>`. Access tokens expire after an hour,
  so a long-running client must not keep the first one: `fresh_token` refreshes through google-auth
  when needed, and each request takes the current token with `client.with_options(api_key=...)`.
"""

from __future__ import annotations

from typing import Any

from gcp_setup.verify.core import Skip, VerifyContext, call
from gcp_setup.verify.gemini_api import MAX_OUTPUT_TOKENS, PROMPT, api_key_for_gemini, chosen_model
from gcp_setup.verify.vertex import adc_for_vertex, project_for_vertex

MESSAGES = [{"role": "user", "content": PROMPT}]


def openai_client(base_url: str, api_key: str) -> Any:
    import openai

    from gcp_setup.google import deadline

    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=deadline.seconds())


def fresh_token(credentials: Any) -> str:
    """The current access token, refreshed first when it expired or is about to (google-auth's rule)."""
    if not credentials.valid:
        from gcp_setup.google import deadline

        credentials.refresh(deadline.token_request())
    token: str = credentials.token
    return token


def check_gemini(ctx: VerifyContext) -> tuple[str, str]:
    client = openai_client(ctx.gemini_openai_base_url(), api_key_for_gemini(ctx).reveal())
    listed = call(ctx, "models.list", lambda: client.models.list())
    detail = f"models.list: {len(listed.data)} models"
    if ctx.generate:
        model = chosen_model(ctx)
        answer = call(
            ctx,
            "chat.completions.create",
            lambda: client.chat.completions.create(
                model=model, messages=MESSAGES, max_tokens=MAX_OUTPUT_TOKENS
            ),
        )
        detail += f"; chat.completions with {model} used {answer.usage.total_tokens} tokens"
    return detail, ""


def check_vertex(ctx: VerifyContext) -> tuple[str, str]:
    if not ctx.generate:
        raise Skip("--no-generate: this endpoint has no free call (it serves chat completions only)")
    credentials = adc_for_vertex(ctx)
    project_for_vertex(ctx)
    model = f"google/{chosen_model(ctx)}"
    client = openai_client(ctx.vertex_openai_base_url(), fresh_token(credentials))
    answer = call(
        ctx,
        "chat.completions.create",
        lambda: client.with_options(api_key=fresh_token(credentials)).chat.completions.create(
            model=model, messages=MESSAGES, max_tokens=MAX_OUTPUT_TOKENS
        ),
    )
    return (
        f"{model} at {ctx.location} used {answer.usage.total_tokens} tokens; ADC token passed per request "
        "(client.with_options(api_key=fresh_token(credentials)))",
        "",
    )
