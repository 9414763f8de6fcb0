"""Step 6: how local code authenticates (Application Default Credentials), and the .env it reads.

Modes (--credentials):
- user: the person's own ADC (`gcloud auth application-default login`, said when it is missing).
- impersonate: the caller gets roles/iam.serviceAccountTokenCreator on the service account (its own
  policy, not the project's), and an `impersonated_service_account` ADC file is written whose source
  is the person's ADC: no long-lived secret of the service account exists anywhere.
- key-file: a service-account key (only with --allow-key-file; steps/secret_files notes its creation).
  Refused, with the alternatives, when the org policy iam.disableServiceAccountKeyCreation is enforced.
  A key file whose key is still listed on the account is kept: a re-run makes no second key.
- none: no credentials; only the .env.

Then, when asked: a .env (--env-file, merged, mode 0600) and $GITHUB_ENV (--github-env, secrets
masked). Secrets never enter the state, a plan or the outputs. The API key string comes, once per
run, from the key's creation (its operation answers it), else from the .env when the note above its
GEMINI_API_KEY vouches for it (key_note), else from one getKeyString, and only when a destination
needs it (the session keeps it, see GoogleSession.key_strings).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gcp_setup import defaults, envvars
from gcp_setup.config import gcloud_config_dir, gcloud_property
from gcp_setup.google.apikeys import ApiKeysClient
from gcp_setup.google.iam import TOKEN_CREATOR, IamClient, KeyCreationBlocked, key_id_of_file
from gcp_setup.google.iam_policy import Binding, grant, missing
from gcp_setup.secrets import (
    append_github_env,
    github_env_has,
    merge_env_file,
    merge_env_text,
    parse_env_notes,
    parse_env_text,
    read_text_exactly,
    write_secret_file,
)
from gcp_setup.steps.base import Action, Context, Step, StepError, StepInputError
from gcp_setup.steps.secret_files import create_key_file
from gcp_setup.steps.service_account import account_email, project_id

ADC_LOGIN = "gcloud auth application-default login"
IMPERSONATION_URL = "{base}/v1/projects/-/serviceAccounts/{email}:generateAccessToken"
SOURCE_TYPES = ("authorized_user", "service_account", "external_account_authorized_user")
"""Source credentials google-auth accepts in an impersonated_service_account file."""
KEY_VARIABLES: dict[str, str] = {
    envvars.GEMINI_API_KEY: "api_key",
    envvars.VERTEX_EXPRESS_API_KEY: "express_key",
}
"""Which .env variable holds the string of which key step's key."""
SECRET_VARIABLES = frozenset(KEY_VARIABLES)
FILE_MODES = ("impersonate", "key-file")
"""Credential modes that write a credentials file (and GOOGLE_APPLICATION_CREDENTIALS)."""


def gcloud_adc_path() -> Path:
    """Where `gcloud auth application-default login` writes the user's ADC."""
    return gcloud_config_dir(os.environ) / "application_default_credentials.json"


def found_adc() -> Path | None:
    """The user's ADC file, when there is one."""
    path = gcloud_adc_path()
    return path if path.is_file() else None


def credentials_file(ctx: Context) -> Path:
    """Where impersonate / key-file write their JSON (--credentials-file, else per project and account)."""
    if ctx.config.credentials_file is not None:
        return Path(ctx.config.credentials_file).expanduser()
    suffix = "impersonated.json" if ctx.config.credentials == "impersonate" else "key.json"
    account = ctx.config.service_account or defaults.SERVICE_ACCOUNT_ID
    return Path.home() / ".config" / "gcp-setup" / project_id(ctx) / f"{account}-{suffix}"


def impersonator(ctx: Context) -> str:
    """The member who may impersonate the account: --impersonator, else gcloud's active account, else
    (emulator only) the emulator's anonymous caller."""
    configured = ctx.config.impersonator or gcloud_property(os.environ, "core", "account")[0]
    if configured:
        return as_member(configured)
    if ctx.session.is_emulator:
        from gcp_setup.emulator.world import DEFAULT_CALLER

        return DEFAULT_CALLER
    raise StepInputError(
        "cannot tell who should impersonate the service account",
        hint="pass --impersonator user:you@example.com, or `gcloud config set account you@example.com`",
    )


def as_member(who: str) -> str:
    if ":" in who:
        return who
    kind = "serviceAccount" if who.endswith(".gserviceaccount.com") else "user"
    return f"{kind}:{who}"


def impersonated_adc(ctx: Context, source: dict[str, Any]) -> dict[str, Any]:
    """The ADC file `gcloud auth application-default login --impersonate-service-account` would write."""
    base = ctx.session.endpoint("iamcredentials")
    return {
        "type": "impersonated_service_account",
        "service_account_impersonation_url": IMPERSONATION_URL.format(base=base, email=account_email(ctx)),
        "source_credentials": source,
        "delegates": [],
    }


def user_adc() -> dict[str, Any]:
    """The person's own ADC, the source credential of an impersonation."""
    path = gcloud_adc_path()
    source = read_json(path)
    if source is None or source.get("type") not in SOURCE_TYPES:
        raise StepInputError(
            f"impersonation needs your own Application Default Credentials ({path} is missing or not "
            "a user credential)",
            hint=f"run `{ADC_LOGIN}`, then gcp-setup apply again",
        )
    return source


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def openai_base_url(ctx: Context) -> str:
    if ctx.session.is_emulator:
        return f"http://{ctx.session.emulator_host}/v1beta/openai/"
    return defaults.GEMINI_OPENAI_BASE_URL


@dataclass
class CredentialsState:
    mode: str
    adc_found: Path | None = None
    """user / impersonate: the person's ADC file, when there is one."""
    missing_grant: str | None = None
    """impersonate: the member still lacking roles/iam.serviceAccountTokenCreator on the account."""
    file_current: bool = True
    """impersonate / key-file: the credentials file is as it should be."""
    env_current: bool = True
    github_env_current: bool = True
    env_names: list[str] = field(default_factory=list)
    env_standard_key: bool = False
    """The .env's GEMINI_API_KEY is a standard key (AIza...), which the Gemini API rejects."""


class CredentialsStep(Step):
    name = "credentials"
    # secret_files: no new key note while an interrupted one is cleaned up
    depends_on = ("service_account", *KEY_VARIABLES.values(), "secret_files")

    def observe(self, ctx: Context) -> CredentialsState:
        return self._look(ctx, account_is_new=False)

    def absent_state(self, ctx: Context) -> CredentialsState:
        """As observe, but without asking Google what a service account that is new (or still to be
        made) cannot have yet: a Token Creator grant, a key. The local files are looked at as they are."""
        return self._look(ctx, account_is_new=True)

    def _look(self, ctx: Context, account_is_new: bool) -> CredentialsState:
        mode = ctx.config.credentials
        state = CredentialsState(mode, adc_found=found_adc())
        if mode == "impersonate":
            self._observe_impersonation(ctx, state, account_is_new)
        elif mode == "key-file":
            self._observe_key_file(ctx, state, account_is_new)
        env_file = self._env_file(ctx)
        env_text = read_text_exactly(env_file) if env_file is not None and env_file.is_file() else None
        if env_text is not None:
            self._take_key_strings_noted_in(ctx, env_text)
            state.env_standard_key = is_standard_key(parse_env_text(env_text).get(envvars.GEMINI_API_KEY))
        values = self.env_values(ctx)
        state.env_names = list(values)
        if env_file is not None:
            state.env_current = env_file_current(env_text, values, self._env_notes(ctx, values))
        if self._github_env_path(ctx) is not None:
            state.github_env_current = github_env_has(self._github_env_path(ctx), values)
        return state

    def _observe_impersonation(self, ctx: Context, state: CredentialsState, account_is_new: bool) -> None:
        self._require_service_account(ctx)
        source = user_adc()  # checked first: without it nothing here is worth changing
        member = impersonator(ctx)
        target = IamClient(ctx.session).service_account_policy(project_id(ctx), account_email(ctx))
        policy = {} if account_is_new else target.get()
        state.missing_grant = member if missing(policy, [Binding(TOKEN_CREATOR, member)]) else None
        state.file_current = read_json(credentials_file(ctx)) == impersonated_adc(ctx, source)

    def _observe_key_file(self, ctx: Context, state: CredentialsState, account_is_new: bool) -> None:
        self._require_service_account(ctx)
        path = credentials_file(ctx)
        key_id = key_id_of_file(path.read_bytes()) if path.is_file() else None
        listed = []
        if key_id and not account_is_new:
            listed = IamClient(ctx.session).list_user_keys(project_id(ctx), account_email(ctx))
        state.file_current = any(k.get("name", "").endswith(f"/keys/{key_id}") for k in listed)

    @staticmethod
    def _require_service_account(ctx: Context) -> None:
        if ctx.config.service_account is None:
            raise StepInputError(
                f"--credentials {ctx.config.credentials} needs the service account",
                hint="drop --no-service-account, or use --credentials user",
            )

    def plan(self, ctx: Context, state: CredentialsState) -> list[Action]:
        actions = []
        email = account_email(ctx)
        if state.missing_grant:
            actions.append(
                Action(
                    "update",
                    f"projects/{project_id(ctx)}/serviceAccounts/{email}",
                    f"grant {TOKEN_CREATOR} on {email} to {state.missing_grant}",
                    {"what": "grant", "member": state.missing_grant},
                )
            )
        if not state.file_current:
            path = credentials_file(ctx)
            summary = (
                "write impersonated ADC file"
                if state.mode == "impersonate"
                else "create a service-account key and write it to"
            ) + f" {path} (0600)"
            actions.append(Action("create", str(path), summary, {"what": state.mode}))
        if not state.env_current:
            replaces = " (replacing its standard key)" if state.env_standard_key else ""
            actions.append(
                Action(
                    "update",
                    str(ctx.config.env_file),
                    f"write {ctx.config.env_file}: {', '.join(state.env_names)}{replaces}",
                    {"what": "env"},
                )
            )
        if not state.github_env_current:
            actions.append(
                Action(
                    "update",
                    "$GITHUB_ENV",
                    f"export {', '.join(state.env_names)} to $GITHUB_ENV",
                    {"what": "github_env"},
                )
            )
        return actions

    def apply(self, ctx: Context, action: Action) -> None:
        what = action.data["what"]
        if what == "grant":
            target = IamClient(ctx.session).service_account_policy(project_id(ctx), account_email(ctx))
            grant(target, [Binding(TOKEN_CREATOR, action.data["member"])])
        elif what == "impersonate":
            self._write_impersonated_adc(ctx)
        elif what == "key-file":
            self._write_key_file(ctx)
        elif what == "env":
            values = self.env_values(ctx)
            merge_env_file(self._env_file(ctx), values, self._env_notes(ctx, values))
        elif what == "github_env":
            append_github_env(self._github_env_path(ctx), self.env_values(ctx), set(SECRET_VARIABLES))

    def state_after(
        self, ctx: Context, state: CredentialsState, action: Action, answer: None
    ) -> CredentialsState:
        """What an action fixes is current: grant() returns once the policy holds the binding, files are
        written whole or not at all, and either failure raises."""
        return replace(state, **_MADE_CURRENT[action.data["what"]])

    def _write_impersonated_adc(self, ctx: Context) -> None:
        document = impersonated_adc(ctx, user_adc())
        write_secret_file(credentials_file(ctx), json.dumps(document, indent=2) + "\n")

    def _write_key_file(self, ctx: Context) -> None:
        try:
            create_key_file(
                IamClient(ctx.session), project_id(ctx), account_email(ctx), credentials_file(ctx)
            )
        except KeyCreationBlocked as exc:
            raise StepError(
                "the organization policy iam.disableServiceAccountKeyCreation forbids service-account keys "
                "here (Google turns it on for new organizations: long-lived keys leak)",
                hint="use --credentials impersonate on a workstation, or Workload Identity Federation in CI "
                "(see the Terraform module); an org policy admin can lift the constraint for this project",
            ) from exc

    @staticmethod
    def _env_file(ctx: Context) -> Path | None:
        return Path(ctx.config.env_file).expanduser() if ctx.config.env_file is not None else None

    @staticmethod
    def _take_key_strings_noted_in(ctx: Context, env_text: str) -> None:
        """When the .env's note vouches that a key variable holds the string of the key as observed now,
        the session knows that string: no getKeyString for the .env, nor for the smoke test."""
        for variable, step in KEY_VARIABLES.items():
            name, etag = ctx.output(step, "name"), ctx.output(step, "etag")
            if etag and name not in ctx.session.key_strings:
                noted = key_string_noted_in(env_text, variable, name, etag)
                if noted:
                    ctx.session.key_strings[name] = noted

    @staticmethod
    def _env_notes(ctx: Context, values: dict[str, str]) -> dict[str, str]:
        """The .env's notes above its key variables (see key_note), for the keys whose strings it holds."""
        notes = {}
        for variable, step in KEY_VARIABLES.items():
            etag = ctx.output(step, "etag")
            if etag and variable in values:
                notes[variable] = key_note(ctx.output(step, "name"), etag, values[variable])
        return notes

    @staticmethod
    def _github_env_path(ctx: Context) -> Path | None:
        """$GITHUB_ENV, when --github-env asks for it and the job provides it."""
        path = os.environ.get(envvars.GITHUB_ENV)
        return Path(path) if ctx.config.github_env and path else None

    def env_values(self, ctx: Context) -> dict[str, str]:
        """What the .env / $GITHUB_ENV should hold. The API key string only when a destination asks for
        it (see the module docstring for where it comes from)."""
        has_key = bool(ctx.output("api_key", "exists"))
        values = {
            envvars.PROJECT: project_id(ctx),
            envvars.LOCATION: ctx.config.location,
            envvars.USE_VERTEXAI: "false" if has_key or not ctx.config.wants_vertex else "true",
            envvars.OPENAI_BASE_URL: openai_base_url(ctx),
        }
        if ctx.session.is_emulator:  # google-genai reads these; the emulator serves both APIs
            values["GOOGLE_GEMINI_BASE_URL"] = f"http://{ctx.session.emulator_host}/"
            values["GOOGLE_VERTEX_BASE_URL"] = f"http://{ctx.session.emulator_host}/"
        if ctx.config.credentials in FILE_MODES:
            values[envvars.CREDENTIALS] = str(credentials_file(ctx).resolve())
        wants_values = ctx.config.env_file is not None or self._github_env_path(ctx) is not None
        for variable, step in KEY_VARIABLES.items():
            if ctx.output(step, "exists"):
                values[variable] = self._key_string(ctx, step) if wants_values else "<api key>"
        return values

    @staticmethod
    def _key_string(ctx: Context, step: str) -> str:
        """The string of the key `step` observed (known to the session, else one getKeyString)."""
        return ApiKeysClient(ctx.session).key_string({"name": ctx.output(step, "name")})

    def describe(self, ctx: Context, state: CredentialsState) -> str:
        parts = [self._describe_mode(ctx, state)]
        if ctx.config.env_file is not None:
            parts.append(f".env at {ctx.config.env_file}")
        return "; ".join(parts)

    def _describe_mode(self, ctx: Context, state: CredentialsState) -> str:
        if state.mode == "user":
            if ctx.session.is_emulator:
                return "your own ADC (not needed with the emulator)"
            if os.environ.get(envvars.CREDENTIALS) or state.adc_found:
                return f"your own ADC ({os.environ.get(envvars.CREDENTIALS) or state.adc_found})"
            return f"no Application Default Credentials yet: run `{ADC_LOGIN}`"
        if state.mode == "impersonate":
            return f"impersonating {account_email(ctx)} via {credentials_file(ctx)}"
        if state.mode == "key-file":
            return f"service-account key in {credentials_file(ctx)}"
        return "no credentials configured"

    def outputs(self, ctx: Context, state: CredentialsState) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": state.mode, "env_file": str(ctx.config.env_file or "")}
        if state.mode in FILE_MODES:
            out["credentials_file"] = str(credentials_file(ctx))
            out["service_account"] = account_email(ctx)
        return out


_MADE_CURRENT: dict[str, dict[str, Any]] = {
    "grant": {"missing_grant": None},
    "impersonate": {"file_current": True},
    "key-file": {"file_current": True},
    "env": {"env_current": True},
    "github_env": {"github_env_current": True},
}
"""The CredentialsState fields each kind of action (Action.data["what"]) makes current."""


def env_file_current(text: str | None, values: dict[str, str], notes: dict[str, str]) -> bool:
    """The .env whose text is `text` (None: there is none) already holds exactly these
    values and notes (its mode is the owner's: see secrets.write_secret_file)."""
    return text is not None and merge_env_text(text, values, notes) == text


def key_note(name: str, etag: str, key_string: str) -> str:
    """What the .env notes above a key variable: the key, its etag when the string was written, and a
    SHA-256 prefix of the string. The etag is a checksum of the whole key resource, its string
    included, so while the key keeps that etag (not edited, not regenerated in the console) and the
    value keeps that hash (not edited by hand), the value is the key's string. A hash of a string the
    same file holds tells nobody anything new."""
    digest = hashlib.sha256(key_string.encode()).hexdigest()[:16]
    return f"is the string of {name} (etag {etag}, sha256 {digest})"


def key_string_noted_in(text: str, variable: str, name: str, etag: str) -> str | None:
    """The `variable` of .env `text`, when its note says it is the string of `name` at `etag`."""
    value = parse_env_text(text).get(variable)
    if value and parse_env_notes(text).get(variable) == key_note(name, etag, value):
        return value
    return None


def is_standard_key(value: str | None) -> bool:
    """A standard API key's string starts with AIza; an auth key's (bound to an account) with AQ."""
    return bool(value) and value.startswith("AIza")
