"""Check 1: Application Default Credentials, resolved by google-auth as every Google library does.

Reports the kind (service account key, user, impersonation, external account, metadata server), the
principal, the quota project, and refreshes a token. A missing file, an unreadable or over-shared key
file, and an expired or revoked refresh token each get their own hint.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path
from typing import Any

from gcp_setup import envvars
from gcp_setup.verify.core import CheckFailed, Skip, VerifyContext, first_line

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
LOGIN = "gcloud auth application-default login"

_KINDS = (  # (module prefix of the credentials class, what to call it)
    ("google.oauth2.service_account", "service account key"),
    ("google.auth.impersonated_credentials", "impersonated service account"),
    ("google.oauth2.credentials", "user credentials"),
    ("google.auth.identity_pool", "external account (Workload Identity Federation)"),
    ("google.auth.aws", "external account (Workload Identity Federation, AWS)"),
    ("google.auth.pluggable", "external account (Workload Identity Federation, executable)"),
    ("google.auth.external_account", "external account (Workload Identity Federation)"),
    ("google.auth.compute_engine", "metadata server"),
)


def kind_of(credentials: Any) -> str:
    module = type(credentials).__module__
    return next((label for prefix, label in _KINDS if module.startswith(prefix)), type(credentials).__name__)


def principal_of(credentials: Any) -> str | None:
    """The IAM member the credentials act as, when they say."""
    email = getattr(credentials, "service_account_email", None)
    if email and "@" in email:
        return f"serviceAccount:{email}"
    account = getattr(credentials, "account", None)
    if account and "@" in account:
        return f"user:{account}"
    return federated_pool(credentials)


def federated_pool(credentials: Any) -> str | None:
    """An external account without impersonation acts as an identity of its workload identity pool: the
    member that names them all (principalSet://iam.googleapis.com/projects/N/.../workloadIdentityPools/P/*)."""
    info = getattr(credentials, "info", None)
    audience = info.get("audience", "") if isinstance(info, dict) else ""
    pool, found, _ = audience.removeprefix("//iam.googleapis.com/").partition("/providers/")
    if not found or "/workloadIdentityPools/" not in pool:
        return None
    return f"principalSet://iam.googleapis.com/{pool}/*"


def resolve(ctx: VerifyContext) -> Any:
    """ADC with a fresh token, kept on the context for the Vertex checks; raises Skip or CheckFailed."""
    if ctx.credentials is not None:
        return ctx.credentials
    if ctx.credentials_error is not None:
        raise ctx.credentials_error
    try:
        ctx.credentials = _load_and_refresh(ctx)
    except (Skip, CheckFailed) as exc:
        ctx.credentials_error = exc
        raise
    return ctx.credentials


def _load_and_refresh(ctx: VerifyContext) -> Any:
    from google.auth import exceptions

    from gcp_setup.google import deadline

    path = ctx.environ.get(envvars.CREDENTIALS)
    if path:
        _check_file(Path(path))
    try:
        credentials, project = _default(ctx, path)
    except exceptions.DefaultCredentialsError as exc:
        if path:
            raise CheckFailed(
                f"{envvars.CREDENTIALS}={path} cannot be used: {_first(exc)}",
                f"point {envvars.CREDENTIALS} at a valid key or ADC file, or unset it",
            ) from exc
        if ctx.emulator_host:  # a user login cannot point at the emulator; its key files can
            raise Skip(
                "no Application Default Credentials: on the emulator, run apply with "
                "--credentials key-file --allow-key-file (or set GOOGLE_APPLICATION_CREDENTIALS to "
                "a key file it issued)"
            ) from exc
        raise Skip(
            f"no Application Default Credentials: run `{LOGIN}`, or set {envvars.CREDENTIALS}"
        ) from exc
    ctx.adc_project = project
    try:
        credentials.refresh(deadline.token_request())
    except exceptions.RefreshError as exc:
        raise CheckFailed(
            f"{kind_of(credentials)}: token refresh failed: {_first(exc)}",
            _refresh_hint(credentials, exc),
            "invalid_grant" if "invalid_grant" in str(exc) else "REFRESH_FAILED",
        ) from exc
    except exceptions.TransportError as exc:
        raise CheckFailed(
            f"cannot reach the token endpoint: {_first(exc)}",
            "check the network or proxy (or the emulator address)",
        ) from exc
    ctx.principal = principal_of(credentials)
    return credentials


def _default(ctx: VerifyContext, path: str | None) -> tuple[Any, str | None]:
    """ADC as google.auth.default() finds it. A credentials file (the environment's, --env-file's, or
    the one `apply` just wrote) is loaded as its first rule loads it, but without its project lookup:
    for an external account with no GOOGLE_CLOUD_PROJECT, default() asks Cloud Resource Manager at
    Google's own address, which neither the emulator nor verify's --project would change."""
    import google.auth
    import google.auth.credentials

    if path:
        with warnings.catch_warnings():  # as google.auth.default does: the file is the user's own choice
            warnings.simplefilter("ignore", DeprecationWarning)
            credentials, project = google.auth.load_credentials_from_file(path)  # unscoped: no lookup
        scoped = google.auth.credentials.with_scopes_if_required(credentials, [SCOPE])
        return scoped, ctx.environ.get(envvars.PROJECT) or project
    return google.auth.default(scopes=[SCOPE])


def _check_file(path: Path) -> None:
    if not path.exists():
        raise CheckFailed(
            f"{envvars.CREDENTIALS} names {path}, which does not exist",
            f"point {envvars.CREDENTIALS} at your key or ADC file, or unset it and run `{LOGIN}`",
            "FILE_NOT_FOUND",
        )
    if not os.access(path, os.R_OK):
        raise CheckFailed(
            f"cannot read {path} (permission denied)",
            f"make it readable by this user only: chmod 600 {path} (as its owner)",
            "FILE_UNREADABLE",
        )


def shared_key_file_note(environ: dict[str, str] | Any) -> str:
    """A note when the credentials file can be read by other users (it holds a private key or token)."""
    path = environ.get(envvars.CREDENTIALS)
    if not path or not Path(path).exists():
        return ""
    mode = stat.S_IMODE(Path(path).stat().st_mode)
    if mode & 0o077:
        return f"{path} is readable by other users (mode {mode:o}): chmod 600 {path}"
    return ""


def _refresh_hint(credentials: Any, exc: Exception) -> str:
    kind = kind_of(credentials)
    if "invalid_grant" in str(exc) and kind == "user credentials":
        return f"the refresh token is expired or revoked: run `{LOGIN}` again"
    if kind == "service account key":
        return "the key was deleted or the service account disabled: create a new key (gcp-setup apply)"
    if kind.startswith("external account"):
        return (
            "the workload identity provider refused the token: check the pool, provider and attribute mapping"
        )
    return f"run `{LOGIN}` again"


def _first(exc: BaseException) -> str:
    return first_line(str(exc), 200) or type(exc).__name__


def check(ctx: VerifyContext) -> tuple[str, str]:
    credentials = resolve(ctx)
    quota = getattr(credentials, "quota_project_id", None)
    detail = (
        f"{kind_of(credentials)}; principal {ctx.principal or 'unknown'}; "
        f"quota project {quota or '-'}; token refreshed"
    )
    notes = [shared_key_file_note(ctx.environ)]
    if kind_of(credentials) == "user credentials" and not quota:
        notes.append(
            f"no quota project: gcloud auth application-default set-quota-project "
            f"{ctx.vertex_project or 'PROJECT'}"
        )
    return detail, "; ".join(n for n in notes if n)
