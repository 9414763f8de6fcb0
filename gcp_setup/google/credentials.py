"""Whose credentials gcp-setup's requests carry: Application Default Credentials, found and refreshed by
google-auth as every Google library finds them, with or without the emulator.

The endpoint seam for credentials is here and nowhere else. google-auth sends an `authorized_user`
refresh to Google's token endpoint whatever the file says (it ignores `token_uri`), and an impersonation
to Google's IAM Credentials endpoint whatever the file's `service_account_impersonation_url` says.
`pointed_at` sets both to the session's endpoints (Google's own URLs on Google, the emulator's on the
emulator), so the same code runs on both paths. Service-account key files and `external_account` files
keep the token URLs they name.

The quota project is not the credentials' own: `without_quota_project` strips the one an ADC file names
(or GOOGLE_CLOUD_QUOTA_PROJECT sets), and quota_projects.py decides per API which project a request bills.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gcp_setup import envvars
from gcp_setup.errors import GcpSetupError
from gcp_setup.google.deadline import timed_out, token_request
from gcp_setup.settings.config import gcloud_config_dir

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
ADC_LOGIN = "gcloud auth application-default login"
EMULATOR_LOGIN = "gcp-setup emulator --adc-file FILE"
IMPERSONATION_PATH = "/v1/projects/-/serviceAccounts/{email}:generateAccessToken"


class LoginNeeded(GcpSetupError):
    """No credentials, or credentials Google no longer takes (expired, revoked, reauth needed)."""


def login_hint(emulator: bool) -> str:
    """How to get credentials: gcloud's login on Google; the emulator issues them itself."""
    if emulator:
        return f"run `{EMULATOR_LOGIN}` and set {envvars.CREDENTIALS}=FILE (or `{ADC_LOGIN}` on Google)"
    return f"run `{ADC_LOGIN}`, or set {envvars.CREDENTIALS} to a key file"


def adc_file(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The ADC file google.auth.default() would load: GOOGLE_APPLICATION_CREDENTIALS, else the one
    `gcloud auth application-default login` writes, when it exists."""
    named = environ.get(envvars.CREDENTIALS)
    if named:
        return Path(named)
    well_known = gcloud_config_dir(environ) / "application_default_credentials.json"
    return well_known if well_known.is_file() else None


def load_file(path: Path) -> tuple[Any, str | None]:
    """(credentials, project) from a credentials file, as google.auth.default()'s first rule loads it
    (cloud-platform for the kinds that need a scope) but without its project lookup: for gcloud's file
    that runs `gcloud config config-helper` (a second or so, and gcp-setup runs no gcloud), for an
    external account it asks Resource Manager at Google's address; gcp-setup always knows its project."""
    import google.auth
    import google.auth.credentials

    with _quietly():
        credentials, project = google.auth.load_credentials_from_file(str(path))
    # Only the kinds that need scopes get one: a user's refresh then asks for no narrower scope than the
    # login granted (its token keeps the email scope tokeninfo needs).
    return google.auth.credentials.with_scopes_if_required(credentials, [CLOUD_PLATFORM_SCOPE]), project


def found_elsewhere() -> tuple[Any, str | None]:
    """google.auth.default() where no credentials file is found: the metadata server (or
    DefaultCredentialsError)."""
    import google.auth

    with _quietly():
        return google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])


@contextmanager
def _quietly() -> Iterator[None]:
    """Without google-auth's two warnings: DeprecationWarning on loading a file (as default() does: the
    user chose the file), and "without a quota project" (gcp-setup chooses one per API)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def application_default(token_uri: str, iam_credentials_url: str, emulator: bool) -> Any:
    """The caller's ADC without a quota project, pointed at these endpoints: the file adc_file() names
    (load_file), else the metadata server. None found is one line naming the login, not google-auth's
    paragraph."""
    from google.auth.exceptions import DefaultCredentialsError

    if emulator:  # the emulator serves no metadata server: google-auth must not probe for one
        os.environ.setdefault("NO_GCE_CHECK", "True")
    path = adc_file()
    try:
        if path is not None:
            credentials, _ = load_file(path)
        else:
            credentials, _ = found_elsewhere()
    except DefaultCredentialsError as exc:
        if path is not None:
            raise LoginNeeded(
                f"{envvars.CREDENTIALS}={path} cannot be used: {_first_line(exc)}",
                hint=f"point {envvars.CREDENTIALS} at a valid key or ADC file, or unset it",
            ) from exc
        raise LoginNeeded(
            "no Application Default Credentials found, so Google cannot tell who you are",
            hint=login_hint(emulator),
        ) from exc
    return pointed_at(without_quota_project(credentials), token_uri, iam_credentials_url)


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def without_quota_project(credentials: Any) -> Any:
    """`credentials` billing no project of their own (quota_projects.py adds the header per API)."""
    if getattr(credentials, "quota_project_id", None) and hasattr(credentials, "with_quota_project"):
        return credentials.with_quota_project(None)
    return credentials


def pointed_at(credentials: Any, token_uri: str, iam_credentials_url: str) -> Any:
    """The seam: a user's refresh goes to `token_uri`, an impersonation to `iam_credentials_url` (the
    base URL of IAM Credentials); every other kind as its file says."""
    from google.auth import impersonated_credentials
    from google.oauth2 import credentials as user_credentials

    if isinstance(credentials, user_credentials.Credentials):
        return credentials.with_token_uri(token_uri)
    if isinstance(credentials, impersonated_credentials.Credentials):
        target = credentials.service_account_email
        return impersonated_credentials.Credentials(
            source_credentials=without_quota_project(
                pointed_at(credentials._source_credentials, token_uri, iam_credentials_url)
            ),
            target_principal=target,
            target_scopes=credentials._target_scopes or [CLOUD_PLATFORM_SCOPE],
            delegates=credentials._delegates,
            quota_project_id=credentials.quota_project_id,
            iam_endpoint_override=iam_credentials_url + IMPERSONATION_PATH.format(email=target),
        )
    return credentials


def _refused() -> tuple[type[Exception], ...]:
    from google.auth.exceptions import OAuthError, RefreshError

    return (RefreshError, OAuthError)


REFUSED: tuple[type[Exception], ...] = _refused()
"""google-auth's refusals of a refresh: RefreshError (the token endpoint, IAM Credentials) and
OAuthError (STS, for Workload Identity Federation)."""


def refresh(credentials: Any, emulator: bool) -> None:
    """A fresh token for `credentials`. A refused refresh is one line naming the login; a token endpoint
    that does not answer in time is deadline.NoAnswer, as for any other request."""
    from google.auth.exceptions import TransportError

    try:
        credentials.refresh(token_request())
    except REFUSED as exc:
        raise refresh_failed(exc, emulator) from exc
    except TransportError as exc:
        no_answer = timed_out(exc.__cause__ or exc)
        if no_answer is None:
            raise
        raise no_answer from exc


def refresh_failed(exc: BaseException, emulator: bool) -> LoginNeeded:
    """One line for google-auth's RefreshError (an expired or revoked login, a reauth, a deleted key)."""
    text = str(exc)
    if re.search(r"<(?:!doctype|html|body)\b", text, re.IGNORECASE):
        return LoginNeeded(
            "the token endpoint answered with a web page, not a Google API error",
            hint="check that the address (--emulator-host) is a Google API or gcp-setup's emulator",
        )
    if "invalid_grant" in text or "reauth" in text.lower() or "expired or revoked" in text:
        what = "your login has expired or was revoked"
    else:
        what = "Google refused to refresh your credentials"
    return LoginNeeded(f"{what} ({_first_line(exc)})", hint=login_hint(emulator))
