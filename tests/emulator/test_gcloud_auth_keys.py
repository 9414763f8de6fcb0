"""The real gcloud CLI binding an API key to a service account, and reading and lifting the org policy
constraint that blocks it (`gcloud org-policies`), on the emulator."""

from __future__ import annotations

import pytest

from gcp_setup.emulator.iam.models import ServiceAccountsBackend
from gcp_setup.emulator.orgpolicy.models import API_KEY_BINDING
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

pytestmark = pytest.mark.gcloud


@pytest.fixture
def make(world):
    """make(project_id, parent) -> the email of a service account in a new project with API Keys on."""

    def make(project_id: str, parent: str = "") -> str:
        with world.lock:
            project = world.backend(ProjectsBackend).create(
                project_id, owner=world.default_caller, parent=parent
            )
            world.backend(ServicesBackend).enable(project, "apikeys.googleapis.com")
            return world.backend(ServiceAccountsBackend).create(project, "gemini-client").email

    return make


def bound_key(email: str) -> tuple[str, ...]:
    """`gcloud services api-keys create` of an express-mode key bound to `email`."""
    return (
        "services",
        "api-keys",
        "create",
        "--key-id=vertex-express",
        f"--service-account={email}",
        "--api-target=service=aiplatform.googleapis.com",
    )


def test_api_keys_create_with_service_account_and_lookup(gcloud, make) -> None:
    email = make("gcloud-bind-1")
    created = gcloud.json(*bound_key(email), project="gcloud-bind-1")["response"]
    assert created["keyString"].startswith("AQ.") and created["serviceAccountEmail"] == email
    described = gcloud.json("services", "api-keys", "describe", "vertex-express", project="gcloud-bind-1")
    assert described["serviceAccountEmail"] == email and "keyString" not in described
    assert gcloud.json("services", "api-keys", "lookup", created["keyString"])["name"] == created["name"]


def test_org_policies_describe_effective_then_reset_lifts_the_constraint(gcloud, make, emu) -> None:
    email = make("gcloud-bind-2", parent="organizations/123456789012")
    effective = ("org-policies", "describe", API_KEY_BINDING, "--effective")
    assert gcloud.json(*effective, project="gcloud-bind-2")["spec"]["rules"] == [{"enforce": True}]
    emu.clear_requests()
    blocked = gcloud.run(*bound_key(email), project="gcloud-bind-2", check=False)
    assert blocked.returncode != 0
    assert "FAILED_PRECONDITION" in blocked.stderr and f"constraints/{API_KEY_BINDING}" in blocked.stderr
    gcloud.run("org-policies", "reset", API_KEY_BINDING, project="gcloud-bind-2")
    assert gcloud.json(*effective, project="gcloud-bind-2")["spec"]["rules"] == [{"enforce": False}]
    gcloud.run(*bound_key(email), project="gcloud-bind-2")
    reads = [r["path"] for r in emu.requests() if r["method_id"].endswith("getEffectivePolicy")]
    assert reads == [f"/v2/projects/gcloud-bind-2/policies/{API_KEY_BINDING}:getEffectivePolicy"]
