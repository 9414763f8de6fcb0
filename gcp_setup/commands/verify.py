"""`gcp-setup verify`: can I call Gemini, with google-genai and with openai, and is my setup right?

Exit status 0 only when every check that ran (was not skipped) passed. `--format json` prints:
    {"ok": bool, "emulator": "HOST:PORT" | null, "project": str | null, "location": str,
     "model": str | null, "checks": [{"name", "title", "status", "latency_ms", "detail", "hint", "reason"}]}
No API key or token is ever printed or logged: output and log records pass through a redactor.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from gcp_setup import envvars
from gcp_setup.cli import GlobalOptions
from gcp_setup.errors import EXIT_FAILED, UsageError
from gcp_setup.verify import CHECK_NAMES
from gcp_setup.verify.core import (
    FAILED,
    CheckResult,
    VerifyContext,
    api_key_from_env,
    redact_all,
    secrets_kept_out_of_logs,
)


@click.command("verify")
@click.option(
    "--only", multiple=True, type=click.Choice(CHECK_NAMES), help="Run only these checks (repeatable)."
)
@click.option("--skip", multiple=True, type=click.Choice(CHECK_NAMES), help="Skip these checks (repeatable).")
@click.option(
    "--no-generate", is_flag=True, help="Only free calls (models.list, countTokens); no generation."
)
@click.option(
    "--model", help="Model to try (default: the newest stable Flash model that models.list offers)."
)
@click.option("--project", envvar=envvars.PROJECT, help=f"Project for Vertex AI (env {envvars.PROJECT}).")
@click.option(
    "--location",
    envvar=envvars.LOCATION,
    default="global",
    show_default=True,
    help=f"Vertex AI location (env {envvars.LOCATION}).",
)
@click.option(
    "--api-key-env",
    metavar="NAME",
    help="Variable holding the Gemini API key (default: GOOGLE_API_KEY, then GEMINI_API_KEY).",
)
@click.option(
    "--propagation-wait",
    type=click.FloatRange(min=0),
    default=90.0,
    show_default=True,
    help="Seconds to wait for a just-enabled API to propagate before calling it failed.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def verify(
    ctx: click.Context,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    no_generate: bool,
    model: str | None,
    project: str | None,
    location: str,
    api_key_env: str | None,
    propagation_wait: float,
    fmt: str,
) -> None:
    """Prove that the credentials work: ADC, the Gemini API key, Vertex AI and both OpenAI-compatible
    endpoints, through the real google-genai and openai libraries. Failures name the fix."""
    vctx = build_context(ctx, model, project, location, api_key_env, propagation_wait, not no_generate)
    names = tuple(n for n in (only or CHECK_NAMES) if n not in skip)
    from gcp_setup.verify import run

    import_client_libraries(names)
    with secrets_kept_out_of_logs(vctx):
        results = run(vctx, names)
    text = render_json(vctx, results) if fmt == "json" else render_table(vctx, results)
    click.echo(redact_all(text, vctx.secrets()))
    if any(r.status == FAILED for r in results):
        ctx.exit(EXIT_FAILED)


def build_context(
    ctx: click.Context,
    model: str | None,
    project: str | None,
    location: str,
    api_key_env: str | None,
    propagation_wait: float,
    generate: bool,
) -> VerifyContext:
    from gcp_setup.config import gcloud_core_project
    from gcp_setup.google.session import resolve_emulator_host

    opts = ctx.find_object(GlobalOptions)
    emulator_host = resolve_emulator_host(opts.emulator_host if opts else None)
    if emulator_host:
        os.environ.setdefault("NO_GCE_CHECK", "True")  # offline: do not probe the metadata server
    key_env, key = api_key_from_env(os.environ, api_key_env)
    if api_key_env and not key:
        raise UsageError(f"--api-key-env {api_key_env}: that variable is unset or empty; export it first")
    project = project or os.environ.get(envvars.CLOUDSDK_PROJECT) or gcloud_core_project(os.environ)[0]
    return VerifyContext(
        emulator_host=emulator_host,
        project=project,
        location=location or "global",
        model=model,
        generate=generate,
        api_key_env=key_env,
        api_key=key,
        propagation_wait_s=propagation_wait,
        say=lambda message: click.echo(message, err=True),
    )


def import_client_libraries(names: tuple[str, ...]) -> None:
    """Import google-genai and openai before the clock starts, so latencies measure calls, not imports."""
    if any(n != "credentials" for n in names):
        import google.genai  # noqa: F401
    if any(n.startswith("openai") for n in names):
        import openai  # noqa: F401


def render_json(vctx: VerifyContext, results: list[CheckResult]) -> str:
    body: dict[str, Any] = {
        "ok": not any(r.status == FAILED for r in results),
        "emulator": vctx.emulator_host,
        "project": vctx.vertex_project,
        "location": vctx.location,
        "model": vctx.model,
        "checks": [r.to_json() for r in results],
    }
    return json.dumps(body, indent=2)


def render_table(vctx: VerifyContext, results: list[CheckResult]) -> str:
    marks = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}
    width = max((len(r.name) for r in results), default=10)
    lines = []
    if vctx.emulator_host:
        lines.append(f"(emulator at {vctx.emulator_host})")
    for r in results:
        latency = f"{r.latency_ms:>6} ms" if r.status != "skipped" else " " * 9
        lines.append(f"{marks[r.status]} {r.name:<{width}} {latency}  {r.detail or r.title}")
        if r.hint:
            lines.append(f"     {'':<{width}} {'':9}  -> {r.hint}")
    counts = {s: sum(r.status == s for r in results) for s in marks}
    lines.append(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return "\n".join(lines)
