"""Check 1: Application Default Credentials, resolved by google-auth as every Google library does.

Reports the kind (service account key, user, impersonation, external account, metadata server), the
principal, the quota project, and refreshes a token. A missing file, an unreadable or over-shared key
file, and an expired or revoked refresh token each get their own hint.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from gcp_setup import envvars
from gcp_setup.errors import GoogleApiError
from gcp_setup.google.credentials import ADC_LOGIN as LOGIN
from gcp_setup.google.credentials import (
    REFUSED,
    adc_file,
    found_elsewhere,
    load_file,
    login_hint,
    without_quota_project,
)
from gcp_setup.google.session import GoogleSession
from gcp_setup.verify.core import CheckFailed, Skip, VerifyContext, call, first_line, is_iam_refusal

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
    with ctx.once("credentials"):
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
        raise Skip(f"no Application Default Credentials: {login_hint(bool(ctx.emulator_host))}") from exc
    ctx.adc_project = project
    ctx.adc_quota_project = getattr(credentials, "quota_project_id", None)
    # Verify bills as provisioning does (quota_projects.py): Vertex AI bills --project, not the
    # project gcloud had when the user logged in.
    credentials = GoogleSession(emulator_host=ctx.emulator_host).point(without_quota_project(credentials))
    try:
        refresh(ctx, credentials)
    except GoogleApiError as exc:
        raise CheckFailed(
            f"{kind_of(credentials)}: token refresh failed: {_first(exc)}",
            propagation_hint(ctx)
            if is_iam_refusal(exc) and ctx.just_changed
            else _refresh_hint(credentials, exc, ctx.vertex_project or "PROJECT"),
            exc.reason,
        ) from exc
    except exceptions.TransportError as exc:
        raise CheckFailed(
            f"cannot reach the token endpoint: {_first(exc)}",
            "check the network or proxy (or the emulator address)",
        ) from exc
    ctx.principal = principal_of(credentials) or token_owner(ctx, credentials)
    return credentials


def token_owner(ctx: VerifyContext, credentials: Any) -> str | None:
    """user:EMAIL of a user's token whose file names no account (gcloud's ADC files do not): Google's
    tokeninfo says. None when it cannot."""
    from gcp_setup.google.tokeninfo import TokenInfoClient

    if kind_of(credentials) != "user credentials":
        return None
    try:
        email = TokenInfoClient(
            GoogleSession(emulator_host=ctx.emulator_host, credentials=credentials)
        ).email()
    except Exception:  # the principal is a nicety of the report and of the hints
        return None
    return f"user:{email}" if email else None


def refresh(ctx: VerifyContext, credentials: Any) -> None:
    """A fresh token, under the one retry policy: right after the run changed IAM, a refusal that is
    propagation (a grant, a key or a provider not yet in effect) is waited for (core.call)."""
    from gcp_setup.google import deadline

    def attempt() -> None:
        try:
            credentials.refresh(deadline.token_request())
        except REFUSED as exc:
            raise refusal(exc) from exc

    call(ctx, "credentials", attempt)


def refusal(exc: Exception) -> GoogleApiError:
    """google-auth's RefreshError as the token endpoint's (or IAM Credentials', or STS's) refusal."""
    text = str(exc)
    if "invalid_target" in text:
        reason = "invalid_target"
    elif "IAM_PERMISSION_DENIED" in text or "iam.serviceAccounts.getAccessToken" in text:
        reason = "IAM_PERMISSION_DENIED"
    else:
        reason = "invalid_grant" if "invalid_grant" in text else "REFRESH_FAILED"
    return GoogleApiError(first_line(text, 300), code=400, reason=reason)


def propagation_hint(ctx: VerifyContext) -> str:
    """What to do when what the run just changed has not propagated within --propagation-wait."""
    return (
        f"still propagating: {', '.join(ctx.just_changed)} take effect at Google after about 2 minutes, "
        f"sometimes 7 or more (waited {ctx.propagation_wait_s:g} s); run `gcp-setup verify` again in a "
        "few minutes, or give apply a longer --propagation-wait"
    )


def _default(ctx: VerifyContext, path: str | None) -> tuple[Any, str | None]:
    """ADC as google.auth.default() finds it, from verify's environment (the .env's variables win):
    a credentials file (the environment's, --env-file's, the one `apply` just wrote, gcloud's) loaded
    as provisioning loads it (google/credentials.py), else the metadata server."""
    found = Path(path) if path else adc_file(ctx.environ)
    if found is None:
        return found_elsewhere()
    credentials, project = load_file(found)
    return credentials, ctx.environ.get(envvars.PROJECT) or project


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


def _refresh_hint(credentials: Any, exc: Exception, project: str) -> str:
    kind = kind_of(credentials)
    if "invalid_grant" in str(exc) and kind == "user credentials":
        return f"the refresh token is expired or revoked: run `{LOGIN}` again"
    if kind == "service account key":
        return (
            "the key was deleted or the service account disabled: create a new key (`gcp-setup apply "
            f"--project {project} --create`)"
        )
    if kind == "impersonated service account" and getattr(exc, "reason", "") == "IAM_PERMISSION_DENIED":
        return (
            "your account may not impersonate the service account (no roles/iam.serviceAccountTokenCreator "
            f"on it): `gcp-setup apply --project {project} --credentials impersonate` grants it"
        )
    if kind.startswith("external account"):
        return (
            "the workload identity provider refused the token: check the pool, provider and attribute mapping"
        )
    return f"run `{LOGIN}` again"


def _first(exc: BaseException) -> str:
    return first_line(str(exc), 200) or type(exc).__name__


def check(ctx: VerifyContext) -> tuple[str, str]:
    credentials = resolve(ctx)
    detail = f"{kind_of(credentials)}; principal {ctx.principal or 'unknown'}; token refreshed"
    notes = [shared_key_file_note(ctx.environ), quota_project_note(ctx)]
    return detail, "; ".join(n for n in notes if n)


def quota_project_note(ctx: VerifyContext) -> str:
    """Said when the ADC file names a quota project other than the one verify bills (--project)."""
    named = ctx.adc_quota_project
    if not named or named == ctx.vertex_project:
        return ""
    return (
        f"your ADC file names quota project {named}; verify bills {ctx.vertex_project or 'the project'} "
        "instead, as apply does (see docs/credentials.md)"
    )
