"""What the tests of gcp-setup's guarantees share (guards/, steps/teardown and secret_files, the workflow):
one project, applied through the CLI in-process, and the one `Error:` line a refused run prints."""

from __future__ import annotations

from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.google.iam import IamClient, service_account_email
from gcp_setup.google.session import GoogleSession

PROJECT = "safety-test-1"
OPEN = OPEN_ACCOUNT.removeprefix("billingAccounts/")
EMAIL = service_account_email(defaults.SERVICE_ACCOUNT_ID, PROJECT)


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def error_line(result) -> str:
    """The one `Error:` line of a refused run (stderr also has the header line)."""
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    return line


def apply(*extra: str):
    return gcp_setup("apply", "--project", PROJECT, "--create", "--billing-account", OPEN, "--yes", *extra)


def user_keys(host: str) -> list[str]:
    keys = IamClient(GoogleSession.create(host)).list_user_keys(PROJECT, EMAIL)
    return sorted(k["name"].rsplit("/", 1)[-1] for k in keys)
