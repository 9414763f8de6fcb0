"""`gcp-setup verify`: prove that the credentials work on every path a user calls Gemini by.

Checks run in order; each yields a CheckResult (passed, failed or skipped, latency, one-line hint):
credentials → gemini-api → vertex → openai-gemini → openai-vertex.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gcp_setup.errors import GoogleApiError
from gcp_setup.verify.core import CheckResult, VerifyContext, run_check
from gcp_setup.verify.diagnose import Where, diagnose


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    module: str
    function: str = "check"

    def body(self) -> Callable[[VerifyContext], tuple[str, str]]:
        import importlib

        return getattr(importlib.import_module(f"gcp_setup.verify.{self.module}"), self.function)


CHECKS: tuple[Check, ...] = (
    Check("credentials", "Application Default Credentials", "credentials"),
    Check("gemini-api", "Gemini API with an API key (google-genai)", "gemini_api"),
    Check("vertex", "Vertex AI with ADC (google-genai, vertexai=True)", "vertex"),
    Check("openai-gemini", "OpenAI-compatible Gemini API (openai)", "openai_compat", "check_gemini"),
    Check("openai-vertex", "OpenAI-compatible Vertex AI (openai)", "openai_compat", "check_vertex"),
)
CHECK_NAMES = tuple(c.name for c in CHECKS)


def smoke_test(ctx: VerifyContext, names: tuple[str, ...] = CHECK_NAMES) -> list[CheckResult]:
    """What `verify` and the end of `apply` run: the checks, with their client libraries imported first
    (latencies measure calls, not imports) and every log record kept free of secrets."""
    import os

    from gcp_setup.verify.core import secrets_kept_out_of_logs

    if ctx.emulator_host:
        os.environ.setdefault("NO_GCE_CHECK", "True")  # offline: do not probe the metadata server
    import_client_libraries(names)
    with secrets_kept_out_of_logs(ctx):
        return run(ctx, names)


def import_client_libraries(names: tuple[str, ...]) -> None:
    if any(n != "credentials" for n in names):
        import google.genai  # noqa: F401
    if any(n.startswith("openai") for n in names):
        import openai  # noqa: F401


def run(ctx: VerifyContext, names: tuple[str, ...] = CHECK_NAMES) -> list[CheckResult]:
    results = []
    for check in CHECKS:
        if check.name not in names:
            continue
        body = check.body()
        results.append(
            run_check(
                check.name,
                check.title,
                lambda body=body: body(ctx),
                lambda error, name=check.name: hint(ctx, name, error),
            )
        )
    return results


def hint(ctx: VerifyContext, check: str, error: GoogleApiError) -> str:
    """The one-line fix for `error` met by `check`, with what the context knows (key variable, principal)."""
    from gcp_setup.verify.vertex import stray_api_key_env

    where = Where(
        check=check,
        api_key_env=ctx.api_key_env,
        project=ctx.vertex_project,
        location=ctx.location,
        principal=ctx.principal,
        model=ctx.model,
        models=ctx.models or [],
        stray_key_env=stray_api_key_env(ctx.environ) if check == "vertex" else None,
    )
    if error.reason == "API_KEY_SERVICE_BLOCKED":
        where.key_name = key_resource_name(ctx)
    return diagnose(error, where)


def key_resource_name(ctx: VerifyContext) -> str | None:
    """projects/N/locations/global/keys/ID of the API key in use (API Keys lookupKey), if it can be seen."""
    try:
        keys = ctx.session().discovery_client("apikeys", "v2").keys()
        return keys.lookupKey(keyString=ctx.api_key).execute().get("name")
    except Exception:  # only makes the hint more precise
        return None
