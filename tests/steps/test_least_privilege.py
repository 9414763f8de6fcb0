"""Least privilege by Google's current rules: the service account gets the smallest predefined role that
passes every Agent Platform (Vertex AI) check, chosen from Google's role data (the emulator's iam-roles
registry); a project set up with the former default is migrated by a plan `~`, never silently; the
Gemini API key needs no role."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.core import roles
from gcp_setup.emulator.resourcemanager.models import ProjectsBackend

PROJECT = "least-privilege-1"
BILLING = OPEN_ACCOUNT.removeprefix("billingAccounts/")
CREATE = ["--project", PROJECT, "--create", "--billing-account", BILLING]
MEMBER = f"serviceAccount:{defaults.SERVICE_ACCOUNT_ID}@{PROJECT}.iam.gserviceaccount.com"
VERTEX_PERMISSIONS = ("aiplatform.endpoints.predict",)
"""What the emulator checks on every Vertex AI call of verify's (aiplatform/authorization.py)."""


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def roles_of(world, member: str = MEMBER) -> set[str]:
    project = world.backend(ProjectsBackend).find(PROJECT)
    return {b["role"] for b in project.policy.bindings if member in b.get("members", [])}


def test_the_default_role_is_the_smallest_predefined_one_the_vertex_checks_need() -> None:
    candidates = [
        r
        for r in roles.predefined()
        if all(p in r.permissions for p in VERTEX_PERMISSIONS) and not r.name.lower().endswith("serviceagent")
    ]
    smallest = min(candidates, key=lambda r: len(r.permissions))
    assert defaults.ROLES == (smallest.name,) == ("roles/aiplatform.expressUser",)
    assert len(smallest.permissions) < len(roles.find("roles/aiplatform.user").permissions) / 10


def test_every_vertex_check_passes_with_that_role_alone(gemini_project, world) -> None:
    member = gemini_project.account.member
    assert {b["role"] for b in gemini_project.project.policy.bindings if member in b["members"]} == set(
        defaults.ROLES
    )
    result = gcp_setup("verify", "--format", "json", "--only", "vertex", "--only", "openai-vertex")
    assert result.exit_code == 0, result.output


def test_the_gemini_api_key_needs_no_role(gemini_project) -> None:
    member = gemini_project.account.member
    policy = gemini_project.project.policy
    policy.bindings = [b for b in policy.bindings if member not in b.get("members", [])]
    result = gcp_setup("verify", "--format", "json", "--only", "gemini-api", "--only", "openai-gemini")
    assert result.exit_code == 0, result.output


def test_the_plan_shows_the_role_for_the_account_and_none_for_the_key(provision_env) -> None:
    document = json.loads(gcp_setup("plan", *CREATE, "--format", "json").stdout)
    actions = {s["name"]: [a["summary"] for a in s.get("actions", [])] for s in document["steps"]}
    assert actions["roles"] == [f"grant roles/aiplatform.expressUser for {MEMBER}"]
    assert not any("roles/" in summary for summary in actions["api_key"])


def test_a_project_with_the_former_default_is_migrated_by_a_plan_update(provision_env, world) -> None:
    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0
    project = world.backend(ProjectsBackend).find(PROJECT)
    project.policy.bindings = [b for b in project.policy.bindings if MEMBER not in b.get("members", [])]
    project.policy.add_binding("roles/aiplatform.user", MEMBER)  # what an older gcp-setup granted
    plan = gcp_setup("plan", *CREATE)
    (line,) = [x for x in plan.stdout.splitlines() if "roles/aiplatform.user" in x]
    assert line.lstrip().startswith("~")
    assert "grant roles/aiplatform.expressUser and remove roles/aiplatform.user" in line
    assert roles_of(world) == {"roles/aiplatform.user"}  # plan changed nothing
    provision_env.clear_requests()
    assert gcp_setup("apply", *CREATE, "--yes").exit_code == 0
    assert roles_of(world) == {"roles/aiplatform.expressUser"}
    assert [w["method_id"] for w in provision_env.writes()] == ["cloudresourcemanager.projects.setIamPolicy"]
    assert "0 changed" in gcp_setup("apply", *CREATE, "--yes").stdout


def test_an_explicit_role_of_the_former_default_is_kept(provision_env, world) -> None:
    extra = ["--role", "roles/aiplatform.user", "--role", defaults.ROLES[0]]
    assert gcp_setup("apply", *CREATE, *extra, "--yes").exit_code == 0
    assert roles_of(world) == {"roles/aiplatform.user", "roles/aiplatform.expressUser"}
    assert "0 changed" in gcp_setup("apply", *CREATE, *extra, "--yes").stdout
