"""OIDC tokens as CI systems issue them, and the `external_account` credentials file that turns one into
Google credentials (what google-github-actions/auth writes, what a GitLab job writes), for the
Workload Identity Federation tests against the emulator."""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def github_auth_files(directory: Path, base_url: str, provider: str, email: str, repository: str) -> Path:
    """What google-github-actions/auth writes: the job's OIDC token in a file and the external_account
    credentials file that reads it and impersonates `email`. Returns the credentials file."""
    token_file = directory / "github-oidc-token"
    token_file.write_text(github_token(repository, provider))
    info = external_account_info(
        f"{base_url}/v1/token",
        f"//iam.googleapis.com/{provider}",
        token_file,
        impersonation_url(base_url, email),
    )
    (directory / "gha-creds.json").write_text(json.dumps(info))
    return directory / "gha-creds.json"


def use_credentials(monkeypatch, path: Path, project: str) -> None:
    """ADC is the credentials file at `path`, and nothing else from the machine counts."""
    for name in [n for n in os.environ if n.startswith(("GOOGLE_", "GEMINI_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", project)
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", "http://" + os.environ["GCP_SETUP_EMULATOR_HOST"] + "/")
    monkeypatch.setenv("NO_GCE_CHECK", "True")


def verify_checks(*names: str) -> dict[str, dict]:
    """`gcp-setup verify --only NAME...`'s checks, by name."""
    from click.testing import CliRunner

    from gcp_setup.cli import cli

    args = [arg for name in names for arg in ("--only", name)]
    result = CliRunner().invoke(cli, ["verify", "--format", "json", *args])
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


@dataclass(frozen=True)
class Issuer:
    """A self-managed GitLab's signing key: it signs CI ID tokens (RS256), and its public half is the
    JWK set (what GitLab serves at /oauth/discovery/keys) a provider takes inline as jwksJson."""

    url: str
    key: Any
    kid: str = "gitlab-ci-test"

    @classmethod
    def new(cls, url: str) -> Issuer:
        from cryptography.hazmat.primitives.asymmetric import rsa

        return cls(url, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()

        def b64(number: int) -> str:
            raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        key = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": b64(numbers.n),
            "e": b64(numbers.e),
        }
        return {"keys": [key]}

    def gitlab_token(self, project_path: str, audience: str, **overrides: Any) -> str:
        """A GitLab CI ID token (`id_tokens:` in .gitlab-ci.yml) with GitLab's documented claims."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": f"project_path:{project_path}:ref_type:branch:ref:main",
            "aud": audience,
            "project_path": project_path,
            "namespace_path": project_path.rsplit("/", 1)[0],
            "ref": "main",
            "ref_type": "branch",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            **overrides,
        }
        signing_input = f"{_segment({'alg': 'RS256', 'typ': 'JWT', 'kid': self.kid})}.{_segment(claims)}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + base64.urlsafe_b64encode(signature).decode().rstrip("=")


def sa_members(emu, role: str = "roles/iam.workloadIdentityUser") -> set[str]:
    """The members holding `role` on gcp-setup's service account, from the emulator's state."""
    accounts = emu.state()["backends"]["iam"]["accounts"]
    bindings = [
        b for a in accounts if a["account_id"] == defaults.SERVICE_ACCOUNT_ID for b in a["policy"]["bindings"]
    ]
    return {m for b in bindings if b["role"] == role for m in b["members"]}
