"""`gcp-setup models`: the models the API key can see, as models.list reports them. The key is read from
the environment, with the .env's variables winning (`--env-file`, resolved as `apply` resolves it)."""

from __future__ import annotations

from typing import Any

import click

from gcp_setup.commands.options import environ_of, settings_command, values_of
from gcp_setup.errors import GcpSetupError, UsageError
from gcp_setup.google.errors import as_google_api_error
from gcp_setup.verify.core import (
    VerifyContext,
    api_key_from_env,
    redact_all,
    secrets_kept_out_of_logs,
)
from gcp_setup.verify.models import ModelInfo, matching


@settings_command("models", reads_env_file=True)
@click.option("--filter", "text", metavar="TEXT", help="Only models whose name or description contains TEXT.")
@click.option("--method", metavar="METHOD", help="Only models supporting METHOD, e.g. generateContent.")
@click.option(
    "--api-key-env",
    metavar="NAME",
    help="Variable holding the Gemini API key (default: GOOGLE_API_KEY, then GEMINI_API_KEY).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def models(
    ctx: click.Context,
    /,
    text: str | None,
    method: str | None,
    api_key_env: str | None,
    fmt: str,
    **settings: Any,
) -> None:
    """List the Gemini models the API key can use: name, description, supported methods."""
    from gcp_setup.verify import hint
    from gcp_setup.verify.gemini_api import known_models

    settings = values_of(ctx)
    key_env, key = api_key_from_env(environ_of(ctx), api_key_env)
    if not key:
        raise UsageError(
            f"no API key in {key_env or 'GOOGLE_API_KEY or GEMINI_API_KEY'}; export one "
            "(`gcp-setup apply --project PROJECT --create --env-file .env` writes a restricted one) or pass "
            "--api-key-env NAME"
        )
    from gcp_setup.verify.credentials import resolve as resolve_credentials  # google-auth: when it runs

    vctx = VerifyContext(
        resolve_credentials=resolve_credentials,
        emulator_host=settings["emulator_host"],
        project=None,
        location="global",
        model=None,
        generate=False,
        api_key_env=key_env,
        api_key=key,
        propagation_wait_s=0,
        environ=dict(environ_of(ctx)),
    )
    try:
        with secrets_kept_out_of_logs(vctx):
            listed = known_models(vctx)
    except Exception as exc:
        error = as_google_api_error(exc)
        if error is None:
            raise
        message = redact_all(f"models.list failed: {error}", vctx.secrets())
        raise GcpSetupError(message, hint=hint(vctx, "gemini-api", error)) from None
    shown = matching(listed, text, method)
    click.echo(render_json(shown) if fmt == "json" else render_table(shown))


def render_json(shown: list[ModelInfo]) -> str:
    from gcp_setup.output import schema

    return schema.dumps(schema.document("models", {"models": [m.to_json() for m in shown]}))


def render_table(shown: list[ModelInfo]) -> str:
    if not shown:
        return "no models match"
    width = max(len(m.name) for m in shown)
    lines = [f"{'NAME':<{width}}  {'METHODS':<45}  DESCRIPTION"]
    for m in shown:
        description = (m.description.splitlines() or [""])[0]
        lines.append(f"{m.name:<{width}}  {','.join(m.methods):<45}  {description[:80]}")
    return "\n".join(lines)
