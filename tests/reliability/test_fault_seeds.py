"""Fault seeds: a whole apply (key file, .env, and its smoke test) against an emulator that answers a
share of requests with 429, 500 or 503 (rate 0.05 to 0.5), with propagation delays and slow operations,
from 100 seeds. Converged: within 4 runs apply exits 0 with the smoke test passing, and the next run
without faults changes nothing, with exactly one account, one API key and one service-account key (the
one the key file holds), no temp file and no note of an unfinished key creation left."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from reliability_kit import MARKS, secret_values, secrets_in, tally

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.google.iam import IamClient, key_id_of_file, service_account_email
from gcp_setup.google.session import GoogleSession

PROJECT = "fault-seed-1"
RATES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
SEEDS = range(100)
ATTEMPTS = 4

pytestmark = MARKS


@pytest.fixture
def home(provision_env, clean_config, monkeypatch):
    monkeypatch.setenv("HOME", str(clean_config))
    monkeypatch.setenv("GCP_SETUP_VERIFY", "true")
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    return clean_config


@pytest.mark.parametrize("seed", SEEDS)
def test_apply_converges_under_faults(provision_env, world, home, seed):
    key_file = home / "sa-key.json"
    args = [
        *("apply", "--project", PROJECT, "--create", "--yes"),
        *("--billing-account", OPEN_ACCOUNT.removeprefix("billingAccounts/")),
        *("--credentials", "key-file", "--allow-key-file", "--credentials-file", str(key_file)),
        *("--env-file", str(home / ".env")),
    ]
    rate = RATES[seed % len(RATES)]
    provision_env.set_realism(
        fault_rate=rate,
        seed=seed,
        operation_polls=1,
        service_account_propagation_s=0.05,
        service_enable_propagation_s=0.05,
    )
    outputs = []
    for _ in range(ATTEMPTS):
        faulted = CliRunner().invoke(cli, [*args, "--format", "json"])
        outputs += [faulted.stdout, faulted.stderr]
        steps = json.loads(faulted.stdout)["steps"] if faulted.stdout.startswith("{") else []
        if steps and all(s["outcome"] != "failed" for s in steps):
            break
    provision_env.set_realism(fault_rate=0)
    provision_env.clear_requests()
    final = CliRunner().invoke(cli, ["--verbosity", "debug", *args])
    outputs += [final.stdout, final.stderr]

    email = service_account_email(defaults.SERVICE_ACCOUNT_ID, PROJECT)
    keys = IamClient(GoogleSession.create(provision_env.host)).list_user_keys(PROJECT, email)
    backends = provision_env.state()["backends"]
    leftovers = sorted(p.name for p in home.iterdir() if p.name.endswith((".tmp", ".creating")))
    converged = (
        final.exit_code == 0
        and provision_env.writes() == []
        and len(backends["iam"]["accounts"]) == 1
        and len(backends["apikeys"]["keys"]) == 1
        and [k["name"].rsplit("/", 1)[-1] for k in keys] == [key_id_of_file(key_file.read_bytes())]
        and leftovers == []
    )
    secrets = secret_values(provision_env.state(), world, [key_file])
    found = secrets_in(outputs, secrets)
    tally.add("faults", seeds=1, converged=int(converged))
    tally.add("secrets", streams=len(outputs), secrets_known=len(secrets), found=found)
    if not converged:
        print(faulted.output, final.output, leftovers)
    assert converged
    assert found == 0
