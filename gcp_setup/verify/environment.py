"""Variables in the process environment that change what a .env means to the libraries that read it.

A user's program loads the .env with python-dotenv's `load_dotenv()`, which keeps a variable the process
already has (override=False): what google-genai and openai then read is the .env under the shell's
environment. Each rule below is one variable, the library that reads it, and that library's own rule
(google-genai 3.x `_api_client.BaseApiClient.__init__` and `get_env_api_key`; the openai library's
`OpenAI()` defaults), checked against the .env's values. apply and verify print one line per variable
that overrides the .env, naming the library, its rule and the fix.

Without a .env, the reference is what gcp-setup's .env would mean: the Gemini API with $GEMINI_API_KEY.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gcp_setup import envvars

USE_ENTERPRISE = envvars.USE_ENTERPRISE
_TRUE = ("true", "1")
"""What google-genai reads as true in its USE_* variables (anything else is false, "yes" included)."""

Env = Mapping[str, str]


def _flag(value: str | None) -> bool | None:
    return None if value is None else value.lower() in _TRUE


def uses_vertex(env: Env) -> bool:
    """google-genai's choice of backend: GOOGLE_GENAI_USE_ENTERPRISE when set, else ..._USE_VERTEXAI."""
    enterprise, vertexai = _flag(env.get(USE_ENTERPRISE)), _flag(env.get(envvars.USE_VERTEXAI))
    return bool(enterprise if enterprise is not None else vertexai)


@dataclass(frozen=True)
class Rule:
    variable: str
    library: str
    rule: str
    """The library's own rule, in a few words."""
    overrides: Callable[[Env, Env, Env], bool]
    """(the .env, the process environment, what the program sees) -> the process value changes the .env's
    meaning."""
    fix: str

    def warning(self) -> str:
        return (
            f"${self.variable} in your environment overrides the .env: {self.library} {self.rule}; {self.fix}"
        )


def _other_key(dotenv: Env, shell: Env, seen: Env) -> bool:
    wanted = dotenv.get(envvars.GEMINI_API_KEY)
    return (
        bool(shell.get(envvars.GOOGLE_API_KEY)) and bool(wanted) and shell[envvars.GOOGLE_API_KEY] != wanted
    )


def _backend_flipped(variable: str) -> Callable[[Env, Env, Env], bool]:
    def flipped(dotenv: Env, shell: Env, seen: Env) -> bool:
        if variable not in shell or dotenv.get(variable) == shell[variable]:
            return False
        if variable == envvars.USE_VERTEXAI and USE_ENTERPRISE in seen:
            return False  # GOOGLE_GENAI_USE_ENTERPRISE decides
        return uses_vertex(seen) != uses_vertex(dotenv)

    return flipped


def _drops_express_key(dotenv: Env, shell: Env, seen: Env) -> bool:
    """Vertex mode with a key from the environment and no project/location in the .env (express mode):
    a project or location in the shell makes google-genai use it and drop the key."""
    key = seen.get(envvars.GOOGLE_API_KEY) or seen.get(envvars.GEMINI_API_KEY)
    located = dotenv.get(envvars.PROJECT) or dotenv.get(envvars.LOCATION)
    express = uses_vertex(dotenv) and uses_vertex(seen) and key and not located
    return bool(express) and bool(shell.get(envvars.PROJECT) or shell.get(envvars.LOCATION))


def _differs(variable: str) -> Callable[[Env, Env, Env], bool]:
    def differs(dotenv: Env, shell: Env, seen: Env) -> bool:
        return variable in dotenv and variable in shell and shell[variable] != dotenv[variable]

    return differs


RULES: tuple[Rule, ...] = (
    Rule(
        envvars.GOOGLE_API_KEY,
        "google-genai",
        "sends GOOGLE_API_KEY rather than GEMINI_API_KEY when both are set",
        _other_key,
        "unset GOOGLE_API_KEY",
    ),
    Rule(
        USE_ENTERPRISE,
        "google-genai",
        "reads GOOGLE_GENAI_USE_ENTERPRISE before GOOGLE_GENAI_USE_VERTEXAI to choose Agent Platform "
        "(Vertex AI) or the Gemini API",
        _backend_flipped(USE_ENTERPRISE),
        "unset GOOGLE_GENAI_USE_ENTERPRISE, or set it to the .env's GOOGLE_GENAI_USE_VERTEXAI",
    ),
    Rule(
        envvars.USE_VERTEXAI,
        "google-genai",
        "chooses Agent Platform (Vertex AI) or the Gemini API by GOOGLE_GENAI_USE_VERTEXAI, and "
        "load_dotenv() keeps the shell's value",
        _backend_flipped(envvars.USE_VERTEXAI),
        "unset GOOGLE_GENAI_USE_VERTEXAI",
    ),
    Rule(
        envvars.PROJECT,
        "google-genai",
        "in Vertex AI mode uses a project/location from the environment and drops an API key from it "
        "(express mode)",
        _drops_express_key,
        "unset GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION, or pass api_key= explicitly",
    ),
    Rule(
        envvars.OPENAI_API_KEY,
        "python-dotenv",
        "load_dotenv() keeps the shell's OPENAI_API_KEY over the .env's, and openai's OpenAI() reads it",
        _differs(envvars.OPENAI_API_KEY),
        "unset OPENAI_API_KEY",
    ),
    Rule(
        envvars.OPENAI_BASE_URL,
        "python-dotenv",
        "load_dotenv() keeps the shell's OPENAI_BASE_URL over the .env's, and openai's OpenAI() calls it",
        _differs(envvars.OPENAI_BASE_URL),
        "unset OPENAI_BASE_URL",
    ),
)


def overriding(dotenv: Env | None, shell: Env) -> list[Rule]:
    """The rules by which `shell` (the process environment) overrides `dotenv` (None: no .env)."""
    if dotenv is None:
        if not shell.get(envvars.GEMINI_API_KEY):
            return []
        dotenv = {
            envvars.GEMINI_API_KEY: shell.get(envvars.GEMINI_API_KEY, ""),
            envvars.USE_VERTEXAI: "false",
        }
    seen = {**dotenv, **shell}
    return [rule for rule in RULES if rule.overrides(dotenv, shell, seen)]


def warnings(dotenv: Env | None, shell: Env) -> list[str]:
    return [rule.warning() for rule in overriding(dotenv, shell)]


def env_file_warnings(env_file: str | Path | None, shell: Env | None = None) -> list[str]:
    """warnings() for the .env at `env_file` (as gcp-setup wrote it: None or unreadable, its meaning)
    against the process environment."""
    from gcp_setup.secrets.env_file import read_env_file

    dotenv = None
    if env_file:
        try:
            dotenv = read_env_file(Path(env_file))
        except OSError:
            dotenv = None
    return warnings(dotenv, os.environ if shell is None else shell)
