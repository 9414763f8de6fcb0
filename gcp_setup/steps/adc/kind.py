"""What every kind of credentials shares: the step's name, where it runs, what it publishes, and where a
kind that writes a file writes it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

from gcp_setup import defaults
from gcp_setup.settings.config import Config, gcloud_config_dir
from gcp_setup.steps.base import Action, Context, Step, StepInputError
from gcp_setup.steps.service_account import account_email

FILE_MODES = ("impersonate", "key-file")
"""Credential modes that write a credentials file (and GOOGLE_APPLICATION_CREDENTIALS)."""


def gcloud_adc_path() -> Path:
    """Where `gcloud auth application-default login` writes the user's ADC."""
    return gcloud_config_dir(os.environ) / "application_default_credentials.json"


def credentials_file(config: Config, mode: str | None = None) -> Path:
    """Where `mode` (default: the configured one) writes its JSON: --credentials-file, else per project
    and account under ~/.config/gcp-setup/."""
    if config.credentials_file is not None:
        return Path(config.credentials_file).expanduser()
    suffix = "impersonated.json" if (mode or config.credentials) == "impersonate" else "key.json"
    account = config.service_account or defaults.SERVICE_ACCOUNT_ID
    return Path.home() / ".config" / "gcp-setup" / config.project / f"{account}-{suffix}"


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] | None = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return None


class CredentialsKind(Step):
    """What every kind shares: its name, where it runs, what it publishes."""

    name = "credentials"
    depends_on: ClassVar[tuple[str, ...]] = ("services", "service_account")
    reads = {"services": ("enabled_now",)}
    mode = "none"

    def observe(self, ctx: Context) -> Any:
        return None

    def plan(self, ctx: Context, state: Any) -> list[Action]:
        return []

    def describe(self, ctx: Context, state: Any) -> str:
        return "no credentials configured"

    def outputs(self, ctx: Context, state: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.mode in FILE_MODES:
            out["credentials_file"] = str(credentials_file(ctx.config).resolve())
            out["service_account"] = account_email(ctx)
        return out

    @staticmethod
    def require_service_account(ctx: Context) -> None:
        if ctx.config.service_account is None:
            raise StepInputError(
                f"--credentials {ctx.config.credentials} needs the service account",
                hint="drop --no-service-account, or use --credentials user",
            )
