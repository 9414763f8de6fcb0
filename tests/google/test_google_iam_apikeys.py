"""The IAM, IAM-policy and API Keys clients against the emulator, through real HTTP."""

from __future__ import annotations

import pytest

from gcp_setup import defaults
from gcp_setup.errors import GoogleApiError
from gcp_setup.google.apikeys import ApiKeysClient, api_targets
from gcp_setup.google.iam import IamClient, KeyCreationBlocked, key_id_of_file, service_account_member
from gcp_setup.google.iam_policy import Binding, PolicyTarget, grant, revoke, unconditional_members
from gcp_setup.google.session import GoogleSession

ROLE = "roles/aiplatform.user"
ALICE = "user:alice@example.com"


@pytest.fixture
def session(emulator_env) -> GoogleSession:
    return GoogleSession.create(emulator_env.host)


@pytest.fixture
def iam(session) -> IamClient:
    return IamClient(session)


def new_account(iam: IamClient, project: str, account_id: str = "gemini-client") -> str:
    return iam.create_service_account(project, account_id, "Gemini client", "test")["email"]


def test_create_service_account_twice_adopts_the_first(iam, identity_project, emu):
    first = iam.create_service_account(identity_project, "gemini-client", "Gemini client", "test")
    second = iam.create_service_account(identity_project, "gemini-client", "Gemini client", "test")
    assert first["email"] == second["email"] == f"gemini-client@{identity_project}.iam.gserviceaccount.com"
    assert len(emu.writes()) == 1
    assert iam.get_service_account(identity_project, "nobody-here@x.iam.gserviceaccount.com") is None


def test_grant_keeps_other_members_and_writes_nothing_when_present(iam, identity_project, emu):
    email = new_account(iam, identity_project)
    target = iam.project_policy(identity_project)
    grant(target, [Binding("roles/viewer", ALICE), Binding(ROLE, ALICE)])
    ours = Binding(ROLE, service_account_member(email))

    assert grant(target, [ours]) == [ours]
    policy = target.get()
    assert unconditional_members(policy, ROLE) == {ALICE, ours.member}
    assert ALICE in unconditional_members(policy, "roles/viewer")
    assert "user:developer@example.com" in unconditional_members(policy, "roles/owner")

    emu.clear_requests()
    assert grant(target, [ours]) == []
    assert emu.writes() == []


def test_stale_etag_is_read_again_and_both_changes_survive(iam, identity_project, emu):
    email = new_account(iam, identity_project)
    real = iam.project_policy(identity_project)
    raced = []

    def get_then_someone_else_writes():
        policy = real.get()
        if not raced:  # another admin changes the policy between our read and our write
            raced.append(grant(iam.project_policy(identity_project), [Binding("roles/viewer", ALICE)]))
        return policy

    target = PolicyTarget("project", get_then_someone_else_writes, real.set, sleep=lambda s: None)
    grant(target, [Binding(ROLE, service_account_member(email))])

    policy = real.get()
    assert ALICE in unconditional_members(policy, "roles/viewer")
    assert service_account_member(email) in unconditional_members(policy, ROLE)
    aborted = [r for r in emu.requests() if r["path"].endswith(":setIamPolicy") and r["status"] == 409]
    assert len(aborted) == 1


def test_new_service_account_propagation_is_waited_out(iam, identity_project, emu):
    """The grant's backoff sleeps move the emulator's clock instead of the test's: the account
    propagates after 30 s of waiting, however fast or busy the machine."""
    emu.set_realism(service_account_propagation_s=30)
    email = new_account(iam, identity_project)
    target = iam.project_policy(identity_project)
    target.sleep = emu.advance_clock
    grant(target, [Binding(ROLE, service_account_member(email))])
    refused = [r for r in emu.requests() if r["path"].endswith(":setIamPolicy") and r["status"] == 400]
    assert refused, "the emulator should have answered 'does not exist' at first"
    assert service_account_member(email) in unconditional_members(
        iam.project_policy(identity_project).get(), ROLE
    )


def test_unknown_member_is_not_retried_forever(iam, identity_project):
    target = iam.project_policy(identity_project)
    target.sleep = lambda s: None
    ghost = service_account_member(f"ghost-account@{identity_project}.iam.gserviceaccount.com")
    with pytest.raises(GoogleApiError, match="does not exist"):
        grant(target, [Binding(ROLE, ghost)], new_member_wait_s=1.0)


def test_revoke_removes_only_the_named_bindings(iam, identity_project, emu):
    email = new_account(iam, identity_project)
    ours = Binding(ROLE, service_account_member(email))
    target = iam.project_policy(identity_project)
    grant(target, [ours, Binding(ROLE, ALICE)])
    assert revoke(target, [ours]) == [ours]
    assert unconditional_members(target.get(), ROLE) == {ALICE}
    emu.clear_requests()
    assert revoke(target, [ours]) == []
    assert emu.writes() == []


def test_service_account_policy_and_delete(iam, identity_project):
    email = new_account(iam, identity_project)
    target = iam.service_account_policy(identity_project, email)
    creator = Binding("roles/iam.serviceAccountTokenCreator", ALICE)
    assert grant(target, [creator]) == [creator]
    assert ALICE in unconditional_members(target.get(), creator.role)
    assert iam.delete_service_account(identity_project, email) is True
    assert iam.delete_service_account(identity_project, email) is False


def test_key_file_is_created_and_listed(iam, identity_project):
    email = new_account(iam, identity_project)
    name, data = iam.create_key_file(identity_project, email)
    key_id = key_id_of_file(data)
    assert key_id and name.endswith(f"/keys/{key_id}")
    assert [k["name"] for k in iam.list_user_keys(identity_project, email)] == [name]


def test_key_file_refused_under_the_org_policy(iam, identity_project, emu):
    email = new_account(iam, identity_project)
    emu.set_org_policies(disable_service_account_key_creation=True)
    with pytest.raises(KeyCreationBlocked):
        iam.create_key_file(identity_project, email)


def test_api_key_lifecycle(session, identity_project, emu):
    keys = ApiKeysClient(session)
    key_id = defaults.API_KEY_ID
    assert keys.get(identity_project, key_id) is None

    created = keys.create(identity_project, key_id, "Gemini", ("aiplatform.googleapis.com",))
    # The creation's answer carries the key string, as a Secret that nothing prints.
    assert created["keyString"].reveal().startswith("AIza") and str(created["keyString"]) == "***"
    again = keys.create(identity_project, key_id, "Gemini", ("aiplatform.googleapis.com",))
    assert again["uid"] == created["uid"] and "keyString" not in again  # adopted, not duplicated

    fixed = keys.set_restrictions(keys.get(identity_project, key_id), defaults.API_KEY_TARGETS)
    assert api_targets(fixed) == set(defaults.API_KEY_TARGETS)
    assert fixed["displayName"] == "Gemini"
    emu.clear_requests()
    assert ApiKeysClient(GoogleSession.create(emu.host)).key_string(fixed["name"]) == created["keyString"]
    assert [r["method_id"] for r in emu.requests() if r["kind"] != "auth"] == [
        "apikeys.projects.locations.keys.getKeyString"
    ]

    keys.delete(fixed)
    deleted = keys.get(identity_project, key_id)
    assert deleted is not None and deleted.get("deleteTime")
    restored = keys.undelete(deleted)
    assert not restored.get("deleteTime")
