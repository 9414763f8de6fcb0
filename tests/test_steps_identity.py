"""The service-account and API-key steps through the engine, against the emulator over real HTTP:
first run creates, second run plans nothing and sends no mutating request."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import make_identity_project

from gcp_setup import defaults
from gcp_setup.config import Config
from gcp_setup.engine import Engine
from gcp_setup.google.apikeys import ApiKeysClient, api_targets
from gcp_setup.google.iam import IamClient, service_account_member
from gcp_setup.google.iam_policy import Binding, grant, unconditional_members
from gcp_setup.google.session import GoogleSession
from gcp_setup.steps.api_key import ApiKeyStep
from gcp_setup.steps.base import Context, Outcome
from gcp_setup.steps.service_account import ServiceAccountStep

ROLE = defaults.ROLES[0]


@pytest.fixture
def run(emulator_env, identity_project):
    """run(mode, steps=..., **config) -> RunResult, with a fresh Context each time."""

    def run_steps(mode: str = "apply", steps=None, **settings):
        config = Config(project=identity_project, **settings)
        ctx = Context(config, GoogleSession.create(emulator_env.host))
        return Engine().run(steps or [ServiceAccountStep(), ApiKeyStep()], ctx, mode)

    return run_steps


def outcomes(result) -> dict[str, Outcome]:
    return {r.name: r.outcome for r in result.results}


def test_first_apply_creates_second_changes_nothing(run, emu, identity_project):
    plan = run("plan")
    assert outcomes(plan) == {"service_account": Outcome.PLANNED, "api_key": Outcome.PLANNED}
    assert [a.kind for a in plan.by_name("service_account").actions] == ["create", "update"]
    assert emu.writes() == []

    first = run()
    assert first.ok, [(r.name, r.detail) for r in first.results]
    # creating the account and granting its role is one "created"
    assert outcomes(first) == {"service_account": Outcome.CREATED, "api_key": Outcome.CREATED}
    email = f"{defaults.SERVICE_ACCOUNT_ID}@{identity_project}.iam.gserviceaccount.com"
    assert first.by_name("service_account").outputs["email"] == email

    emu.clear_requests()
    second = run()
    assert outcomes(second) == {"service_account": Outcome.UNCHANGED, "api_key": Outcome.UNCHANGED}
    assert emu.writes() == []
    reads = [r for r in emu.requests() if r["kind"] == "read"]
    assert len(reads) == 3, [r["path"] for r in reads]  # the account, the project policy, the key


def test_existing_account_is_adopted_and_other_bindings_survive(run, emu, identity_project):
    session = GoogleSession.create(emu.host)
    iam = IamClient(session)
    email = iam.create_service_account(identity_project, defaults.SERVICE_ACCOUNT_ID, "made by hand", "")[
        "email"
    ]
    grant(iam.project_policy(identity_project), [Binding(ROLE, "user:alice@example.com")])

    result = run(steps=[ServiceAccountStep()])
    assert result.by_name("service_account").outcome is Outcome.UPDATED  # adopted; only the role added
    members = unconditional_members(iam.project_policy(identity_project).get(), ROLE)
    assert members == {"user:alice@example.com", service_account_member(email)}
    creates = [w for w in emu.writes() if w["method_id"].endswith("serviceAccounts.create")]
    assert len(creates) == 1  # ours, by hand, above; the step made none


def test_new_account_propagation_delay_is_handled(run, emu):
    emu.set_realism(service_account_propagation_s=0.3)
    result = run(steps=[ServiceAccountStep()])
    step = result.by_name("service_account")
    assert step.outcome is Outcome.CREATED and len(step.actions) == 2, step.detail


def test_extra_roles_and_disabled_step(run, identity_project):
    result = run(steps=[ServiceAccountStep()], roles=(ROLE, "roles/logging.logWriter"))
    assert result.ok
    skipped = run(steps=[ServiceAccountStep()], service_account=None)
    assert skipped.by_name("service_account").outcome is Outcome.SKIPPED


def test_key_with_wrong_restriction_is_fixed(run, emu, identity_project):
    keys = ApiKeysClient(GoogleSession.create(emu.host))
    made = keys.create(identity_project, defaults.API_KEY_ID, "by hand", ("aiplatform.googleapis.com",))

    plan = run("plan", steps=[ApiKeyStep()])
    assert [a.kind for a in plan.by_name("api_key").actions] == ["update"]
    result = run(steps=[ApiKeyStep()])
    assert result.by_name("api_key").outcome is Outcome.UPDATED
    key = keys.get(identity_project, defaults.API_KEY_ID)
    assert api_targets(key) == set(defaults.API_KEY_TARGETS)
    assert key["uid"] == made["uid"]  # the same key, not a new one
    assert "keyString" not in made  # the create's answer carried it: kept by the session, not in the key
    fresh = ApiKeysClient(GoogleSession.create(emu.host))  # a session that kept nothing: getKeyString
    assert fresh.key_string(key) == keys.session.key_strings[made["name"]]
    listed = [r for r in emu.writes() if r["method_id"].endswith("keys.create")]
    assert len(listed) == 1


def test_deleted_key_is_restored_not_duplicated(run, emu, identity_project):
    keys = ApiKeysClient(GoogleSession.create(emu.host))
    keys.delete(keys.create(identity_project, defaults.API_KEY_ID, "old", defaults.API_KEY_TARGETS))
    result = run(steps=[ApiKeyStep()])
    assert result.by_name("api_key").outcome is Outcome.UPDATED, result.by_name("api_key").detail
    assert not keys.get(identity_project, defaults.API_KEY_ID).get("deleteTime")


def test_key_string_only_in_outputs_with_show_secrets(run, identity_project):
    hidden = run(steps=[ApiKeyStep()])
    assert "key_string" not in hidden.by_name("api_key").outputs
    shown = run(steps=[ApiKeyStep()], show_secrets=True)
    assert shown.by_name("api_key").outputs["key_string"].startswith("AIza")


@pytest.mark.gcloud
def test_gcloud_made_identities_are_adopted_and_gcloud_sees_the_result(run, gcloud, emu, identity_project):
    gcloud.run("iam", "service-accounts", "create", defaults.SERVICE_ACCOUNT_ID, project=identity_project)
    gcloud.run(
        "services",
        "api-keys",
        "create",
        f"--key-id={defaults.API_KEY_ID}",
        "--display-name=by gcloud",
        project=identity_project,
    )
    emu.clear_requests()

    result = run()
    assert result.ok, [(r.name, r.detail) for r in result.results]
    creates = [w["method_id"] for w in emu.writes() if w["method_id"].endswith(".create")]
    assert creates == []  # both adopted; only the role grant and the key restriction were written

    email = f"{defaults.SERVICE_ACCOUNT_ID}@{identity_project}.iam.gserviceaccount.com"
    assert (
        gcloud.json("iam", "service-accounts", "describe", email, project=identity_project)["email"] == email
    )
    policy = gcloud.json("projects", "get-iam-policy", identity_project)
    assert service_account_member(email) in {
        m for b in policy["bindings"] if b["role"] == ROLE for m in b["members"]
    }
    key = gcloud.json("services", "api-keys", "describe", defaults.API_KEY_ID, project=identity_project)
    assert key["restrictions"]["apiTargets"] == [{"service": defaults.GENERATIVE_LANGUAGE_API}]
    assert key["displayName"] == "by gcloud"


def test_a_run_cut_off_after_any_write_is_finished_by_the_next(run, emu):
    """drop_after_writes=N: the emulator applies the N-th write, then hangs up without answering."""
    assert run().ok
    writes = len(emu.writes())
    for n in range(1, writes + 1):
        emu.reset()
        make_identity_project(emu)
        emu.set_realism(drop_after_writes=n)
        run()  # may fail, or recover by itself; either way the next run must finish the job
        emu.set_realism(drop_after_writes=None)
        assert run().ok, f"cut after write {n}"
        made = Counter(
            w["method_id"].rsplit(".", 2)[-2] for w in emu.writes() if w["method_id"].endswith(".create")
        )
        assert made == {"serviceAccounts": 1, "keys": 1}, f"cut after write {n}: {made}"
        emu.clear_requests()
        assert run().ok and emu.writes() == [], f"cut after write {n}: a third run still changed things"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_converges_under_faults_and_propagation(run, emu, seed):
    emu.set_realism(fault_rate=0.2, seed=seed, service_account_propagation_s=0.2, operation_polls=1)
    first = run()
    assert first.ok, [(r.name, r.detail) for r in first.results]
    emu.set_realism(fault_rate=0)
    emu.clear_requests()
    assert {r.outcome for r in run().results} == {Outcome.UNCHANGED}
    assert emu.writes() == []
