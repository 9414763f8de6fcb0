"""steps/secret_files.py: what an interrupted run left beside the key file is planned and removed by the
next run."""

from __future__ import annotations

from safety_kit import PROJECT, apply, gcp_setup, user_keys

from gcp_setup.google.iam import key_id_of_file


def test_a_key_no_file_holds_after_a_cut_is_deleted_by_the_next_run(home_env, clean_config):
    key_file = clean_config / "sa-key.json"
    key_flags = ("--credentials", "key-file", "--allow-key-file", "--credentials-file", str(key_file))
    assert apply().exit_code == 0
    home_env.clear_requests()
    home_env.set_realism(drop_after_writes=1)  # keys.create is applied, its answer never arrives
    cut = apply(*key_flags)
    assert cut.exit_code == 1
    assert [w["method_id"] for w in home_env.writes()] == ["iam.projects.serviceAccounts.keys.create"]  # once
    orphan = user_keys(home_env.host)
    assert len(orphan) == 1 and not key_file.exists()

    plan = gcp_setup("plan", "--project", PROJECT, *key_flags)
    assert f"- secret_files      delete key {orphan[0]}, which an interrupted run created" in plan.stdout
    assert apply(*key_flags).exit_code == 0
    assert user_keys(home_env.host) == [key_id_of_file(key_file.read_bytes())]
    assert sorted(p.name for p in clean_config.iterdir() if p.name.startswith(".sa-key")) == []
    home_env.clear_requests()
    assert apply(*key_flags).exit_code == 0 and home_env.writes() == []


def test_a_temp_file_a_killed_write_left_is_planned_and_removed(home_env, clean_config):
    env_file = clean_config / ".env"
    left = clean_config / "..env.a1b2c3.tmp"  # secrets.files.write_secret_file's name: .NAME.XXXX.tmp
    left.write_text("GEMINI_API_KEY=half")
    assert apply("--env-file", str(env_file)).exit_code == 0
    assert not left.exists()
    plan = gcp_setup("plan", "--project", PROJECT, "--env-file", str(env_file))
    assert "No changes" in plan.stdout
