"""setIamPolicy's rules (cloudresourcemanager v1 discovery: setIamPolicy and Policy.version), each refused
as Google refuses it, through every client, and the policy left as it was."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fidelity.kit import (
    from_api_core,
    from_gcloud,
    from_http_error,
    get_policy,
    scenario,
    set_policy,
    with_binding,
)
from fidelity.target import Answer, Target

CONDITION = {"title": "until 2030", "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")'}


def _rules(t: Target, project: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Rule -> (binding added, top-level changes)."""
    viewer = {"role": "roles/browser", "members": [t.other_user]}
    return {
        "unknown-role": ({"role": "roles/notarole", "members": [t.other_user]}, {}),
        "custom-role": ({"role": f"projects/{project}/roles/noSuchRole", "members": [t.other_user]}, {}),
        "user-owner": ({"role": "roles/owner", "members": [t.other_user]}, {}),
        "all-users": ({"role": "roles/viewer", "members": ["allUsers"]}, {}),
        "all-authenticated-users": ({"role": "roles/viewer", "members": ["allAuthenticatedUsers"]}, {}),
        "condition-version-1": ({**viewer, "condition": CONDITION}, {"version": 1}),
        "condition-no-version": ({**viewer, "condition": CONDITION}, {}),
        "condition-no-title": ({**viewer, "condition": {"expression": "true"}}, {"version": 3}),
        "condition-not-cel": (
            {**viewer, "condition": {"title": "x", "expression": "this is not cel"}},
            {"version": 3},
        ),
        "condition-empty": ({**viewer, "condition": {"title": "x", "expression": ""}}, {"version": 3}),
    }


EXPECTED = {
    "unknown-role": ("3.unknown-role", "Role roles/notarole is not supported for this resource."),
    "custom-role": ("3.custom-role", "does not exist in the resource's hierarchy."),
    "user-owner": ("3.user-owner", "Request contains an invalid argument."),
    "all-users": ("3.all-users", "Request contains an invalid argument."),
    "all-authenticated-users": ("3.all-users", "Request contains an invalid argument."),
    "condition-version-1": ("3.condition-version", "Request contains an invalid argument."),
    "condition-no-version": ("3.condition-version", "Request contains an invalid argument."),
    "condition-no-title": ("3.condition-syntax", "Request contains an invalid argument."),
    "condition-not-cel": ("3.condition-syntax", "Request contains an invalid argument."),
    "condition-empty": ("3.condition-syntax", "Request contains an invalid argument."),
}


def _refused(t: Target, project: str, before: dict[str, Any], answer: Answer, rule: str, snapshot) -> None:
    assert answer.status == 400 and answer.error["status"] == "INVALID_ARGUMENT", answer.body
    assert EXPECTED[rule][1] in answer.error["message"]
    if rule == "user-owner":
        assert answer.error["details"][0]["type"] == "SOLO_MUST_INVITE_OWNERS"
    after = get_policy(t, project).body
    assert after == before, "a refused setIamPolicy changed the policy"
    snapshot.match("answer", answer.shape())


def _params(client: str) -> list[Any]:
    return [pytest.param(rule, marks=scenario(client, EXPECTED[rule][0]), id=rule) for rule in EXPECTED]


@pytest.mark.parametrize("rule", _params("http"))
@pytest.mark.parametrize("api", ["v1", "v3"])
def test_http_set_iam_policy_refuses(t: Target, snapshot, rule: str, api: str) -> None:
    project = t.new_project()
    before = get_policy(t, project).body
    binding, changes = _rules(t, project)[rule]
    answer = set_policy(t, project, with_binding(before, binding, **changes), api=api)
    _refused(t, project, before, answer, rule, snapshot)


@pytest.mark.parametrize("rule", _params("discovery"))
def test_discovery_set_iam_policy_refuses(t: Target, snapshot, rule: str) -> None:
    from googleapiclient.errors import HttpError

    project = t.new_project()
    crm = t.discovery("cloudresourcemanager", "v1")
    before = (
        crm.projects()
        .getIamPolicy(resource=project, body={"options": {"requestedPolicyVersion": 3}})
        .execute()
    )
    binding, changes = _rules(t, project)[rule]
    with pytest.raises(HttpError) as refused:
        body = {"policy": with_binding(before, binding, **changes)}
        crm.projects().setIamPolicy(resource=project, body=body).execute()
    _refused(t, project, before, from_http_error(refused.value), rule, snapshot)


@pytest.mark.parametrize("rule", _params("cloud-client"))
def test_cloud_client_set_iam_policy_refuses(t: Target, snapshot, rule: str) -> None:
    from google.api_core import exceptions
    from google.cloud import resourcemanager_v3
    from google.iam.v1 import policy_pb2
    from google.protobuf import json_format

    project = t.new_project()
    client = resourcemanager_v3.ProjectsClient(**t.cloud_client_options())
    before = get_policy(t, project).body
    binding, changes = _rules(t, project)[rule]
    policy = json_format.ParseDict(with_binding(before, binding, **changes), policy_pb2.Policy())
    with pytest.raises(exceptions.GoogleAPICallError) as refused:
        client.set_iam_policy(request={"resource": f"projects/{project}", "policy": policy})
    _refused(t, project, before, from_api_core(refused.value), rule, snapshot)


@scenario("http", "3.last-owner")
@pytest.mark.parametrize("api", ["v1", "v3"])
def test_removing_every_owner_is_refused(t: Target, snapshot, api: str) -> None:
    project = t.new_project()
    before = get_policy(t, project).body
    viewer_only = {"bindings": [{"role": "roles/viewer", "members": [t.other_user]}], "etag": before["etag"]}
    answer = set_policy(t, project, viewer_only, api=api)
    assert answer.status == 400 and answer.error["status"] == "INVALID_ARGUMENT"
    assert get_policy(t, project).body == before
    snapshot.match("answer", answer.shape())


@scenario("http", "3.numeric-role")
@pytest.mark.parametrize(
    "bindings", [[{"role": 5, "members": ["user:x@example.com"]}], [5], [{"role": "123"}]]
)
def test_a_numeric_role_is_a_400_and_the_policy_stays(t: Target, snapshot, bindings: list[Any]) -> None:
    project = t.new_project()
    before = get_policy(t, project).body
    answer = set_policy(t, project, {"bindings": bindings, "etag": before["etag"]})
    after = get_policy(t, project).body
    assert answer.status == 400 and answer.error["status"] == "INVALID_ARGUMENT"
    assert after == before
    assert t.call("GET", "cloudresourcemanager", f"v1/projects/{project}").status == 200  # not locked out
    snapshot.match("answer", answer.shape())


@scenario("http", "3.numeric-role")
def test_an_empty_bindings_list_keeps_the_project_reachable(t: Target, snapshot) -> None:
    """A policy with no owner left is the last-owner rule's case: refused, so the project stays reachable."""
    project = t.new_project()
    before = get_policy(t, project).body
    answer = set_policy(t, project, {"bindings": [], "etag": before["etag"]})
    assert answer.status == 400 and get_policy(t, project).body == before
    snapshot.match("answer", answer.shape())


GCLOUD_BINDINGS = {
    "unknown-role": ("3.unknown-role", "roles/notarole", None),
    "all-users": ("3.all-users", "roles/viewer", "allUsers"),
    "user-owner": ("3.user-owner", "roles/owner", None),
}


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=scenario("gcloud", w), id=c) for c, (w, _, _) in GCLOUD_BINDINGS.items()]
)
def test_gcloud_add_binding_is_refused(t: Target, snapshot, case: str) -> None:
    _, role, member = GCLOUD_BINDINGS[case]
    project = t.new_project()
    command = ("projects", "add-iam-policy-binding", project, f"--member={member or t.other_user}")
    printed = from_gcloud(t.gcloud(*command, f"--role={role}"))
    assert printed["exit"] != 0 and printed["status"] == "INVALID_ARGUMENT"
    snapshot.match("gcloud", printed)


@scenario("gcloud", "3.condition-syntax")
def test_gcloud_conditional_binding_with_bad_cel(t: Target, snapshot) -> None:
    project = t.new_project()
    result = t.gcloud(
        "projects",
        "add-iam-policy-binding",
        project,
        f"--member={t.other_user}",
        "--role=roles/browser",
        "--condition=title=bad,expression=this is not cel",
    )
    printed = from_gcloud(result)
    assert printed["exit"] != 0 and printed["status"] == "INVALID_ARGUMENT"
    snapshot.match("gcloud", printed)


# -- conditions read at each version --------------------------------------------------------------------
def _with_condition(t: Target, project: str) -> dict[str, Any]:
    before = get_policy(t, project).body
    binding = {"role": "roles/browser", "members": [t.other_user], "condition": CONDITION}
    written = set_policy(t, project, with_binding(before, binding, version=3))
    assert written.status == 200, written.body
    return written.body


@scenario("http", "3.withcond")
@pytest.mark.parametrize("requested", [None, 0, 1])
def test_get_policy_below_version_3_hashes_conditions(t: Target, snapshot, requested: int | None) -> None:
    project = t.new_project()
    _with_condition(t, project)
    answer = get_policy(t, project, version=requested)
    assert answer.body["version"] == 1
    hashed = [b for b in answer.body["bindings"] if "_withcond_" in b["role"]]
    assert len(hashed) == 1 and hashed[0]["role"].startswith("roles/browser_withcond_")
    assert "condition" not in hashed[0]
    snapshot.match("answer", answer.shape())


@scenario("http", "3.withcond")
def test_get_policy_at_version_3_shows_conditions(t: Target, snapshot) -> None:
    project = t.new_project()
    _with_condition(t, project)
    answer = get_policy(t, project, version=3)
    assert answer.body["version"] == 3
    assert any(b.get("condition") == CONDITION for b in answer.body["bindings"])
    snapshot.match("answer", answer.shape())


@scenario("http", "3.withcond")
@pytest.mark.parametrize("requested", [2, 4])
def test_an_invalid_requested_version_is_refused(t: Target, snapshot, requested: int) -> None:
    project = t.new_project()
    answer = get_policy(t, project, version=requested)
    assert answer.status == 400 and answer.error["status"] == "INVALID_ARGUMENT"
    snapshot.match("answer", answer.shape())


@scenario("http", "3.withcond")
def test_hashed_roles_beside_conditions_are_refused(t: Target, snapshot) -> None:
    project = t.new_project()
    _with_condition(t, project)
    hashed = get_policy(t, project, version=1).body
    full = get_policy(t, project, version=3).body
    answer = set_policy(t, project, {**full, "bindings": full["bindings"] + hashed["bindings"][-1:]})
    assert answer.status == 400 and "condition hashes" in answer.error["message"]
    snapshot.match("answer", answer.shape())


@scenario("http", "3.condition-version")
def test_a_version_1_write_over_conditions_with_an_etag_is_refused(t: Target, snapshot) -> None:
    project = t.new_project()
    _with_condition(t, project)
    full = get_policy(t, project, version=3).body
    unconditional = [b for b in full["bindings"] if "condition" not in b]
    answer = set_policy(t, project, {"bindings": unconditional, "etag": full["etag"], "version": 1})
    assert (
        answer.status == 400
        and "cannot be less than the existing policy version (3)" in answer.error["message"]
    )
    snapshot.match("answer", answer.shape())


@scenario("http", "3.condition-syntax")
def test_a_condition_on_a_basic_role_is_refused(t: Target, snapshot) -> None:
    project = t.new_project()
    before = get_policy(t, project).body
    binding = {"role": "roles/viewer", "members": [t.other_user], "condition": CONDITION}
    answer = set_policy(t, project, with_binding(before, binding, version=3))
    assert answer.status == 400 and "basic role" in answer.error["message"]
    snapshot.match("answer", answer.shape())


@scenario("gcloud", "3.withcond")
def test_gcloud_get_iam_policy_shows_conditions(t: Target, snapshot) -> None:
    project = t.new_project()
    _with_condition(t, project)
    result = t.gcloud("projects", "get-iam-policy", project)
    policy = json.loads(result.stdout)
    assert policy["version"] == 3 and any("condition" in b for b in policy["bindings"])
    snapshot.match("gcloud", from_gcloud(result))
