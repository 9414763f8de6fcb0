"""Every answer of the Resource Manager (v1, v3), Cloud Billing and Service Usage operations the emulator
serves validates against the response schema of Google's discovery document for that method; and so do
the typed `response` and `metadata` inside their long-running operations."""

from __future__ import annotations

from typing import Any

import pytest
from schema_check import method_response_problems, problems
from test_emulator_schemas_iam_keys import Walk

from gcp_setup.emulator.billing.models import CLOSED_ACCOUNT, OPEN_ACCOUNT
from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.core.routes import ROUTES

V1, V3, BILLING, SU = (
    "cloudresourcemanager.v1",
    "cloudresourcemanager.v3",
    "cloudbilling.v1",
    "serviceusage.v1",
)
OUR_METHODS = ("cloudresourcemanager.", "cloudbilling.", "serviceusage.")

# The @type of an operation's response or metadata -> (discovery document, schema) it must match.
TYPED = {
    "type.googleapis.com/google.cloudresourcemanager.v1.Project": (V1, "Project"),
    "type.googleapis.com/google.cloudresourcemanager.v1.ProjectCreationStatus": (V1, "ProjectCreationStatus"),
    "type.googleapis.com/google.cloud.resourcemanager.v3.Project": (V3, "Project"),
    **{
        f"type.googleapis.com/google.cloud.resourcemanager.v3.{kind}ProjectMetadata": (
            V3,
            f"{kind}ProjectMetadata",
        )
        for kind in ("Create", "Update", "Delete", "Undelete")
    },
    **{
        f"type.googleapis.com/google.api.serviceusage.v1.{name}": (SU, name)
        for name in ("BatchEnableServicesResponse", "EnableServiceResponse", "DisableServiceResponse")
    },
    "type.googleapis.com/google.api.serviceusage.v1.OperationMetadata": (SU, "OperationMetadata"),
}


def walk_resource_manager_v1(walk: Walk, emu: EmulatorControl) -> None:
    m = "cloudresourcemanager.projects."
    body = {
        "projectId": "walk-v1",
        "name": "Walk v1",
        "labels": {"a": "b"},
        "parent": {"type": "folder", "id": "7"},
    }
    emu.set_realism(operation_polls=1)
    op = walk.call(V1, m + "create", "POST", "v1/projects", body)
    emu.set_realism(operation_polls=0)
    walk.call(V1, "cloudresourcemanager.operations.get", "GET", f"v1/{op['name']}")
    walk.call(V1, "cloudresourcemanager.operations.get", "GET", f"v1/{op['name']}")
    project = walk.call(V1, m + "get", "GET", "v1/projects/walk-v1")
    walk.call(V1, m + "list", "GET", "v1/projects", params={"filter": "labels.a:b", "pageSize": 1})
    walk.call(V1, m + "list", "GET", "v1/projects", params={"filter": "id:nothing"})
    walk.call(V1, m + "update", "PUT", "v1/projects/walk-v1", {**project, "name": "Renamed"})
    policy = walk.call(
        V1,
        m + "getIamPolicy",
        "POST",
        "v1/projects/walk-v1:getIamPolicy",
        {"options": {"requestedPolicyVersion": 3}},
    )
    policy["bindings"].append({"role": "roles/viewer", "members": ["user:bob@example.com"]})
    walk.call(V1, m + "setIamPolicy", "POST", "v1/projects/walk-v1:setIamPolicy", {"policy": policy})
    walk.call(
        V1,
        m + "testIamPermissions",
        "POST",
        "v1/projects/walk-v1:testIamPermissions",
        {"permissions": ["resourcemanager.projects.get"]},
    )
    walk.call(V1, m + "getAncestry", "POST", "v1/projects/walk-v1:getAncestry", {})
    walk.call(V1, m + "delete", "DELETE", "v1/projects/walk-v1")
    walk.call(V1, m + "undelete", "POST", "v1/projects/walk-v1:undelete", {})


def walk_resource_manager_v3(walk: Walk) -> None:
    m = "cloudresourcemanager.projects."
    op = walk.call(
        V3,
        m + "create",
        "POST",
        "v3/projects",
        {"projectId": "walk-v3", "displayName": "Walk v3", "parent": "organizations/123"},
    )
    walk.call(V3, "cloudresourcemanager.operations.get", "GET", f"v3/{op['name']}")
    name = op["response"]["name"]
    walk.call(V3, m + "get", "GET", f"v3/{name}")
    walk.call(V3, m + "search", "GET", "v3/projects:search", params={"query": "state:ACTIVE", "pageSize": 1})
    walk.call(V3, m + "list", "GET", "v3/projects", params={"parent": "organizations/123"})
    walk.call(V3, m + "patch", "PATCH", f"v3/{name}", {"labels": {"x": "y"}}, params={"updateMask": "labels"})
    policy = walk.call(V3, m + "getIamPolicy", "POST", f"v3/{name}:getIamPolicy", {})
    walk.call(V3, m + "setIamPolicy", "POST", f"v3/{name}:setIamPolicy", {"policy": policy})
    walk.call(
        V3,
        m + "testIamPermissions",
        "POST",
        f"v3/{name}:testIamPermissions",
        {"permissions": ["resourcemanager.projects.update"]},
    )
    walk.call(V3, m + "delete", "DELETE", f"v3/{name}")
    walk.call(
        V3, m + "list", "GET", "v3/projects", params={"parent": "organizations/123", "showDeleted": "true"}
    )
    walk.call(V3, m + "undelete", "POST", f"v3/{name}:undelete", {})


def walk_billing(walk: Walk) -> None:
    m = "cloudbilling."
    walk.call(BILLING, m + "billingAccounts.list", "GET", "v1/billingAccounts", params={"pageSize": 1})
    walk.call(BILLING, m + "billingAccounts.list", "GET", "v1/billingAccounts")
    walk.call(BILLING, m + "billingAccounts.get", "GET", f"v1/{OPEN_ACCOUNT}")
    walk.call(BILLING, m + "projects.getBillingInfo", "GET", "v1/projects/walk-v1/billingInfo")
    for account in (OPEN_ACCOUNT, CLOSED_ACCOUNT, "", OPEN_ACCOUNT):
        walk.call(
            BILLING,
            m + "projects.updateBillingInfo",
            "PUT",
            "v1/projects/walk-v1/billingInfo",
            {"billingAccountName": account},
        )
    walk.call(BILLING, m + "billingAccounts.projects.list", "GET", f"v1/{OPEN_ACCOUNT}/projects")
    walk.call(BILLING, m + "billingAccounts.getIamPolicy", "GET", f"v1/{OPEN_ACCOUNT}:getIamPolicy")
    policy = {"bindings": [{"role": "roles/billing.admin", "members": ["user:developer@example.com"]}]}
    walk.call(
        BILLING,
        m + "billingAccounts.setIamPolicy",
        "POST",
        f"v1/{OPEN_ACCOUNT}:setIamPolicy",
        {"policy": policy},
    )
    permissions = {"permissions": ["billing.accounts.get", "billing.accounts.close"]}
    walk.call(
        BILLING,
        m + "billingAccounts.testIamPermissions",
        "POST",
        f"v1/{OPEN_ACCOUNT}:testIamPermissions",
        permissions,
    )


def walk_service_usage(walk: Walk, emu: EmulatorControl) -> None:
    m, base = "serviceusage.services.", "v1/projects/walk-v1/services"
    emu.set_realism(operation_polls=1)
    op = walk.call(
        SU,
        m + "batchEnable",
        "POST",
        f"{base}:batchEnable",
        {"serviceIds": ["iam.googleapis.com", "compute.googleapis.com"]},
    )
    emu.set_realism(operation_polls=0)
    walk.call(SU, "serviceusage.operations.get", "GET", f"v1/{op['name']}")
    walk.call(SU, "serviceusage.operations.get", "GET", f"v1/{op['name']}")
    walk.call(SU, m + "enable", "POST", f"{base}/generativelanguage.googleapis.com:enable", {})
    walk.call(SU, m + "get", "GET", f"{base}/iam.googleapis.com")
    walk.call(SU, m + "list", "GET", base, params={"filter": "state:ENABLED", "pageSize": 2})
    walk.call(SU, m + "list", "GET", base, params={"filter": "state:DISABLED"})
    walk.call(
        SU,
        m + "batchGet",
        "GET",
        f"{base}:batchGet",
        params={
            "names": [
                "projects/walk-v1/services/iam.googleapis.com",
                "projects/walk-v1/services/apikeys.googleapis.com",
            ]
        },
    )
    walk.call(
        SU,
        m + "disable",
        "POST",
        f"{base}/oslogin.googleapis.com:disable",
        {"disableDependentServices": True},
    )


@pytest.fixture
def walk(emu: EmulatorControl) -> Walk:
    walk = Walk(emu)
    walk_resource_manager_v1(walk, emu)
    walk_resource_manager_v3(walk)
    walk_billing(walk)
    walk_service_usage(walk, emu)
    return walk


def typed_problems(method_id: str, body: dict[str, Any]) -> list[str]:
    """Problems of an operation's typed `response` and `metadata` against the schema their @type names."""
    found = []
    for part in ("response", "metadata"):
        value = dict(body.get(part) or {})
        if not value:
            continue
        api, schema = TYPED[value.pop("@type")]
        found += [f"{method_id} ({part}): {p}" for p in problems(api, schema, value)]
    return found


def test_every_answer_matches_its_discovery_schema(walk: Walk) -> None:
    found = []
    for api, method_id, body in walk.answers:
        found += [f"{method_id}: {p}" for p in method_response_problems(api, method_id, body)]
        if "done" in body or "metadata" in body:
            found += typed_problems(method_id, body)
    assert found == []
    served = {r.method_id for r in ROUTES if r.method_id.startswith(OUR_METHODS)}
    assert {method_id for _, method_id, _ in walk.answers} == served


def test_pending_operations_say_not_done(walk: Walk) -> None:
    pending = [
        body for _, method_id, body in walk.answers if method_id.endswith("create") and "done" not in body
    ]
    assert len(pending) == 1  # the v1 create answered while operation_polls=1
