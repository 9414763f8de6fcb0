"""The CI systems whose jobs gcp-setup lets act as the service account with no key (Workload Identity
Federation): GitHub Actions (--github-repo OWNER/REPO) and GitLab CI (--gitlab-project GROUP/PROJECT,
with --gitlab-issuer and --gitlab-jwks for a self-managed instance). Each has a pool and an OIDC provider
of its own, a condition pinning the one repository or project (both issuers are shared by every
customer), and a principalSet binding on the account. steps/workload_identity.py sets them up; the
Terraform module does the same with the same values (tests/terraform/test_parity.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcp_setup import defaults
from gcp_setup.google.workload_identity import pool_principal_set

STS_URL = "https://sts.googleapis.com/v1/token"
IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com/v1"


@dataclass(frozen=True)
class Federation:
    step: str
    label: str
    setting: str
    """The Config field naming the repository or project (github_repo, gitlab_project)."""
    flag: str
    pool_id: str
    pool_display_name: str
    provider_id: str
    provider_display_name: str
    attribute: str
    """The claim, mapped to attribute.<name>, that the condition and the principalSet pin."""
    mapping: Mapping[str, str]
    condition: Callable[[str], str]
    default_issuer: str
    issuer_setting: str | None = None
    jwks_setting: str | None = None

    def subject(self, config: Any) -> str | None:
        subject: str | None = getattr(config, self.setting)
        return subject

    def issuer(self, config: Any) -> str:
        return (getattr(config, self.issuer_setting) if self.issuer_setting else None) or self.default_issuer

    def jwks(self, config: Any) -> str | None:
        """The issuer's signing keys, inline (oidc.jwksJson), compact: for an issuer Google cannot reach."""
        path = getattr(config, self.jwks_setting) if self.jwks_setting else None
        return json.dumps(json.loads(Path(path).read_text()), separators=(",", ":")) if path else None

    def member(self, project_number: str, subject: str) -> str:
        return f"{pool_principal_set(project_number, self.pool_id)}/attribute.{self.attribute}/{subject}"


GITHUB = Federation(
    step="workload_identity",
    label="GitHub Actions",
    setting="github_repo",
    flag="--github-repo",
    pool_id=defaults.WORKLOAD_IDENTITY_POOL_ID,
    pool_display_name=defaults.WORKLOAD_IDENTITY_POOL_DISPLAY_NAME,
    provider_id=defaults.WORKLOAD_IDENTITY_PROVIDER_ID,
    provider_display_name=defaults.WORKLOAD_IDENTITY_PROVIDER_DISPLAY_NAME,
    attribute="repository",
    mapping=defaults.GITHUB_ATTRIBUTE_MAPPING,
    condition=defaults.github_attribute_condition,
    default_issuer=defaults.GITHUB_OIDC_ISSUER,
)
GITLAB = Federation(
    step="gitlab_identity",
    label="GitLab CI",
    setting="gitlab_project",
    flag="--gitlab-project",
    pool_id=defaults.GITLAB_POOL_ID,
    pool_display_name=defaults.GITLAB_POOL_DISPLAY_NAME,
    provider_id=defaults.GITLAB_PROVIDER_ID,
    provider_display_name=defaults.GITLAB_PROVIDER_DISPLAY_NAME,
    attribute="project_path",
    mapping=defaults.GITLAB_ATTRIBUTE_MAPPING,
    condition=defaults.gitlab_attribute_condition,
    default_issuer=defaults.GITLAB_OIDC_ISSUER,
    issuer_setting="gitlab_issuer",
    jwks_setting="gitlab_jwks",
)
FEDERATIONS = (GITHUB, GITLAB)


def github_actions_snippet(outputs: dict[str, Any]) -> str:
    """The workflow step that authenticates as the service account (what `apply` prints in human mode)."""
    return (
        "GitHub Actions: authenticate with no key (the job needs `permissions: id-token: write`):\n"
        "  - uses: google-github-actions/auth@v2\n"
        "    with:\n"
        f"      workload_identity_provider: {outputs['workload_identity_provider']}\n"
        f"      service_account: {outputs['service_account']}"
    )


def gitlab_credentials(provider: str, service_account: str, token_file: str) -> dict[str, Any]:
    """The external_account credential configuration a GitLab job hands google-auth: STS exchanges the
    job's ID token (read from `token_file`) and the federated token impersonates the account."""
    return {
        "type": "external_account",
        "audience": f"//iam.googleapis.com/{provider}",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": STS_URL,
        "credential_source": {"file": token_file},
        "service_account_impersonation_url": (
            f"{IAM_CREDENTIALS_URL}/projects/-/serviceAccounts/{service_account}:generateAccessToken"
        ),
    }


GITLAB_CREDENTIALS_LINE = (
    "printf '"
    + json.dumps(gitlab_credentials("%s", "%s", "%s"), separators=(",", ":"))
    + '\' "$GCP_WIF_PROVIDER" "$CI_BUILDS_DIR/gcp-oidc-token" "$GCP_SERVICE_ACCOUNT"'
    + ' > "$GOOGLE_APPLICATION_CREDENTIALS"'
)
"""The script line that writes the credential configuration (docs/ci.md's recipe has it too)."""


def gitlab_ci_snippet(outputs: dict[str, Any]) -> str:
    """The .gitlab-ci.yml job that authenticates as the service account: an ID token whose audience is
    the provider (its default allowed audience: https://iam.googleapis.com/ + its name), written to a
    file, and the credential configuration pointing at it, as GOOGLE_APPLICATION_CREDENTIALS."""
    provider = outputs["workload_identity_provider"]
    return (
        "GitLab CI: authenticate with no key (.gitlab-ci.yml):\n"
        "  gemini-job:\n"
        "    id_tokens:\n"
        "      GCP_OIDC_TOKEN:\n"
        f"        aud: https://iam.googleapis.com/{provider}\n"
        "    variables:\n"
        f"      GOOGLE_CLOUD_PROJECT: {outputs['project_id']}\n"
        f"      GCP_WIF_PROVIDER: {provider}\n"
        f"      GCP_SERVICE_ACCOUNT: {outputs['service_account']}\n"
        "    script:\n"
        '      - printf %s "$GCP_OIDC_TOKEN" > "$CI_BUILDS_DIR/gcp-oidc-token"\n'
        '      - export GOOGLE_APPLICATION_CREDENTIALS="$CI_BUILDS_DIR/gcp-credentials.json"\n'
        f"      - {GITLAB_CREDENTIALS_LINE}\n"
        "      - gcp-setup verify --only credentials --only vertex"
    )
