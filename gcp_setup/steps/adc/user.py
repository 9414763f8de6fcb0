"""--credentials user: the person's own Application Default Credentials (`gcloud auth
application-default login`, or GOOGLE_APPLICATION_CREDENTIALS). Nothing is written; the step says the
login command when they are missing."""

from __future__ import annotations

from pathlib import Path

from gcp_setup.google.credentials import ADC_LOGIN, adc_file
from gcp_setup.steps.adc.kind import CredentialsKind
from gcp_setup.steps.base import Context


class UserCredentials(CredentialsKind):
    mode = "user"

    def observe(self, ctx: Context) -> Path | None:
        return adc_file()

    def describe(self, ctx: Context, state: Path | None) -> str:
        if state:
            return f"your own ADC ({state})"
        return f"no Application Default Credentials yet: run `{ADC_LOGIN}`"
