"""What every verify check shares: its result, the context it runs in, timing, and the one way Google
calls are made: through the one retry policy (google/retry.py), errors from google-genai and openai
coming out as GoogleApiError.

Secrets (the API key, access tokens) live in the context only; nothing here formats them into text.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from gcp_setup import defaults, envvars
from gcp_setup.errors import GoogleApiError
from gcp_setup.google.errors import as_google_api_error
from gcp_setup.secrets.secret import Secret

log = logging.getLogger(__name__)
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
T = TypeVar("T")


@dataclass
class CheckResult:
    name: str
    title: str
    status: str
    """passed | failed | skipped"""
    latency_ms: int = 0
    detail: str = ""
    """What the check saw (kind of credentials, model, token counts)."""
    hint: str = ""
    """One line: the fix when failed, the reason when skipped, a note when passed."""
    reason: str = ""
    """Google's ErrorInfo reason (or status) of the failure."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Skip(Exception):
    """A check's prerequisite is absent; the message says which."""


class CheckFailed(Exception):
    """A check found a problem that is not a Google error; `hint` says the fix."""

    def __init__(self, message: str, hint: str, reason: str = "") -> None:
        super().__init__(message)
        self.hint = hint
        self.reason = reason


def _no_resolver(ctx: VerifyContext) -> Any:
    raise Skip("no credentials: this verify was given no way to find them")


@dataclass
class VerifyContext:
    emulator_host: str | None
    project: str | None
    location: str
    model: str | None
    generate: bool
    api_key_env: str | None
    """Name of the variable the API key came from (the value is never shown)."""
    api_key: Secret | None = field(default=None, repr=False)
    propagation_wait_s: float = 90.0
    just_changed: tuple[str, ...] = ()
    """What the run before this smoke test changed in IAM (a role grant, a key, an identity pool), said
    in words: Google's IAM answers refusals while such a change propagates, which are waited for then."""
    say: Callable[[str], None] = lambda message: None
    on_check: Callable[[CheckResult], None] | None = None
    """Told each check's result as it finishes (apply's smoke test shows a line per check)."""
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)
    credentials: Any = field(default=None, repr=False)
    credentials_error: Exception | None = field(default=None, repr=False)
    adc_project: str | None = None
    adc_quota_project: str | None = None
    """The quota project the ADC file names (verify bills --project instead)."""
    principal: str | None = None
    """IAM member of the ADC principal, e.g. serviceAccount:x@p.iam.gserviceaccount.com."""
    models: list[Any] | None = None
    """verify.models.ModelInfo from models.list, once listed."""
    express_key: Secret | None = field(default=None, repr=False)
    """The Vertex AI express mode key (VERTEX_EXPRESS_API_KEY, or the one apply made)."""
    key_infos: dict[str, Any] = field(default_factory=dict, repr=False)
    """key string -> verify.keys.KeyInfo, once known (apply's smoke test fills it: it made the keys)."""
    vertex_waits: str | None = None
    """Why the Agent Platform (Vertex AI) checks are skipped: apply set up a project without billing."""
    env_file: str | None = None
    """The .env verify read (--env-file): its hints that need the key name it too."""
    resolve_credentials: Callable[[VerifyContext], Any] = field(default=_no_resolver, repr=False)
    """How ADC is found and refreshed (verify/credentials.py `resolve`), given by whoever makes the
    context: core, which every check imports, imports none of them."""
    _session: Any = field(default=None, repr=False)
    clients: dict[str, Any] = field(default_factory=dict, repr=False)
    """Client objects reused across checks (each costs an SSL context)."""
    _locks: dict[str, threading.RLock] = field(default_factory=dict, repr=False)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def once(self, what: str) -> threading.RLock:
        """The lock under which the lazy field `what` (the credentials, models.list, a client) is
        computed: the checks run at once, and the first to ask computes it while the others wait."""
        with self._locks_guard:
            return self._locks.setdefault(what, threading.RLock())

    @property
    def emulator_url(self) -> str | None:
        return f"http://{self.emulator_host}" if self.emulator_host else None

    @property
    def vertex_project(self) -> str | None:
        return self.project or self.adc_project

    def secrets(self) -> list[str]:
        """Values that must never appear in output: the key and any token the credentials hold."""
        keys = [key.reveal() for key in (self.api_key, self.express_key) if key]
        values = [*keys, getattr(self.credentials, "token", None)]
        names = (envvars.GOOGLE_API_KEY, envvars.GEMINI_API_KEY, envvars.VERTEX_EXPRESS_API_KEY)
        values += [self.environ.get(name) for name in names]
        return [v for v in values if v]

    def session(self) -> Any:
        """The GoogleSession of verify's own API reads, with the credentials the credentials check
        resolved (raises Skip or CheckFailed as it does when there are none)."""
        credentials = self.resolve_credentials(self)  # under its own lock, never under the session's
        with self.once("session"):
            if self._session is None:
                from gcp_setup.google.session import GoogleSession

                self._session = GoogleSession(emulator_host=self.emulator_host, credentials=credentials)
            return self._session

    def models_command(self) -> str:
        """`gcp-setup models` with what finds the same key (a hint runs as printed)."""
        return "gcp-setup models" + (f" --env-file {self.env_file}" if self.env_file else "")

    def gemini_openai_base_url(self) -> str:
        if self.emulator_url:
            return f"{self.emulator_url}/v1beta/openai/"
        return defaults.GEMINI_OPENAI_BASE_URL

    def vertex_openai_base_url(self) -> str:
        """Host aiplatform.googleapis.com for location global, else {location}-aiplatform.googleapis.com."""
        host = (
            "aiplatform.googleapis.com"
            if self.location == "global"
            else f"{self.location}-aiplatform.googleapis.com"
        )
        base = self.emulator_url or f"https://{host}"
        return f"{base}/v1/projects/{self.vertex_project}/locations/{self.location}/endpoints/openapi"


def api_key_from_env(environ: Mapping[str, str], name: str | None) -> tuple[str | None, Secret | None]:
    """(variable name, key) from `name`, else GOOGLE_API_KEY, else GEMINI_API_KEY (google-genai's order)."""
    for candidate in (name,) if name else (envvars.GOOGLE_API_KEY, envvars.GEMINI_API_KEY):
        value = (environ.get(candidate) or "").strip()
        if value:
            return candidate, Secret(value)
    return name, None


def call(ctx: VerifyContext, what: str, fn: Callable[[], T]) -> T:
    """Run one Google call under the retry policy (google/retry.py), as provisioning does: transient
    answers are retried within its budget, and two kinds of answer are propagation, waited for (saying
    so) for at most ctx.propagation_wait_s: SERVICE_DISABLED for an API that Service Usage reports
    ENABLED (asked once per call: the answer stays ENABLED while the API propagates), and an IAM
    refusal right after the run changed IAM (ctx.just_changed)."""
    from gcp_setup.google import retry

    asked: list[float | None] = []

    def enabled_since(error: GoogleApiError) -> float | None:
        if not asked:
            asked.append(time.monotonic() if enabled_in_service_usage(ctx, error) else None)
        return asked[0]

    enabled = retry.service_enabled_recently(enabled_since, ctx.propagation_wait_s)
    return retry.call(fn, waits=lambda e: enabled(e) or iam_propagating(ctx, e), on_retry=saying(ctx, what))


def iam_propagating(ctx: VerifyContext, error: GoogleApiError) -> float | None:
    """How long an IAM refusal is worth waiting for: ctx.propagation_wait_s right after the run changed
    IAM, else None (a refusal then is the answer)."""
    return ctx.propagation_wait_s if ctx.just_changed and is_iam_refusal(error) else None


IAM_REFUSALS = frozenset({"IAM_PERMISSION_DENIED", "invalid_target"})
"""Google's refusals while a grant or a Workload Identity provider propagates: a permission not yet in
effect, an STS audience not yet known."""
NEW_KEY_REFUSAL = "Invalid JWT Signature"
"""The token endpoint's invalid_grant for a key not yet usable (or deleted)."""


def is_iam_refusal(error: GoogleApiError) -> bool:
    return (
        error.reason in IAM_REFUSALS
        or (error.reason == "invalid_grant" and NEW_KEY_REFUSAL in str(error))
        or (error.code == 403 and not error.reason)
    )


def saying(ctx: VerifyContext, what: str) -> Callable[[BaseException, float], None]:
    """retry.call's on_retry for `what`: a line for each propagation wait, the log for the rest."""
    from gcp_setup.google import retry

    def say(error: BaseException, delay: float) -> None:
        if isinstance(error, GoogleApiError) and error.reason == retry.SERVICE_DISABLED:
            service = error.metadata.get("service", "the API")
            ctx.say(
                f"{what}: {service} was enabled recently and is still propagating; retrying in {delay:.1f}s"
            )
        elif isinstance(error, GoogleApiError) and iam_propagating(ctx, error) is not None:
            changes = ", ".join(ctx.just_changed)
            ctx.say(f"{what}: still propagating at Google ({changes}, just now); retrying in {delay:.1f}s")
        else:
            log.info("%s: retrying in %.2fs after %s", what, delay, error)

    return say


def enabled_in_service_usage(ctx: VerifyContext, error: GoogleApiError) -> bool:
    """Whether Service Usage already reports the service ENABLED in the consumer project of `error`."""
    from gcp_setup.google.serviceusage import ENABLED, ServiceUsageClient

    consumer, service = error.metadata.get("consumer"), error.metadata.get("service")
    if not consumer or not service:
        return False
    try:
        return ServiceUsageClient(ctx.session()).state(f"{consumer}/services/{service}") == ENABLED
    except Exception:  # no permission to look, or no credentials: do not wait on a guess
        return False


def run_check(
    name: str, title: str, body: Callable[[], tuple[str, str]], diagnose: Callable[..., str]
) -> CheckResult:
    """Time `body` (which returns detail and note) and turn its outcome into a CheckResult."""
    start = time.monotonic()

    def result(status: str, detail: str = "", hint: str = "", reason: str = "") -> CheckResult:
        latency = int((time.monotonic() - start) * 1000)
        return CheckResult(name, title, status, latency, detail, hint, reason)

    try:
        detail, note = body()
        return result(PASSED, detail, note)
    except Skip as exc:
        return result(SKIPPED, hint=str(exc))
    except CheckFailed as exc:
        return result(FAILED, str(exc), exc.hint, exc.reason)
    except Exception as exc:
        error = as_google_api_error(exc)
        if error is not None:
            return result(
                FAILED,
                f"{error.code} {error.status}: {first_line(str(error))}",
                diagnose(error),
                error.reason or error.status,
            )
        return result(FAILED, f"{type(exc).__name__}: {first_line(str(exc))}", connection_hint(exc))


def first_line(text: str, limit: int = 300) -> str:
    return (text.strip().splitlines() or [""])[0][:limit]


def connection_hint(exc: BaseException) -> str:
    from gcp_setup.google.errors import is_refused

    name = type(exc).__name__
    if is_refused(exc):
        return "the connection was refused: nothing listens there; start `gcp-setup emulator` at that address"
    if "Connect" in name or "Timeout" in name or isinstance(exc, ConnectionError | TimeoutError):
        return "cannot reach the endpoint: check the network, proxy settings or the emulator address"
    return "unexpected error; rerun with --verbosity debug for details"


# Shapes of secrets that may reach a log before the context knows their value (a token in a token
# endpoint's answer): Google API keys, OAuth2 access tokens, and JSON fields that carry credentials.
_SECRET_SHAPES = (
    (re.compile(r"AIza[0-9A-Za-z_\-]{35}"), "***"),
    (re.compile(r"\b[A-Z]Q\.[0-9A-Za-z_\-]{20,}"), "***"),  # auth keys: AQ. and IQ. seen
    (re.compile(r"ya29\.[0-9A-Za-z_\-.]+"), "***"),
    (
        re.compile(
            r"([\"'](?:access_token|refresh_token|id_token|assertion|private_key|keyString)[\"']\s*:\s*[\"'])"
            r"[^\"']+"
        ),
        r"\1***",
    ),
)


def redact_all(text: str, secrets: list[str]) -> str:
    """`text` without any of `secrets`, and without anything shaped like a key or token."""
    for secret in secrets:
        text = text.replace(secret, "***")
    for shape, replacement in _SECRET_SHAPES:
        text = shape.sub(replacement, text)
    return text


class _RedactSecrets(logging.Filter):
    def __init__(self, vctx: VerifyContext) -> None:
        super().__init__()
        self.vctx = vctx

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_all(message, self.vctx.secrets())
        if clean != message:
            record.msg, record.args = clean, ()
        return True


@contextmanager
def secrets_kept_out_of_logs(vctx: VerifyContext) -> Iterator[None]:
    """Every log handler drops key strings and tokens, at any verbosity (client libraries log requests)."""
    handlers = logging.getLogger().handlers
    redactor = _RedactSecrets(vctx)
    for handler in handlers:
        handler.addFilter(redactor)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(redactor)
