"""Concurrent applies: 2, then 5, `gcp-setup apply` processes started together on one project with the
same key file and .env. Every one exits 0, and there is one account, one API key and one service-account
key, the one the key file holds: the runs take turns on the secret files (gcp_setup/guards/locks.py), and the
API's own 409s make the project, the account and the API key once."""

from __future__ import annotations

import pytest
from reliability_kit import MARKS, run_cli, secret_values, secrets_in, tally

from gcp_setup import defaults
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.google.iam import IamClient, key_id_of_file, service_account_email
from gcp_setup.google.session import GoogleSession

PROJECT = "concurrent-1"

pytestmark = MARKS


@pytest.mark.parametrize("runs", [2, 5])
def test_concurrent_applies_make_one_of_everything(provision_env, world, clean_config, runs):
    key_file = clean_config / "sa-key.json"
    args = (
        *("apply", "--project", PROJECT, "--create", "--yes"),
        *("--billing-account", OPEN_ACCOUNT.removeprefix("billingAccounts/")),
        *("--credentials", "key-file", "--allow-key-file", "--credentials-file", str(key_file)),
        *("--env-file", str(clean_config / ".env")),
    )
    processes = [run_cli(provision_env, clean_config, *args) for _ in range(runs)]
    answers = [p.communicate(timeout=300) for p in processes]
    codes = [p.returncode for p in processes]

    email = service_account_email(defaults.SERVICE_ACCOUNT_ID, PROJECT)
    keys = IamClient(GoogleSession.create(provision_env.host)).list_user_keys(PROJECT, email)
    backends = provision_env.state()["backends"]
    outputs = [text for answer in answers for text in answer]
    secrets = secret_values(provision_env.state(), world, [key_file])
    found = secrets_in(outputs, secrets)
    tally.add("concurrent", runs=runs, exit_0=codes.count(0), extra_keys=len(keys) - 1)
    tally.add("secrets", streams=len(outputs), secrets_known=len(secrets), found=found)
    assert codes == [0] * runs, outputs
    assert [k["name"].rsplit("/", 1)[-1] for k in keys] == [key_id_of_file(key_file.read_bytes())]
    assert len(backends["iam"]["accounts"]) == 1 and len(backends["apikeys"]["keys"]) == 1
    assert found == 0
