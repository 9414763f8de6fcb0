"""guards/permissions.py: the permissions the planned writes need are asked for once, and named before
any write."""

from __future__ import annotations

import pytest
from safety_kit import error_line, gcp_setup


@pytest.mark.parametrize("command", [("apply", "--yes"), ("plan",)], ids=["apply", "plan"])
def test_missing_permissions_are_named_before_any_write(home_env, world, command):
    from gcp_setup.emulator.core.roles import VIEWER
    from gcp_setup.emulator.resourcemanager.models import OTHER_OWNER, ProjectsBackend

    with world.lock:
        project = world.backend(ProjectsBackend).create("viewer-only-1", owner=OTHER_OWNER)
        project.policy.add_binding(VIEWER, world.default_caller)
    result = gcp_setup(*command, "--project", "viewer-only-1", "--no-api-key", "--no-service-account")
    assert result.exit_code == 1, result.output
    assert error_line(result).startswith(
        "Error: your account lacks serviceusage.services.enable on project viewer-only-1, which the plan"
    )
    assert home_env.writes() == []
    assert [r["method_id"] for r in home_env.requests()].count(
        "cloudresourcemanager.projects.testIamPermissions"
    ) == 1


def test_the_permission_check_names_what_each_federation_needs(home_env, world):
    from gcp_setup.emulator.core.roles import VIEWER
    from gcp_setup.emulator.resourcemanager.models import OTHER_OWNER, ProjectsBackend

    with world.lock:
        project = world.backend(ProjectsBackend).create("viewer-only-2", owner=OTHER_OWNER)
        project.policy.add_binding(VIEWER, world.default_caller)
    for flag, value in (("--github-repo", "octo/app"), ("--gitlab-project", "group/app")):
        result = gcp_setup("apply", "--project", "viewer-only-2", "--yes", "--no-api-key", flag, value)
        assert result.exit_code == 1, result.output
        assert "iam.googleapis.com/workloadIdentityPools.create" in error_line(result), flag
    assert home_env.writes() == []
