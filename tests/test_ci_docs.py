"""docs/ci.md's recipes, checked offline: each validates against the workflow schema check-jsonschema
ships, and each runs, its inputs substituted, against the emulator: the GitHub setup workflow (apply
through the composite action), then the verify workflow with the values it printed, then the GitLab
job with a locally signed ID token. What a recipe cannot do here is stood in for and said so: other
actions' `uses:` steps, `pip install` (gcp-setup is already on PATH), and Google's hostnames in the
credential configuration (the emulator's URL)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import federation
import pytest
import yaml
from ci_runner import VENV_BIN, Runner, StepRun, action_inputs, action_outputs, run_github_job, run_gitlab_job
from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.google.federations import GITLAB_CREDENTIALS_LINE

ROOT = Path(__file__).resolve().parent.parent
RECIPE = re.compile(r"<!-- recipe: (\S+) -->\n```yaml\n(.*?)```", re.DOTALL)
RECIPES = dict(RECIPE.findall((ROOT / "docs" / "ci.md").read_text()))
SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}
PROJECT = "ci-docs-1"
SA_EMAIL = f"{defaults.SERVICE_ACCOUNT_ID}@{PROJECT}.iam.gserviceaccount.com"
BILLING = OPEN_ACCOUNT.removeprefix("billingAccounts/")
REPO = "octo/app"
APPLY = ["apply", "--project", PROJECT, "--create", "--billing-account", BILLING, "--no-api-key", "--yes"]


def test_the_doc_has_the_recipes_and_the_readme_links_it() -> None:
    assert set(RECIPES) == {"github-setup", "github-verify", "gitlab-verify"}
    assert "docs/ci.md" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_recipe_validates_against_its_ci_schema(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yml"
    path.write_text(RECIPES[name])
    schema = SCHEMAS[name.split("-")[0]]
    done = subprocess.run(
        [f"{VENV_BIN}/check-jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def the_action(given: dict[str, str]):
    """Stand-in for `uses: YOUR-ORG/gcp-setup@v1`: this repository's action.yml, run by the simulated
    runner (install: none, gcp-setup is on PATH)."""

    def run(runner: Runner, inputs: dict[str, str]) -> StepRun:
        action = yaml.safe_load((ROOT / "action.yml").read_text())
        steps = runner.run_steps(action["runs"]["steps"], action_inputs(action, {**inputs, **given}))
        last = list(steps.values())[-1]
        return StepRun("gcp-setup", last.returncode, last.stdout, last.stderr, action_outputs(action, steps))

    return run


def admin_auth(runner: Runner, inputs: dict[str, str]) -> StepRun:
    """Stand-in for google-github-actions/auth with an admin identity: its credentials file (here the
    login the emulator issued for the owner of the projects it made) exported to later steps."""
    runner.env["GOOGLE_APPLICATION_CREDENTIALS"] = os.environ["GOOGLE_APPLICATION_CREDENTIALS"]
    return StepRun("auth", 0, "", "", {})


def federated_auth(emu):
    """Stand-in for google-github-actions/auth: the job's OIDC token (for the audience auth asks for),
    an external_account credentials file, its path and the project exported to later steps."""

    def run(runner: Runner, inputs: dict[str, str]) -> StepRun:
        credentials = federation.github_auth_files(
            runner.root, emu.url, inputs["workload_identity_provider"], inputs["service_account"], REPO
        )
        runner.env["GOOGLE_APPLICATION_CREDENTIALS"] = str(credentials)
        # auth exports the project too, from the service account's email without a project_id input.
        runner.env["GOOGLE_CLOUD_PROJECT"] = inputs["service_account"].split("@")[1].split(".")[0]
        return StepRun("auth", 0, "", "", {})

    return run


def test_the_github_recipes_set_up_then_verify(provision_env, world, tmp_path: Path) -> None:
    existing = CliRunner().invoke(
        cli,
        ["apply", "--project", PROJECT, "--create", "--billing-account", BILLING, "--no-api-key", "--yes"],
    )
    assert existing.exit_code == 0, existing.output  # the recipe's precondition: a project with billing
    context = {"vars": {"GCP_PROJECT": PROJECT}, "github": {"repository": REPO}}
    emulator = {"GCP_SETUP_EMULATOR_HOST": provision_env.host}

    setup = Runner.github(tmp_path / "setup", emulator)
    uses = {"google-github-actions/auth@": admin_auth, "YOUR-ORG/gcp-setup@": the_action({"install": "none"})}
    steps = run_github_job(setup, yaml.safe_load(RECIPES["github-setup"]), "setup", context, uses)
    assert [s.returncode for s in steps.values()] == [0, 0, 0], [s.stderr for s in steps.values()]
    printed = dict(line.split("=", 1) for line in steps["step2"].stdout.splitlines() if "=" in line)
    assert printed["GEMINI_SERVICE_ACCOUNT"] == SA_EMAIL
    assert printed["WIF_PROVIDER"].endswith("/workloadIdentityPools/github/providers/github-actions")

    verify = Runner.github(tmp_path / "verify", emulator)
    context["vars"] |= printed
    uses["google-github-actions/auth@"] = federated_auth(provision_env)
    steps = run_github_job(verify, yaml.safe_load(RECIPES["github-verify"]), "verify", context, uses)
    assert [s.returncode for s in steps.values()] == [0, 0, 0, 0], [
        s.stdout + s.stderr for s in steps.values()
    ]
    assert steps["step2"].stdout.strip() == "Gemini checks passed: credentials,vertex"
    assert "### gcp-setup verify" in verify.file("step_summary")


def test_the_gitlab_recipe_verifies_keyless(provision_env, tmp_path: Path) -> None:
    issuer = federation.Issuer.new("https://gitlab.example.com")
    (tmp_path / "jwks.json").write_text(json.dumps(issuer.jwks()))
    gitlab = ["--gitlab-project", "my-group/my-app", "--gitlab-issuer", issuer.url, "--gitlab-jwks"]
    setup = CliRunner().invoke(
        cli,
        [*APPLY, *gitlab, str(tmp_path / "jwks.json")],
    )
    assert setup.exit_code == 0, setup.output
    assert GITLAB_CREDENTIALS_LINE in setup.stdout  # the snippet apply prints writes what the recipe does
    assert f"- {GITLAB_CREDENTIALS_LINE}\n" in RECIPES["gitlab-verify"]
    number = provision_env.state()["backends"]["workload_identity"]["pools"][0]["project_number"]

    pipeline = yaml.safe_load(
        RECIPES["gitlab-verify"].replace("PROJECT_NUMBER", number).replace("my-project", PROJECT)
    )
    runner = Runner.gitlab(tmp_path / "gitlab", {"GCP_SETUP_EMULATOR_HOST": provision_env.host})
    runner.hosts = {"https://sts.googleapis.com": provision_env.url}
    runner.hosts["https://iamcredentials.googleapis.com"] = provision_env.url
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "pip").write_text("#!/bin/sh\necho 'pip (stub): gcp-setup is installed already'\n")
    (stubs / "pip").chmod(0o755)
    runner.env["PATH"] = f"{stubs}:{runner.env['PATH']}"

    job = run_gitlab_job(
        runner, pipeline, "gemini-verify", lambda aud: issuer.gitlab_token("my-group/my-app", aud)
    )
    assert job.returncode == 0, job.stdout + job.stderr
    document = json.loads((runner.root / "verify.json").read_text())
    assert [(c["name"], c["status"]) for c in document["checks"]] == [
        ("credentials", "passed"),
        ("vertex", "passed"),
    ]
    assert f"serviceAccount:{SA_EMAIL}" in document["checks"][0]["detail"]
