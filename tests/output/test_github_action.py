"""GitHub Actions, natively: the composite action at the repository root, run offline by a simulated
runner (its shell steps, inputs substituted, the GITHUB_* files in a temp dir) against the emulator:
apply, then verify. Step outputs, $GITHUB_ENV and the step summary are checked, stdout stays one JSON
document (jq reads it), and the API key appears nowhere but in the masked $GITHUB_ENV."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import federation
import pytest
import yaml
from ci_runner import VENV_BIN, Runner, action_inputs, action_outputs, parse_workflow_file
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.secrets.github_env import append_github_env, append_workflow_file
from gcp_setup.secrets.secret import Secret

ACTION = Path(__file__).parent.parent.parent / "action.yml"
PROJECT = "gha-sim-1"
REPO = "octo/app"
SA_EMAIL = f"{defaults.SERVICE_ACCOUNT_ID}@{PROJECT}.iam.gserviceaccount.com"


def jq(text: str, program: str = ".") -> str:
    """`jq -e`: fails unless `text` is JSON (one document) and the program's answer is truthy."""
    done = subprocess.run(["jq", "-e", program], input=text, capture_output=True, text=True)
    assert done.returncode == 0, f"jq {program}: {done.stderr}\n{text[:500]}"
    return done.stdout.strip()


def run_action(runner: Runner, **given: str):
    action = yaml.safe_load(ACTION.read_text())
    steps = runner.run_steps(action["runs"]["steps"], action_inputs(action, given))
    return steps, action_outputs(action, steps)


@pytest.fixture
def runner(emu, tmp_path: Path) -> Runner:
    """A job whose workflow sets GCP_SETUP_EMULATOR_HOST (every Google call goes to the emulator), after
    an auth step that exported an admin's credentials (the login the emulator issued for its owner)."""
    admin = os.environ["GOOGLE_APPLICATION_CREDENTIALS"]
    return Runner.github(
        tmp_path / "runner", {"GCP_SETUP_EMULATOR_HOST": emu.host, "GOOGLE_APPLICATION_CREDENTIALS": admin}
    )


def authenticate_like_google_github_actions_auth(runner: Runner, emu, provider: str) -> None:
    """What google-github-actions/auth does between the two steps: the job's OIDC token in a file, an
    external_account credentials file, GOOGLE_APPLICATION_CREDENTIALS in $GITHUB_ENV."""
    credentials = federation.github_auth_files(runner.root, emu.url, provider, SA_EMAIL, REPO)
    exported = {"GOOGLE_APPLICATION_CREDENTIALS": str(credentials), "GOOGLE_CLOUD_PROJECT": PROJECT}
    append_workflow_file(Path(runner.env["GITHUB_ENV"]), exported)
    runner.env.update(exported)


def test_the_action_applies_then_verifies_with_native_outputs_and_no_secret_leaked(
    emu, world, runner
) -> None:
    steps, outputs = run_action(
        runner,
        command="apply",
        project=PROJECT,
        create="true",
        **{"billing-account": OPEN_ACCOUNT.removeprefix("billingAccounts/"), "github-repo": REPO},
        install="none",
    )
    apply = steps["run"]
    assert apply.returncode == 0, apply.stderr
    jq(apply.stdout, ".ok and (.steps | length > 0)")  # stdout: the JSON document alone
    assert jq(Path(outputs["document"]).read_text(), ".project") == f'"{PROJECT}"'

    from gcp_setup.emulator.apikeys.models import ApiKeysBackend

    (key,) = [k.key_string for k in world.backend(ApiKeysBackend).keys.values()]
    assert f"::add-mask::{key}" in apply.stderr.splitlines()
    assert runner.exported["GEMINI_API_KEY"] == key  # later steps get it, masked
    number = outputs["project_number"]
    assert outputs["project_id"] == PROJECT and number.isdigit()
    assert outputs["service_account"] == SA_EMAIL
    provider = f"projects/{number}/locations/global/workloadIdentityPools/github/providers/github-actions"
    assert outputs["workload_identity_provider"] == provider
    assert "gemini-api" in outputs["checks_passed"].split(",")  # apply's smoke test
    summary = runner.file("step_summary")
    assert (
        f"### gcp-setup apply: project `{PROJECT}`" in summary
        and "| `workload_identity` | created |" in summary
    )

    authenticate_like_google_github_actions_auth(runner, emu, provider)
    steps, outputs = run_action(
        runner, command="verify", project=PROJECT, only="credentials,vertex", install="none"
    )
    verify = steps["run"]
    assert verify.returncode == 0, verify.stdout + verify.stderr
    jq(verify.stdout, '[.checks[] | select(.status == "passed") | .name] == ["credentials", "vertex"]')
    assert outputs["checks_passed"] == "credentials,vertex" and outputs["checks_failed"] == ""
    assert outputs["project_id"] == PROJECT
    assert f"### gcp-setup verify: project `{PROJECT}`" in runner.file("step_summary")
    assert f"principal serviceAccount:{SA_EMAIL}" in runner.file("step_summary")

    everything_but_the_env = [
        runner.file("step_summary"),
        *(run.stdout for run in runner.runs),
        *(
            line
            for run in runner.runs
            for line in run.stderr.splitlines()
            if not line.startswith("::add-mask::")
        ),
        *(json.dumps(run.outputs) for run in runner.runs),
        json.dumps(outputs),
    ]
    assert not [text for text in everything_but_the_env if key in text]


def test_a_bad_command_input_fails_the_step(runner) -> None:
    steps, _ = run_action(runner, command="destroy", project=PROJECT, install="none")
    assert steps["run"].returncode == 2
    assert "::error::gcp-setup action: command must be apply or verify" in steps["run"].stdout


def test_github_env_outside_actions_is_a_one_line_usage_error(clean_config, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_ENV", str(clean_config / "github.env"))
    result = CliRunner().invoke(cli, ["plan", "--project", PROJECT, "--github-env"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: --github-env works only inside GitHub Actions (GITHUB_ACTIONS=true, $GITHUB_ENV set); "
        "drop it, or write a .env with --env-file FILE"
    ]


def test_a_multi_line_value_uses_the_delimiter_syntax(tmp_path: Path) -> None:
    path = tmp_path / "output"
    append_workflow_file(path, {"one": "a=b", "many": "line 1\nline 2"})
    text = path.read_text()
    assert text.startswith("one=a=b\nmany<<ghadelimiter_")
    assert parse_workflow_file(text) == {"one": "a=b", "many": "line 1\nline 2"}


def test_the_action_validates_against_check_jsonschemas_action_schema() -> None:
    done = subprocess.run(
        [f"{VENV_BIN}/check-jsonschema", "--builtin-schema", "vendor.github-actions", str(ACTION)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_line_of_a_secret_is_masked_on_stderr_only(tmp_path: Path, monkeypatch, capsys) -> None:
    """A mask covers one line: a multi-line secret gets one ::add-mask:: per line, and the file gets it
    with the delimiter syntax."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    append_github_env(tmp_path / "env", {"PEM": Secret("line one\nline two"), "PLAIN": "x"})
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["::add-mask::line one", "::add-mask::line two"]
    assert parse_workflow_file((tmp_path / "env").read_text()) == {"PEM": "line one\nline two", "PLAIN": "x"}


def test_the_actions_location_input_says_the_clis_default() -> None:
    location = yaml.safe_load(ACTION.read_text())["inputs"]["location"]["description"]
    assert f"default {defaults.LOCATION}" in location
