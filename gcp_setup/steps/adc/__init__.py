"""How local code authenticates: Application Default Credentials, one step per kind (as google-auth has
one module per credential kind). Whatever its kind the step is named `credentials`; `credentials_step`
picks the kind `--credentials` names:

- user (user.py): the person's own ADC; nothing is written.
- impersonate (impersonation.py): Token Creator on the service account, and an impersonated ADC file.
- key-file (key_file.py): a service-account key file (only with --allow-key-file).
- none: nothing.

Every kind publishes `mode`, and `credentials_file` when it writes one (what GOOGLE_APPLICATION_CREDENTIALS
names in the .env).
"""

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
