"""--credentials user: the person's own Application Default Credentials (`gcloud auth
application-default login`). Nothing is written; the step says the login command when they are missing."""

from __future__ import annotations

import os
from pathlib import Path

from gcp_setup import envvars
from gcp_setup.steps.adc import ADC_LOGIN, CredentialsKind, found_adc
from gcp_setup.steps.base import Context


class UserCredentials(CredentialsKind):
    mode = "user"

    def observe(self, ctx: Context) -> Path | None:
        return found_adc()

    def describe(self, ctx: Context, state: Path | None) -> str:
        if ctx.session.is_emulator:
            return "your own ADC (not needed with the emulator)"
        if os.environ.get(envvars.CREDENTIALS) or state:
            return f"your own ADC ({os.environ.get(envvars.CREDENTIALS) or state})"
        return f"no Application Default Credentials yet: run `{ADC_LOGIN}`"
