"""The checks of the CI settings (gcp_setup/settings/table.py's table names them): the GitHub repository and
GitLab project a Workload Identity provider is pinned to, the GitLab issuer and its inline keys, and
--github-env, which only means something inside GitHub Actions. Each refuses what Google or the CI
system would, with a one-line message naming the fix."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from gcp_setup import defaults, envvars
from gcp_setup.errors import UsageError

_GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}$")
"""GitHub's rules: owner 1-39 letters, digits or hyphens (not first); repository letters, digits, _ . -"""
_GITLAB_PROJECT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$")
"""GitLab's path rules: a group (and subgroups) and a project, each letters, digits, _ . - (not first)."""


def check_github_repo(repository: str | None) -> str | None:
    if repository is not None and (
        not _GITHUB_REPO.match(repository) or repository.split("/")[1] in (".", "..")
    ):
        raise UsageError(f"GitHub repository {repository!r} is not OWNER/REPO; e.g. --github-repo octo/app")
    return repository


def check_gitlab_project(path: str | None) -> str | None:
    if path is not None and (not _GITLAB_PROJECT.match(path) or len(path) > 255):
        raise UsageError(f"GitLab project {path!r} is not GROUP/PROJECT; e.g. --gitlab-project my-group/app")
    return path


def check_gitlab_issuer(url: str | None) -> str:
    url = (url or defaults.GITLAB_OIDC_ISSUER).rstrip("/")
    if not re.match(r"^https://[^\s/]+(?:/[^\s]*)?$", url):
        raise UsageError(
            f"GitLab issuer {url!r} is not an https URL; e.g. --gitlab-issuer https://gitlab.example.com"
        )
    return url


def check_gitlab_jwks(value: str | Path | None) -> Path | None:
    """The file must hold a JWK set ({"keys": [...]}), as GitLab serves it at /oauth/discovery/keys."""
    if not value:
        return None
    path = Path(value)
    fix = "save your GitLab's https://HOST/oauth/discovery/keys answer there"
    try:
        keys = json.loads(Path(path).read_text()).get("keys")
    except (OSError, ValueError, AttributeError) as exc:
        raise UsageError(f"--gitlab-jwks {path}: not a readable JSON key set ({exc}); {fix}") from None
    if not keys or not all(isinstance(k, dict) and k.get("kty") in ("RSA", "EC") for k in keys):
        raise UsageError(f'--gitlab-jwks {path}: no RSA or EC keys in its "keys"; {fix}')
    return path


def check_github_env(wanted: bool) -> bool:
    """--github-env needs the runner's $GITHUB_ENV file: outside GitHub Actions it would do nothing."""
    in_actions = os.environ.get(envvars.GITHUB_ACTIONS) == "true" and os.environ.get(envvars.GITHUB_ENV)
    if wanted and not in_actions:
        raise UsageError(
            "--github-env works only inside GitHub Actions (GITHUB_ACTIONS=true, $GITHUB_ENV set); "
            "drop it, or write a .env with --env-file FILE"
        )
    return wanted
