"""`gcp-setup verify`: prove that the credentials work on every path a user calls Gemini by.

Each check yields a CheckResult (passed, failed or skipped, latency, one-line hint), reported in this
order: credentials → gemini-api → interactions → vertex → vertex-express → openai-gemini → openai-vertex.
They are independent, so they run at once, each in a thread of its own: what two need (the ADC token,
models.list, a key's lookup) is computed once, by the first to ask (VerifyContext.once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gcp_setup import envvars
from gcp_setup.defaults import VERTEX_AI
from gcp_setup.errors import GoogleApiError
from gcp_setup.secrets.secret import Secret
from gcp_setup.verify.core import CheckResult, Skip, VerifyContext, run_check
from gcp_setup.verify.diagnose import Where, diagnose


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    module: str
    function: str = "check"
    libraries: tuple[str, ...] = ()
    """The client libraries its calls go through, imported in its own thread before it is timed (0.3 s
    and more each): the credentials check's token request does not wait for them."""
    warm_up: str | None = None
    """A function of its module run before it is timed: what its library imports on first use."""

    def body(self) -> Callable[[VerifyContext], tuple[str, str]]:
        body: Callable[[VerifyContext], tuple[str, str]] = getattr(self._module(), self.function)
        return body

    def prepare(self, ctx: VerifyContext) -> None:
        """Its libraries imported and warmed up, before the clock starts: latencies measure calls."""
        import importlib

        for library in self.libraries:
            importlib.import_module(library)
        if self.warm_up:
            getattr(self._module(), self.warm_up)(ctx)

    def _module(self) -> Any:
        import importlib

        return importlib.import_module(f"gcp_setup.verify.{self.module}")


GENAI, OPENAI = ("google.genai",), ("google.genai", "openai")
"""The openai checks list models through google-genai to choose the model they call."""
CHECKS: tuple[Check, ...] = (
    Check("credentials", "Application Default Credentials", "credentials"),
    Check("gemini-api", "Gemini API with an API key (google-genai)", "gemini_api", libraries=GENAI),
    Check(
        "interactions",
        "Interactions API with an API key (google-genai)",
        "interactions",
        libraries=GENAI,
        warm_up="warm_up",
    ),
    Check("vertex", f"{VERTEX_AI} with ADC (google-genai, vertexai=True)", "vertex", libraries=GENAI),
    Check(
        "vertex-express",
        f"{VERTEX_AI} express mode with an auth key (google-genai)",
        "vertex_express",
        libraries=GENAI,
    ),
    Check(
        "openai-gemini",
        "OpenAI-compatible Gemini API (openai)",
        "openai_compat",
        "check_gemini",
        OPENAI,
    ),
    Check(
        "openai-vertex",
        f"OpenAI-compatible {VERTEX_AI} (openai)",
        "openai_compat",
        "check_vertex",
        OPENAI,
    ),
)
CHECK_NAMES = tuple(c.name for c in CHECKS)
VERTEX_CHECKS = frozenset({"vertex", "vertex-express", "openai-vertex"})


MAX_THREADS = 8
"""At most this many checks at once (there are seven)."""


def smoke_test(ctx: VerifyContext, names: tuple[str, ...] = CHECK_NAMES) -> list[CheckResult]:
    """What `verify` and the end of `apply` run: the checks, every log record kept free of secrets."""
    import os

    from gcp_setup.google.transport import collect_garbage_less_often
    from gcp_setup.verify.core import secrets_kept_out_of_logs

    collect_garbage_less_often()
    if ctx.emulator_host:
        os.environ.setdefault("NO_GCE_CHECK", "True")  # offline: do not probe the metadata server
    with secrets_kept_out_of_logs(ctx):
        return run(ctx, names)


def run(ctx: VerifyContext, names: tuple[str, ...] = CHECK_NAMES) -> list[CheckResult]:
    """The checks named, all at once; results (and ctx.on_check) in CHECKS' order, each told as soon as
    it and the checks before it have finished."""
    from concurrent.futures import ThreadPoolExecutor

    chosen = [check for check in CHECKS if check.name in names]
    results = []
    with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(chosen) or 1)) as pool:
        futures = [pool.submit(run_one, ctx, check) for check in chosen]
        for future in futures:
            results.append(future.result())
            if ctx.on_check is not None:
                ctx.on_check(results[-1])
    return results


def run_one(ctx: VerifyContext, check: Check) -> CheckResult:
    waits = check.name in VERTEX_CHECKS and ctx.vertex_waits
    if not waits:
        check.prepare(ctx)
    body = _waiting if waits else check.body()
    return run_check(check.name, check.title, lambda: body(ctx), lambda error: hint(ctx, check.name, error))


def _waiting(ctx: VerifyContext) -> tuple[str, str]:
    raise Skip(ctx.vertex_waits)


KEY_REASONS = frozenset(
    {
        "API_KEY_INVALID",
        "ACCESS_TOKEN_TYPE_UNSUPPORTED",
        "API_KEY_SERVICE_BLOCKED",
        "ACCOUNT_STATE_INVALID",
        "CREDENTIALS_MISSING",
    }
)
"""Failures where what kind of key was sent, and from which variable, makes the fix."""


def hint(ctx: VerifyContext, check: str, error: GoogleApiError) -> str:
    """The one-line fix for `error` met by `check`, with what the context knows (key variable, principal)."""
    from gcp_setup.verify.credentials import propagation_hint
    from gcp_setup.verify.keys import key_info, overriding_key_env
    from gcp_setup.verify.vertex import stray_api_key_env

    stray = stray_api_key_env(ctx.environ) if check == "vertex" else None
    key_env, key = sent_key(ctx, check, stray)
    where = Where(
        check=check,
        api_key_env=key_env,
        project=ctx.vertex_project,
        location=ctx.location,
        principal=ctx.principal,
        model=ctx.model,
        models=ctx.models or [],
        stray_key_env=stray,
        overriding_env=overriding_key_env(ctx) if key_env == ctx.api_key_env else None,
        still_propagating=propagation_hint(ctx) if ctx.just_changed else "",
        models_command=ctx.models_command(),
    )
    if key and error.reason in KEY_REASONS:
        info = key_info(ctx, key)
        where.key_name, where.key_kind, where.key_account = info.name or None, info.kind, info.account
    return diagnose(error, where)


def sent_key(ctx: VerifyContext, check: str, stray: str | None) -> tuple[str | None, Secret | None]:
    """(variable, key) of the API key `check` sent, if it sent one."""
    if check == "vertex-express":
        return envvars.VERTEX_EXPRESS_API_KEY, ctx.express_key
    if check == "vertex":
        value = ctx.environ.get(stray) if stray else None
        return (stray, Secret(value)) if stray and value else (None, None)
    if check in ("gemini-api", "interactions", "openai-gemini"):
        return ctx.api_key_env, ctx.api_key
    return None, None
