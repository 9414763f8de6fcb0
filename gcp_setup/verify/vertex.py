"""Check 3: Gemini on Vertex AI through google-genai with `vertexai=True`, project, location and ADC.

When the environment would make google-genai send a Gemini API key to Vertex AI instead (a stray
GOOGLE_API_KEY/GEMINI_API_KEY with GOOGLE_GENAI_USE_VERTEXAI and no project), the check calls Vertex AI
exactly so, so that the user's own code's failure is reproduced and named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gcp_setup import envvars
from gcp_setup.verify import credentials as adc
from gcp_setup.verify.core import CheckFailed, Skip, VerifyContext
from gcp_setup.verify.gemini_api import chosen_model, count_and_generate, http_options

_TRUE = ("1", "true")  # what google-genai reads as true in GOOGLE_GENAI_USE_VERTEXAI ("yes" is not)


def stray_api_key_env(environ: Mapping[str, str]) -> str | None:
    """The key variable google-genai would use for Vertex AI in place of ADC (its own precedence: a
    project or location from the environment wins over a key from the environment)."""
    if environ.get(envvars.USE_VERTEXAI, "").lower() not in _TRUE:
        return None
    if environ.get(envvars.PROJECT) or environ.get(envvars.LOCATION):
        return None
    return next((n for n in (envvars.GOOGLE_API_KEY, envvars.GEMINI_API_KEY) if environ.get(n)), None)


def adc_for_vertex(ctx: VerifyContext) -> Any:
    """ADC, or Skip when the credentials check could not produce them (it reports why)."""
    try:
        return adc.resolve(ctx)
    except (Skip, CheckFailed) as exc:
        raise Skip("no usable Application Default Credentials (see the credentials check)") from exc


def project_for_vertex(ctx: VerifyContext) -> str:
    if not ctx.vertex_project:
        raise Skip("no project: pass --project or set GOOGLE_CLOUD_PROJECT")
    return ctx.vertex_project


def check(ctx: VerifyContext) -> tuple[str, str]:
    from google import genai

    stray = stray_api_key_env(ctx.environ)
    model = chosen_model(ctx)
    if stray:
        client = genai.Client(vertexai=True, api_key=ctx.environ[stray], http_options=http_options(ctx))
        return f"express mode with the key in ${stray}; {count_and_generate(ctx, client, model)}", ""
    credentials = adc_for_vertex(ctx)
    project = project_for_vertex(ctx)
    client = genai.Client(
        vertexai=True,
        project=project,
        location=ctx.location,
        credentials=credentials,
        http_options=http_options(ctx, api_version="v1"),
    )
    who = ctx.principal or "ADC"
    return f"{project}/{ctx.location} as {who}; {count_and_generate(ctx, client, model)}", ""
