"""steps/teardown.py: destroy never claims what did not happen, and keeps a project gcp-setup did not
create."""

from __future__ import annotations

from safety_kit import PROJECT, apply, error_line, gcp_setup


def test_destroy_of_a_project_it_cannot_see_fails_and_claims_nothing(home_env):
    result = gcp_setup("destroy", "--project", "someone-elses-project", "--delete-project", "--yes")
    assert result.exit_code == 2
    assert error_line(result).startswith("Error: cannot see project someone-elses-project")
    assert "gone" not in result.output
    assert home_env.writes() == []


def test_destroy_after_losing_access_keeps_the_local_key_file(home_env, world, clean_config):
    key_file = clean_config / "sa-key.json"
    key_flags = ("--credentials", "key-file", "--allow-key-file", "--credentials-file", str(key_file))
    assert apply(*key_flags).exit_code == 0
    with world.lock:
        from gcp_setup.emulator.resourcemanager.models import ProjectsBackend

        project = world.backend(ProjectsBackend).find(PROJECT)
        for binding in project.policy.bindings:
            binding["members"] = [m for m in binding["members"] if m != world.default_caller]
    home_env.clear_requests()
    result = gcp_setup("destroy", "--project", PROJECT, "--credentials-file", str(key_file), "--yes")
    assert result.exit_code == 2, result.output
    assert error_line(result).startswith(f"Error: cannot see project {PROJECT}")
    assert key_file.exists()
    assert home_env.writes() == []


def test_delete_project_refuses_a_project_gcp_setup_did_not_create_unless_forced(home_env, make_project):
    make_project("made-elsewhere-1")
    refused = gcp_setup("destroy", "--project", "made-elsewhere-1", "--delete-project", "--yes")
    assert refused.exit_code == 2
    assert error_line(refused).startswith(
        "Error: project made-elsewhere-1 was not created by gcp-setup (it has no label created-by=gcp-setup)"
    )
    assert home_env.writes() == []
    forced = gcp_setup("destroy", "--project", "made-elsewhere-1", "--delete-project", "--force", "--yes")
    assert forced.exit_code == 0, forced.output
    assert [w["method_id"] for w in home_env.writes()] == ["cloudresourcemanager.projects.delete"]

    assert apply().exit_code == 0  # created by gcp-setup: labelled, so deleted without --force
    ours = gcp_setup("destroy", "--project", PROJECT, "--delete-project", "--yes")
    assert ours.exit_code == 0, ours.output
    assert "DELETE_REQUESTED (created by gcp-setup)" in ours.stdout
