"""`gcp-setup verify`: can I call Gemini, with google-genai and with openai, and is my setup right?

Exit status 0 only when no check failed, at least one ran and passed, and every check named by --only
ran (`--allow-skipped`: only a failure fails); render.verdict says it. `--format json` prints the
document described in gcp_setup/verify/render.py, `--junit FILE` writes output/junit.py's report.
Project, location, endpoint and the .env are resolved as `apply` resolves them; the .env
(`--env-file FILE`, the one `apply` wrote) is read, and its variables win over the process environment
(flags win over both). No API key or token is ever printed or logged: output and log records pass
through a redactor.

With a fleet file (gcp-setup.toml with `[[projects]]`) every entry is verified, each with its own
settings and .env, `--parallelism` at once (commands/fleet.py): a row per project, or the fleet's JSON
document; `--only` then also picks projects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from gcp_setup import envvars
from gcp_setup.commands.common import warn_about_environment
from gcp_setup.commands.options import environ_of, settings_command, values_of
from gcp_setup.errors import EXIT_FAILED, UsageError
from gcp_setup.settings.config import Config
from gcp_setup.verify import CHECK_NAMES
from gcp_setup.verify.core import SKIPPED, VerifyContext, api_key_from_env, redact_all
from gcp_setup.verify.smoke import SmokeTest


@settings_command("verify", reads_env_file=True)
@click.option(
    "--only",
    multiple=True,
    metavar="CHECK|ID[,...]",
    help=f"Run only these checks ({', '.join(CHECK_NAMES)}); with a fleet file, also only these of its "
    "projects (repeatable or comma-separated).",
)
@click.option("--skip", multiple=True, type=click.Choice(CHECK_NAMES), help="Skip these checks (repeatable).")
@click.option(
    "--no-generate", is_flag=True, help="Only free calls (models.list, countTokens); no generation."
)
@click.option(
    "--model", help="Model to try (default: the newest stable Flash model that models.list offers)."
)
@click.option(
    "--api-key-env",
    metavar="NAME",
    help="Variable holding the Gemini API key (default: GOOGLE_API_KEY, then GEMINI_API_KEY).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def verify(
    ctx: click.Context,
    /,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    no_generate: bool,
    model: str | None,
    api_key_env: str | None,
    fmt: str,
    **settings: Any,
) -> None:
    """Prove that the credentials work: ADC, the Gemini API key, Agent Platform (Vertex AI) and both
    OpenAI-compatible endpoints, through the real google-genai and openai libraries. Failures name the
    fix."""
    from gcp_setup.output import github_actions
    from gcp_setup.verify import render, smoke_test

    values = values_of(ctx)
    propagation_wait = values["propagation_wait"]
    fleet = [str(e.values.get("project")) for e in getattr(ctx.default_map, "fleet", ())]
    checks, projects = split_only(only, fleet)
    names = tuple(n for n in (checks or CHECK_NAMES) if n not in skip)
    generate = not no_generate
    if fleet:
        from gcp_setup.commands.fleet import run_fleet_verify

        def check(config: Config, environ: Mapping[str, str], say: Callable[[str], None]) -> SmokeTest:
            settings = {name: getattr(config, name) for name in ("emulator_host", "project", "location")}
            vctx = build_context(environ, settings, model, api_key_env, propagation_wait, generate, say)
            return SmokeTest(vctx, smoke_test(vctx, names), checks, values["allow_skipped"])

        return run_fleet_verify(ctx, projects, check, fmt)
    vctx = build_context(dict(environ_of(ctx)), values, model, api_key_env, propagation_wait, generate)
    warn_about_environment(values["env_file"])
    results = smoke_test(vctx, names)
    problem = render.verdict(results, checks, values["allow_skipped"])
    if problem and values["env_file"] is None and all(r.status == SKIPPED for r in results):
        problem += (
            f"; no .env was read: run `{apply_hint(values)} --env-file .env` first, or pass --env-file FILE"
        )
    if values["junit"]:
        from gcp_setup.output import junit

        junit.write(values["junit"], {junit.SUITE: results}, vctx.secrets())
    table = fmt != "json"
    text = render.render_table(vctx, results) if table else render.render_json(vctx, results, problem)
    click.echo(redact_all(text, vctx.secrets()))
    github_actions.publish_verify(vctx.vertex_project, results, vctx.secrets())
    if problem:
        click.echo(redact_all(f"verify failed: {problem}", vctx.secrets()), err=True)
        ctx.exit(EXIT_FAILED)


def split_only(values: tuple[str, ...], fleet: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """--only's values (repeated or comma-separated) as (checks, projects): a check's name, or with a
    fleet file one of its project IDs."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    for name in names:
        if name in CHECK_NAMES and name in fleet:
            raise UsageError(f"--only {name}: names both a check and a project of the fleet file")
        if name not in CHECK_NAMES and name not in fleet:
            also = " nor a project of the fleet file" if fleet else ""
            raise UsageError(f"--only {name}: not a check{also}; the checks: {', '.join(CHECK_NAMES)}")
    return tuple(n for n in names if n in CHECK_NAMES), tuple(n for n in names if n in fleet)


def build_context(
    environ: Mapping[str, str],
    settings: Mapping[str, Any],
    model: str | None,
    api_key_env: str | None,
    propagation_wait: float,
    generate: bool,
    say: Callable[[str], None] | None = None,
) -> VerifyContext:
    """`environ`: the environment with the .env's variables; `settings`: what the command resolved;
    `say`: where notes go (default: stderr)."""
    key_env, key = api_key_from_env(environ, api_key_env)
    if api_key_env and not key:
        raise UsageError(f"--api-key-env {api_key_env}: that variable is unset or empty; export it first")
    from gcp_setup.verify.credentials import resolve as resolve_credentials  # google-auth: when it runs

    return VerifyContext(
        resolve_credentials=resolve_credentials,
        emulator_host=settings["emulator_host"],
        project=settings["project"],
        location=settings["location"],
        model=model,
        generate=generate,
        api_key_env=key_env,
        api_key=key,
        express_key=api_key_from_env(environ, envvars.VERTEX_EXPRESS_API_KEY)[1],
        propagation_wait_s=propagation_wait,
        env_file=settings.get("env_file"),
        say=say or (lambda message: click.echo(message, err=True)),
        environ=environ,
    )


def apply_hint(values: dict[str, Any]) -> str:
    """A first `gcp-setup apply`, with the project (PROJECT, to fill, when none is known): apply without
    one is a usage error."""
    return f"gcp-setup apply --project {values.get('project') or 'PROJECT'} --create"
