"""The credentials step of the kind `--credentials` names (the package docstring lists them)."""

from __future__ import annotations

from gcp_setup.settings.config import Config
from gcp_setup.steps.adc.impersonation import ImpersonatedCredentials
from gcp_setup.steps.adc.key_file import KeyFileCredentials
from gcp_setup.steps.adc.kind import CredentialsKind
from gcp_setup.steps.adc.user import UserCredentials
from gcp_setup.steps.base import Step


def credentials_step(config: Config) -> Step:
    """The step of the kind `config.credentials` names."""
    kinds: dict[str, type[Step]] = {
        "user": UserCredentials,
        "impersonate": ImpersonatedCredentials,
        "key-file": KeyFileCredentials,
    }
    return kinds.get(config.credentials, CredentialsKind)()
