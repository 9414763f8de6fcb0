"""The service-account and API-key steps through the engine, against the emulator over real HTTP:
first run creates, second run plans nothing and sends no mutating request."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import make_identity_project, reset_keeping_the_login

from gcp_setup import defaults
from gcp_setup.engine import Engine
from gcp_setup.google.apikeys import ApiKeysClient, api_targets, key_id
from gcp_setup.google.iam import IamClient, service_account_member
from gcp_setup.google.iam_policy import Binding, grant, unconditional_members
from gcp_setup.google.session import GoogleSession
from gcp_setup.settings.config import Config
from gcp_setup.steps.api_key import ApiKeyStep
from gcp_setup.steps.base import Context, Outcome
from gcp_setup.steps.roles import RolesStep
from gcp_setup.steps.service_account import ServiceAccountStep

ROLE = defaults.ROLES[0]


@pytest.fixture
def run(emulator_env, identity_project):
    """run(mode, steps=..., **config) -> RunResult, with a fresh Context each time."""

    def run_steps(mode: str = "apply", steps=None, **settings):
        config = Config(project=identity_project, **settings)
        ctx = Context(config, GoogleSession.create(emulator_env.host))
        return Engine().run(steps or [ServiceAccountStep(), RolesStep(), ApiKeyStep()], ctx, mode)

    return run_steps


def outcomes(result) -> dict[str, Outcome]:
    return {r.name: r.outcome for r in result.results}


def test_first_apply_creates_second_changes_nothing(run, emu, identity_project):
    plan = run("plan")
    assert outcomes(plan) == {
        "service_account": Outcome.PLANNED,
        "roles": Outcome.PLANNED,
        "api_key": Outcome.PLANNED,
    }
    assert [a.kind for a in plan.by_name("service_account").actions] == ["create"]
    assert [a.kind for a in plan.by_name("roles").actions] == ["update"]
    assert emu.writes() == []

    first = run()
    assert first.ok, [(r.name, r.detail) for r in first.results]
    assert outcomes(first) == {
        "service_account": Outcome.CREATED,
        "roles": Outcome.UPDATED,
        "api_key": Outcome.CREATED,
    }
    email = f"{defaults.SERVICE_ACCOUNT_ID}@{identity_project}.iam.gserviceaccount.com"
    assert first.by_name("service_account").outputs["email"] == email

    emu.clear_requests()
    second = run()
    assert outcomes(second) == {
        "service_account": Outcome.UNCHANGED,
        "roles": Outcome.UNCHANGED,
        "api_key": Outcome.UNCHANGED,
    }
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

    result = run(steps=[ServiceAccountStep(), RolesStep()])
    assert result.by_name("service_account").outcome is Outcome.UNCHANGED  # adopted
    assert result.by_name("roles").outcome is Outcome.UPDATED  # only the role added
    members = unconditional_members(iam.project_policy(identity_project).get(), ROLE)
    assert members == {"user:alice@example.com", service_account_member(email)}
    creates = [w for w in emu.writes() if w["method_id"].endswith("serviceAccounts.create")]
    assert len(creates) == 1  # ours, by hand, above; the step made none


def test_new_account_propagation_delay_is_handled(run, emu):
    emu.set_realism(service_account_propagation_s=0.3)
    result = run(steps=[ServiceAccountStep(), RolesStep()])
    step = result.by_name("roles")
    assert step.outcome is Outcome.UPDATED and len(step.actions) == 1, step.detail


def test_extra_roles_and_disabled_step(run, identity_project):
    result = run(steps=[ServiceAccountStep(), RolesStep()], roles=(ROLE, "roles/logging.logWriter"))
    assert result.ok
    skipped = run(steps=[ServiceAccountStep(), RolesStep()], service_account=None)
    assert outcomes(skipped) == {"service_account": Outcome.SKIPPED, "roles": Outcome.SKIPPED}


def email_of(project: str) -> str:
    return f"{defaults.SERVICE_ACCOUNT_ID}@{project}.iam.gserviceaccount.com"


def key_ids(emu_keys: ApiKeysClient, project: str, deleted: bool = False) -> list[str]:
    return sorted(key_id(k) for k in emu_keys.list(project) if bool(k.get("deleteTime")) == deleted)


@pytest.fixture
def keys(emu, identity_project) -> ApiKeysClient:
    """The API Keys client of a session of its own, with the account the keys are bound to made."""
    IamClient(GoogleSession.create(emu.host)).create_service_account(
        identity_project, defaults.SERVICE_ACCOUNT_ID, "Gemini client", "test"
    )
    return ApiKeysClient(GoogleSession.create(emu.host))


def test_the_key_is_an_auth_key_bound_to_the_account(run, emu, identity_project):
    result = run()
    assert result.ok, [(r.name, r.detail) for r in result.results]
    out = result.by_name("api_key").outputs
    assert (out["key_id"], out["bound_to"], out["retire"]) == ("gemini-key-1", email_of(identity_project), [])
    (created,) = [w for w in emu.writes() if w["method_id"].endswith("keys.create")]
    assert created["path"].endswith("/keys") and "keyId=gemini-key-1" not in created["path"]  # in the query
    shown = run(steps=[ApiKeyStep()], show_secrets=True)
    assert shown.by_name("api_key").outputs["key_string"].reveal().startswith("AQ.")


def test_key_with_wrong_restriction_is_fixed(run, emu, identity_project, keys):
    made = keys.create(
        identity_project,
        "gemini-key-1",
        "by hand",
        ("aiplatform.googleapis.com",),
        email_of(identity_project),
    )
    plan = run("plan", steps=[ApiKeyStep()])
    assert [a.kind for a in plan.by_name("api_key").actions] == ["update"]
    result = run(steps=[ApiKeyStep()])
    assert result.by_name("api_key").outcome is Outcome.UPDATED
    key = keys.get(identity_project, "gemini-key-1")
    assert api_targets(key) == set(defaults.API_KEY_TARGETS)
    assert key["uid"] == made["uid"]  # the same key, not a new one
    assert str(made["keyString"]) == "***"  # the create's answer carries it, as a Secret
    assert keys.key_string(key["name"]) == made["keyString"]  # getKeyString reads the same
    assert len([r for r in emu.writes() if r["method_id"].endswith("keys.create")]) == 1


def test_a_deleted_auth_key_is_replaced_under_the_next_number(run, identity_project, keys):
    """A deleted key keeps its ID for 30 days: the replacement takes the next one, never a taken one."""
    keys.delete(
        keys.create(
            identity_project, "gemini-key-1", "old", defaults.API_KEY_TARGETS, email_of(identity_project)
        )
    )
    result = run(steps=[ApiKeyStep()])
    assert result.by_name("api_key").outcome is Outcome.CREATED, result.by_name("api_key").detail
    assert key_ids(keys, identity_project) == ["gemini-key-2"]
    assert key_ids(keys, identity_project, deleted=True) == ["gemini-key-1"]


def test_a_deleted_standard_key_is_restored_not_duplicated(run, identity_project, keys):
    keys.delete(keys.create(identity_project, defaults.API_KEY_ID, "old", defaults.API_KEY_TARGETS))
    result = run(steps=[ApiKeyStep()], api_key_type="standard")
    assert result.by_name("api_key").outcome is Outcome.UPDATED, result.by_name("api_key").detail
    assert key_ids(keys, identity_project) == [defaults.API_KEY_ID]


@pytest.mark.parametrize(
    ("existing", "bound_to", "planned"),
    [
        (
            defaults.API_KEY_ID,
            None,
            "replace standard key gemini-api-key with an auth key: create auth key gemini-key-1",
        ),
        ("gemini-key-3", "other", "replace gemini-key-3 (bound to other-account@"),
        (
            "gemini-key-1",
            None,
            "replace standard key gemini-key-1 with an auth key: create auth key gemini-key-2",
        ),
    ],
)
def test_a_key_that_is_unbound_or_bound_elsewhere_is_replaced_and_retired(
    run, identity_project, keys, existing, bound_to, planned
):
    """Only a key's creation can bind it: the replacement is a new key, the old one is left for the
    retire step, which deletes it after the smoke test."""
    account = None
    if bound_to:
        account = IamClient(keys.session).create_service_account(identity_project, "other-account", "x", "x")
    keys.create(identity_project, existing, "old", defaults.API_KEY_TARGETS, account and account["email"])
    plan = run("plan", steps=[ApiKeyStep()])
    (action,) = plan.by_name("api_key").actions
    assert action.summary.startswith(planned), action.summary
    result = run(steps=[ApiKeyStep()])
    out = result.by_name("api_key").outputs
    assert out["bound_to"] == email_of(identity_project)
    assert [n.rsplit("/", 1)[-1] for n in out["retire"]] == [existing]
    again = run(steps=[ApiKeyStep()])
    assert again.by_name("api_key").outcome is Outcome.UNCHANGED  # no second new key while the old one waits


def test_rotation_replaces_a_good_key_once(run, identity_project):
    assert run(steps=[ServiceAccountStep(), ApiKeyStep()]).ok
    rotated = run(steps=[ApiKeyStep()], rotate_key=True)
    assert (
        rotated.by_name("api_key")
        .actions[0]
        .summary.startswith("rotate gemini-key-1: create auth key gemini-key-2")
    )
    assert [n.rsplit("/", 1)[-1] for n in rotated.by_name("api_key").outputs["retire"]] == ["gemini-key-1"]
    # Cut off before the old key went, a run with --rotate-key again finishes this rotation first.
    again = run(steps=[ApiKeyStep()], rotate_key=True)
    assert again.by_name("api_key").outcome is Outcome.UNCHANGED


def test_a_create_whose_answer_was_lost_is_adopted_not_repeated(run, emu, identity_project, keys):
    """The create is retried, answered 409 (its ID is taken by the key it made), and that key adopted."""
    emu.set_realism(drop_after_writes=1)
    lost = run(steps=[ApiKeyStep()])
    assert lost.ok, lost.by_name("api_key").detail
    assert key_ids(keys, identity_project) == ["gemini-key-1"]
    emu.clear_requests()
    again = run(steps=[ApiKeyStep()])
    assert again.by_name("api_key").outcome is Outcome.UNCHANGED
    assert emu.writes() == [] and key_ids(keys, identity_project) == ["gemini-key-1"]


@pytest.mark.gcloud
def test_gcloud_made_identities_are_adopted_and_gcloud_sees_the_result(run, gcloud, emu, identity_project):
    gcloud.run("iam", "service-accounts", "create", defaults.SERVICE_ACCOUNT_ID, project=identity_project)
    email = f"{defaults.SERVICE_ACCOUNT_ID}@{identity_project}.iam.gserviceaccount.com"
    gcloud.run(
        "services",
        "api-keys",
        "create",
        "--key-id=gemini-key-1",
        f"--service-account={email}",
        "--display-name=by gcloud",
        project=identity_project,
    )
    emu.clear_requests()

    result = run()
    assert result.ok, [(r.name, r.detail) for r in result.results]
    creates = [w["method_id"] for w in emu.writes() if w["method_id"].endswith(".create")]
    assert creates == []  # both adopted; only the role grant and the key restriction were written

    assert (
        gcloud.json("iam", "service-accounts", "describe", email, project=identity_project)["email"] == email
    )
    policy = gcloud.json("projects", "get-iam-policy", identity_project)
    assert service_account_member(email) in {
        m for b in policy["bindings"] if b["role"] == ROLE for m in b["members"]
    }
    key = gcloud.json("services", "api-keys", "describe", "gemini-key-1", project=identity_project)
    assert key["serviceAccountEmail"] == email
    assert key["restrictions"]["apiTargets"] == [{"service": defaults.GENERATIVE_LANGUAGE_API}]
    assert key["displayName"] == "by gcloud"


def test_a_run_cut_off_after_any_write_is_finished_by_the_next(run, emu):
    """drop_after_writes=N: the emulator applies the N-th write, then hangs up without answering."""
    assert run().ok
    writes = len(emu.writes())
    for n in range(1, writes + 1):
        reset_keeping_the_login(emu)
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
