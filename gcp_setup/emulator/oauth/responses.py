"""Credential endpoints: the OAuth2 token endpoint (`POST /token`, `/oauth2/v4/token`), IAM Credentials
`generateAccessToken` (impersonation) and STS `POST /v1/token` (Workload Identity Federation)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.authorization import may_act_on_service_account
from gcp_setup.emulator.core.routes import ApiRequest, Reply, api_method, http_route
from gcp_setup.emulator.core.times import rfc3339
from gcp_setup.emulator.iam.models import ServiceAccountsBackend
from gcp_setup.emulator.oauth.models import (
    ACCESS_TOKEN_TYPE,
    EMAIL_SCOPES,
    GCLOUD_CLIENT_ID,
    JWT_BEARER,
    REFRESH_TOKEN,
    TOKEN_EXCHANGE,
    TOKEN_PATH,
    Grant,
    OAuthBackend,
    OAuthError,
)
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

IAM_CREDENTIALS = "iamcredentials.googleapis.com"
GET_ACCESS_TOKEN = "iam.serviceAccounts.getAccessToken"
_LIFETIME = re.compile(r"^(\d+)(?:\.\d+)?s$")


def _oauth(req: ApiRequest) -> OAuthBackend:
    return req.world.backend(OAuthBackend)


def _token_answer(req: ApiRequest, grant: Grant) -> dict[str, Any]:
    token, expires_at = _oauth(req).issue_access_token(grant)
    return {
        "access_token": token,
        "expires_in": round(expires_at - req.world.now()) - 1,  # Google answers 3599
        "token_type": "Bearer",
    }


@http_route("POST", TOKEN_PATH, "oauth2.token", kind="auth")
@http_route("POST", "/oauth2/v4/token", "oauth2.token", kind="auth")
def token(req: ApiRequest) -> dict[str, Any] | Reply:
    grant_type = req.body.get("grant_type", "")
    try:
        if grant_type == JWT_BEARER:
            grant = _oauth(req).jwt_bearer(req.body.get("assertion", ""))
        elif grant_type == REFRESH_TOKEN:
            grant = _oauth(req).refresh(req.body.get("refresh_token", ""), req.body.get("scope", ""))
        else:
            raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
    except OAuthError as exc:
        return Reply(exc.to_json(), status=exc.status)
    answer = _token_answer(req, grant)
    if grant_type == REFRESH_TOKEN and grant.scopes:
        answer["scope"] = " ".join(grant.scopes)
    return answer


@http_route("GET", "/tokeninfo", "oauth2.tokeninfo", kind="auth")
@http_route("POST", "/tokeninfo", "oauth2.tokeninfo", kind="auth")
@http_route("GET", "/oauth2/v3/tokeninfo", "oauth2.tokeninfo", kind="auth")
def tokeninfo(req: ApiRequest) -> dict[str, Any] | Reply:
    """What Google's tokeninfo says of an access token: its scopes and expiry, and its principal's
    email when the token carries an email scope (developers.google.com/identity/sign-in/web/backend-auth;
    the fields as https://oauth2.googleapis.com/tokeninfo answers them)."""
    value = req.query.get("access_token") or req.body.get("access_token", "")
    token = req.world.tokens.by_value.get(value)
    if token is None or token.expires_at < req.world.now():
        return Reply({"error": "invalid_token", "error_description": "Invalid Value"}, status=400)
    answer = {
        "azp": GCLOUD_CLIENT_ID,
        "aud": GCLOUD_CLIENT_ID,
        "sub": str(int(hashlib.sha256(token.principal.encode()).hexdigest()[:17], 16)),
        "scope": " ".join(token.scopes),
        "exp": str(int(token.expires_at)),
        "expires_in": str(max(0, int(token.expires_at - req.world.now()))),
        "access_type": "offline",
    }
    if EMAIL_SCOPES & set(token.scopes):
        answer.update(email=token.principal.split(":", 1)[-1], email_verified="true")
    return answer


@api_method("sts.v1", "sts.token", kind="auth")
def sts_token(req: ApiRequest) -> dict[str, Any] | Reply:
    """google-auth's external_account credentials send this form-encoded, in snake_case."""
    body = req.body
    try:
        if (body.get("grant_type") or body.get("grantType")) != TOKEN_EXCHANGE:
            raise OAuthError("unsupported_grant_type", 'Invalid value for "grant_type".')
        subject_token = body.get("subject_token") or body.get("subjectToken") or ""
        grant = _oauth(req).exchange(body.get("audience", ""), subject_token)
    except OAuthError as exc:
        return Reply(exc.to_json(), status=exc.status)
    return {**_token_answer(req, grant), "issued_token_type": ACCESS_TOKEN_TYPE}


def _lifetime_s(value: str | None) -> int:
    match = _LIFETIME.match(value or "3600s")
    seconds = int(match.group(1)) if match else 0
    if not 1 <= seconds <= 3600:
        raise errors.InvalidArgument(
            "The lifetime of the requested token must be between 1 second and 3600 seconds (1 hour)."
        )
    return seconds


@api_method("iamcredentials.v1", "iamcredentials.projects.serviceAccounts.generateAccessToken", kind="auth")
def generate_access_token(req: ApiRequest) -> dict[str, Any]:
    account = req.world.backend(ServiceAccountsBackend).find(req.params["serviceAccountsId"])
    if account is None:
        raise errors.iam_denied(GET_ACCESS_TOKEN)  # IAM does not reveal whether the account exists
    project = req.world.backend(ProjectsBackend).find(account.project_id)
    if project is not None:
        req.world.backend(ServicesBackend).require_enabled(project, IAM_CREDENTIALS)
    if not may_act_on_service_account(req, project, account, GET_ACCESS_TOKEN):
        raise errors.iam_denied(GET_ACCESS_TOKEN)
    if req.body.get("delegates"):
        raise errors.InvalidArgument("Delegation chains are not supported by the emulator.")
    if account.disabled:
        raise errors.FailedPrecondition("Precondition check failed.")
    scopes = tuple(req.body.get("scope") or ())
    if not scopes:
        raise errors.InvalidArgument("Scope required.")
    token_value, expires_at = _oauth(req).issue_access_token(
        Grant(account.member, scopes), lifetime_s=_lifetime_s(req.body.get("lifetime"))
    )
    # google-auth parses exactly %Y-%m-%dT%H:%M:%SZ: no fractional seconds.
    return {"accessToken": token_value, "expireTime": rfc3339(expires_at, whole_seconds=True)}
