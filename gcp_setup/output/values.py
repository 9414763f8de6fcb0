"""What `gcp-setup output` prints and what `apply` ends with (its next steps): the values apply produced,
read from the steps' outputs of a run (for `output`, a status run: the live project, where terraform's
`output` reads its state file), the endpoints, the console links and the code that uses them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup import envvars
from gcp_setup.engine import RunResult
from gcp_setup.secrets.env_file import env_line
from gcp_setup.secrets.secret import Secret
from gcp_setup.settings.config import Config
from gcp_setup.steps.base import Context
from gcp_setup.steps.exported import exported_values, key_string, openai_base_url
from gcp_setup.verify.models import FALLBACK_MODEL

CONSOLE = "https://console.cloud.google.com"
OPENAI_SNIPPET = f"""\
from openai import OpenAI  # the .env loaded: set -a; . ./.env; set +a (or python-dotenv's load_dotenv())

client = OpenAI()  # OPENAI_BASE_URL and OPENAI_API_KEY
messages = [{{"role": "user", "content": "Hi"}}]
reply = client.chat.completions.create(model="{FALLBACK_MODEL}", messages=messages)
print(reply.choices[0].message.content)"""
GENAI_SNIPPET = f"""\
from google import genai  # the .env loaded, as above

client = genai.Client()  # GEMINI_API_KEY
print(client.models.generate_content(model="{FALLBACK_MODEL}", contents="Hi").text)"""


@dataclass(frozen=True)
class Outputs:
    project: str
    project_number: str | None
    service_account: str | None
    api_key: str | None
    """The key's resource name; its string is `key_string`, read only when asked for."""
    key_string: Secret | None
    env_file: str | None
    endpoints: dict[str, str]
    console: dict[str, str]

    def document(self, show_secrets: bool) -> dict[str, Any]:
        shown = self.key_string.reveal() if show_secrets and self.key_string else None
        return {
            "project": self.project,
            "project_number": self.project_number,
            "service_account": self.service_account,
            "api_key": self.api_key,
            "api_key_string": shown,
            "env_file": self.env_file,
            "endpoints": self.endpoints,
            "console": self.console,
            "snippets": {"openai": OPENAI_SNIPPET, "google_genai": GENAI_SNIPPET},
        }


def outputs_of(run: RunResult, config: Config, session: Any, *, reveal: bool = False) -> Outputs | None:
    """The outputs of a project apply has set up; None when it has not (no project, or no account and
    no key in it). `reveal`: read the key's string too (from the .env when it holds it)."""
    out = {r.name: r.outputs for r in run.results}
    number = out.get("project", {}).get("number")
    account = (
        out.get("service_account", {}).get("email") if out.get("service_account", {}).get("exists") else None
    )
    key = out.get("api_key", {}).get("name") if out.get("api_key", {}).get("exists") else None
    if not number or not (account or key):
        return None
    ctx = Context(config, session, outputs=out)
    held = out.get("env_file", {}).get(envvars.GEMINI_API_KEY)
    return Outputs(
        project=config.project,
        project_number=str(number),
        service_account=account,
        api_key=key,
        key_string=key_string(ctx, "api_key", held) if reveal and key else None,
        env_file=str(config.env_file) if config.env_file else None,
        endpoints=_endpoints(ctx),
        console=console_links(config.project),
    )


def _endpoints(ctx: Context) -> dict[str, str]:
    vertex = ctx.session.endpoint("aiplatform")
    if not ctx.session.is_emulator and ctx.config.location != "global":
        vertex = f"https://{ctx.config.location}-aiplatform.googleapis.com"
    return {
        "gemini_api": ctx.session.endpoint("generativelanguage") + "/",
        "openai_base_url": openai_base_url(ctx),
        "vertex_ai": vertex + "/",
    }


def console_links(project: str) -> dict[str, str]:
    return {
        "project": f"{CONSOLE}/home/dashboard?project={project}",
        "api_keys": f"{CONSOLE}/apis/credentials?project={project}",
        "service_accounts": f"{CONSOLE}/iam-admin/serviceaccounts?project={project}",
    }


def render_table(outputs: Outputs, show_secrets: bool) -> str:
    key = outputs.api_key or "(none)"
    if show_secrets and outputs.key_string:
        key += f" = {outputs.key_string.reveal()}"
    rows = [
        ("project", f"{outputs.project} (number {outputs.project_number})"),
        ("service account", outputs.service_account or "(none)"),
        ("api key", key),
        (
            ".env",
            outputs.env_file
            or f"(none: `gcp-setup apply --project {outputs.project} --env-file .env` writes one)",
        ),
        *((name.replace("_", " "), url) for name, url in outputs.endpoints.items()),
        *((f"console {name.replace('_', ' ')}", url) for name, url in outputs.console.items()),
    ]
    width = max(len(name) for name, _ in rows) + 2
    lines = [f"{name:<{width}}{value}" for name, value in rows]
    lines += ["", "openai:", _indented(OPENAI_SNIPPET), "", "google-genai:", _indented(GENAI_SNIPPET)]
    return "\n".join(lines)


def render_env(run: RunResult, outputs: Outputs, config: Config, session: Any) -> str:
    """What the .env holds, as NAME=value lines; the key strings only when revealed."""
    ctx = Context(config, session, outputs={r.name: r.outputs for r in run.results})
    keys = {envvars.GEMINI_API_KEY: outputs.key_string} if outputs.key_string else {}
    values = exported_values(ctx, keys)
    lines = [env_line(name, v.reveal() if isinstance(v, Secret) else str(v)) for name, v in values.items()]
    if outputs.api_key and not outputs.key_string:
        lines.append("# GEMINI_API_KEY, OPENAI_API_KEY and OPENAI_BASE_URL: pass --show-secrets")
    return "\n".join(lines)


def next_steps(outputs: Outputs) -> str:
    """The short block after a successful apply: where the key lives, how to use it, how to see it again."""
    where = f"its string is in {outputs.env_file}" if outputs.env_file else "no .env was asked for"
    lines = ["Next steps:"]
    if outputs.api_key:
        lines.append(f"  key      {outputs.api_key} ({where}); manage it at {outputs.console['api_keys']}")
    if outputs.env_file:
        lines.append(
            f"  use it   set -a; . {outputs.env_file}; set +a; then plain OpenAI() or genai.Client()"
        )
    lines.append(f"  again    gcp-setup output --project {outputs.project}   (the values and code snippets)")
    return "\n".join(lines)


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.splitlines())
