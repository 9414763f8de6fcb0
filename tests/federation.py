"""OIDC tokens as CI systems issue them, and the `external_account` credentials file that turns one into
Google credentials (what google-github-actions/auth writes, what a GitLab job writes), for the
Workload Identity Federation tests against the emulator."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from gcp_setup import defaults


def _segment(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def github_token(repository: str, provider: str, issuer: str = defaults.GITHUB_OIDC_ISSUER) -> str:
    """An OIDC token shaped as GitHub Actions issues them, for the audience google-github-actions/auth
    asks for (https://iam.googleapis.com/ + the provider's name). Unsigned: the emulator checks the
    claims, not the signature, of an issuer whose keys Google would fetch."""
    claims = {
        "iss": issuer,
        "sub": f"repo:{repository}:ref:refs/heads/main",
        "aud": f"https://iam.googleapis.com/{provider}",
        "repository": repository,
        "repository_owner": repository.split("/")[0],
        "ref": "refs/heads/main",
        "exp": int(time.time()) + 600,
    }
    header = {"alg": "RS256", "typ": "JWT", "kid": "github"}
    return f"{_segment(header)}.{_segment(claims)}.c2lnbmF0dXJl"


def external_account_info(
    token_url: str, audience: str, token_file: Path, impersonation_url: str | None
) -> dict:
    """An external_account credentials file whose subject token is read from `token_file`; with an
    impersonation URL the federated token then acts as that service account."""
    info = {
        "type": "external_account",
        "audience": audience,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": token_url,
        "credential_source": {"file": str(token_file)},
    }
    if impersonation_url:
        info["service_account_impersonation_url"] = impersonation_url
    return info


def impersonation_url(base_url: str, email: str) -> str:
    return f"{base_url}/v1/projects/-/serviceAccounts/{email}:generateAccessToken"
