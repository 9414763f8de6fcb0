"""`gcp-setup verify`: can I call Gemini, with google-genai and with openai, and is my setup right?

Exit status 0 only when every check that ran (was not skipped) passed. `--format json` prints the
document described in gcp_setup/verify/render.py. `--env-file FILE` reads the .env `apply` wrote; its
values win over the process environment, and flags win over both. No API key or token is ever printed
or logged: output and log records pass through a redactor.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from gcp_setup import envvars
from gcp_setup.cli import GlobalOptions
from gcp_setup.errors import EXIT_FAILED, UsageError
from gcp_setup.verify import CHECK_NAMES
from gcp_setup.verify.core import VerifyContext, api_key_from_env, redact_all


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
@click.option("--project", help=f"Project for Vertex AI (env {envvars.PROJECT}).")
@click.option("--location", help=f"Vertex AI location (env {envvars.LOCATION}; default global).")
@click.option(
    "--api-key-env",
    metavar="NAME",
    help="Variable holding the Gemini API key (default: GOOGLE_API_KEY, then GEMINI_API_KEY).",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read NAME=value lines from this .env (e.g. the one apply wrote); they win over the environment.",
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
    location: str | None,
    api_key_env: str | None,
    env_file: Path | None,
    propagation_wait: float,
    fmt: str,
) -> None:
    """Prove that the credentials work: ADC, the Gemini API key, Vertex AI and both OpenAI-compatible
    endpoints, through the real google-genai and openai libraries. Failures name the fix."""
    from gcp_setup.verify import render, smoke_test

    environ = environment(env_file)
    vctx = build_context(
        ctx, environ, model, project, location, api_key_env, propagation_wait, not no_generate
    )
    results = smoke_test(vctx, tuple(n for n in (only or CHECK_NAMES) if n not in skip))
    text = render.render_json(vctx, results) if fmt == "json" else render.render_table(vctx, results)
    click.echo(redact_all(text, vctx.secrets()))
    if not render.passed(results):
        ctx.exit(EXIT_FAILED)


def environment(env_file: Path | None) -> dict[str, str]:
    """The process environment, overridden by the .env's variables when one is given."""
    from gcp_setup.secrets import read_env_file

    environ = dict(os.environ)
    if env_file is None:
        return environ
    try:
        return {**environ, **read_env_file(env_file)}
    except OSError as exc:
        raise UsageError(
            f"--env-file {env_file}: {exc.strerror or exc}; write one with gcp-setup apply --env-file"
        ) from exc


def build_context(
    ctx: click.Context,
    environ: Mapping[str, str],
    model: str | None,
    project: str | None,
    location: str | None,
    api_key_env: str | None,
    propagation_wait: float,
    generate: bool,
) -> VerifyContext:
    """Flags first, then `environ` (the environment with the .env), then gcloud's configured project."""
    from gcp_setup.config import gcloud_core_project
    from gcp_setup.google.session import resolve_emulator_host

    opts = ctx.find_object(GlobalOptions)
    key_env, key = api_key_from_env(environ, api_key_env)
    if api_key_env and not key:
        raise UsageError(f"--api-key-env {api_key_env}: that variable is unset or empty; export it first")
    project = (
        project
        or environ.get(envvars.PROJECT)
        or environ.get(envvars.CLOUDSDK_PROJECT)
        or gcloud_core_project(environ)[0]
    )
    return VerifyContext(
        emulator_host=resolve_emulator_host(opts.emulator_host if opts else None),
        project=project,
        location=location or environ.get(envvars.LOCATION) or "global",
        model=model,
        generate=generate,
        api_key_env=key_env,
        api_key=key,
        express_key=(environ.get(envvars.VERTEX_EXPRESS_API_KEY) or "").strip() or None,
        propagation_wait_s=propagation_wait,
        say=lambda message: click.echo(message, err=True),
        environ=environ,
    )
