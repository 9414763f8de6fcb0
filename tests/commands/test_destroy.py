"""`gcp-setup apply` then `destroy` through the CLI in-process (click's CliRunner), real HTTP to the
emulator: destroy removes what apply made, keeps what others made, and a second destroy is a no-op.
Also: the API key string never reaches stdout or stderr."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.google.apikeys import ApiKeysClient
from gcp_setup.google.iam import IamClient, service_account_email, service_account_member
from gcp_setup.google.iam_policy import Binding, grant, unconditional_members
from gcp_setup.google.resourcemanager import ResourceManagerClient
from gcp_setup.google.session import GoogleSession
from gcp_setup.secrets.env_file import read_env_file

PROJECT = "destroy-test-1"
ROLE = defaults.ROLES[0]
ALICE = "user:alice@example.com"
EMAIL = service_account_email(defaults.SERVICE_ACCOUNT_ID, PROJECT)


@pytest.fixture
def env(emulator_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no gcp-setup.toml from elsewhere
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    for name in ("GITHUB_ENV", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    return emulator_env


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, [*args, "--project", PROJECT])


def apply(tmp_path, *extra: str):
    billing = OPEN_ACCOUNT.removeprefix("billingAccounts/")
    result = gcp_setup(
        "apply",
        "--create",
        "--billing-account",
        billing,
        "--env-file",
        str(tmp_path / ".env"),
        "--yes",
        *extra,
    )
    assert result.exit_code == 0, result.output
    return result


def test_apply_never_prints_the_key_and_destroy_undoes_it(env, tmp_path):
    applied = apply(tmp_path)
    key = next(
        line.split("=", 1)[1]
        for line in (tmp_path / ".env").read_text().splitlines()
        if line.startswith("GEMINI_API_KEY=")
    )
    assert key.startswith("AQ.")
    assert key not in applied.stdout and key not in applied.stderr
    shown = gcp_setup("status", "--show-secrets")
    assert shown.exit_code == 0 and key in shown.stdout  # only when asked

    session = GoogleSession.create(env.host)
    iam = IamClient(session)
    grant(iam.project_policy(PROJECT), [Binding(ROLE, ALICE)])  # someone else's grant of the same role

    plan = CliRunner().invoke(cli, ["destroy", "--project", PROJECT])  # no --yes, nobody to ask
    assert plan.exit_code == 2 and "--yes" in plan.stderr
    env.clear_requests()
    destroyed = gcp_setup("destroy", "--yes")
    assert destroyed.exit_code == 0, destroyed.output
    assert iam.get_service_account(PROJECT, EMAIL) is None
    members = unconditional_members(iam.project_policy(PROJECT).get(), ROLE)
    assert members == {ALICE}  # ours went, theirs stayed, nothing dangling
    assert ApiKeysClient(session).get(PROJECT, f"{defaults.API_KEY_ID_PREFIX}1")["deleteTime"]
    assert (tmp_path / ".env").exists()  # the user's file is not ours to delete
    assert ResourceManagerClient(session).get_project(PROJECT).state == "ACTIVE"

    env.clear_requests()
    again = gcp_setup("destroy", "--yes")
    assert again.exit_code == 0, again.output
    assert env.writes() == []

    gone = gcp_setup("destroy", "--yes", "--delete-project")
    assert gone.exit_code == 0, gone.output
    assert ResourceManagerClient(session).get_project(PROJECT).state == "DELETE_REQUESTED"
    env.clear_requests()
    assert gcp_setup("destroy", "--yes", "--delete-project").exit_code == 0
    assert env.writes() == []


def test_apply_after_destroy_binds_a_new_key_under_the_next_id(env, tmp_path):
    """destroy deleted the key with its account; the account made again is another account, so the
    old key (restorable, but bound to the old one) is not undeleted: a new one takes the next free ID."""
    apply(tmp_path)
    first_key = read_env_file(tmp_path / ".env")["GEMINI_API_KEY"]
    assert gcp_setup("destroy", "--yes").exit_code == 0
    env.clear_requests()
    apply(tmp_path)
    assert read_env_file(tmp_path / ".env")["GEMINI_API_KEY"] != first_key
    assert len([w for w in env.writes() if w["method_id"].endswith("keys.create")]) == 1
    live = [
        k["name"]
        for k in ApiKeysClient(GoogleSession.create(env.host)).list(PROJECT)
        if not k.get("deleteTime")
    ]
    assert [name.rsplit("/", 1)[-1] for name in live] == ["gemini-key-2"]


def test_destroy_keeps_an_account_gcp_setup_did_not_create(env, tmp_path):
    session = GoogleSession.create(env.host)
    billing = OPEN_ACCOUNT.removeprefix("billingAccounts/")
    assert (
        gcp_setup(
            "apply", "--create", "--billing-account", billing, "--no-service-account", "--no-api-key", "--yes"
        ).exit_code
        == 0
    )
    iam = IamClient(session)
    iam.create_service_account(PROJECT, defaults.SERVICE_ACCOUNT_ID, "made by hand", "not gcp-setup's")
    grant(iam.project_policy(PROJECT), [Binding("roles/viewer", service_account_member(EMAIL))])
    apply(tmp_path)  # adopts it and grants ROLE

    destroyed = gcp_setup("destroy", "--yes")
    assert destroyed.exit_code == 0, destroyed.output
    assert "kept" in destroyed.stdout
    assert iam.get_service_account(PROJECT, EMAIL) is not None
    policy = iam.project_policy(PROJECT).get()
    assert service_account_member(EMAIL) not in unconditional_members(policy, ROLE)
    assert service_account_member(EMAIL) in unconditional_members(policy, "roles/viewer")


def test_destroy_removes_the_key_file_it_wrote(env, tmp_path):
    key_file = tmp_path / "sa-key.json"
    apply(tmp_path, "--credentials", "key-file", "--allow-key-file", "--credentials-file", str(key_file))
    assert key_file.exists()
    assert gcp_setup("destroy", "--yes", "--credentials-file", str(key_file)).exit_code == 0
    assert not key_file.exists()


@pytest.mark.parametrize("seed", [1, 2])
def test_destroy_converges_under_faults(env, tmp_path, seed):
    apply(tmp_path)
    env.set_realism(fault_rate=0.2, seed=seed)
    destroyed = gcp_setup("destroy", "--yes")
    assert destroyed.exit_code == 0, destroyed.output
    env.set_realism(fault_rate=0)
    env.clear_requests()
    assert gcp_setup("destroy", "--yes").exit_code == 0
    assert env.writes() == []


def test_destroy_cut_off_after_any_write_is_finished_by_the_next(env, tmp_path):
    for n in (1, 2, 3):  # key delete, policy write, account delete
        apply(tmp_path)
        env.set_realism(drop_after_writes=n)
        gcp_setup("destroy", "--yes")
        env.set_realism(drop_after_writes=None)
        assert gcp_setup("destroy", "--yes").exit_code == 0
        env.clear_requests()
        assert gcp_setup("destroy", "--yes").exit_code == 0
        assert env.writes() == [], f"cut after write {n}"
