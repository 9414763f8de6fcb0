"""The Terraform module sets up what `gcp-setup apply` sets up: its defaults equal gcp_setup/defaults.py."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tf_schema_check import labelled_blocks, named_blocks, parse, require_terraform

from gcp_setup import defaults, envvars

MODULE = Path(__file__).resolve().parent.parent.parent / "terraform"


def _blocks(file: str, kind: str) -> dict[str, Any]:
    return dict(named_blocks(parse(MODULE / file).get(kind, [])))


VARIABLES = _blocks("variables.tf", "variable")


def resource(tf_type: str, name: str) -> dict[str, Any]:
    """The body of `resource "TYPE" "NAME"` in main.tf."""
    found = labelled_blocks(parse(MODULE / "main.tf").get("resource", []))
    return next(body for t, n, body in found if (t, n) == (tf_type, name))


def default(name: str) -> Any:
    return VARIABLES[name]["default"]


def test_services() -> None:
    assert sorted(default("services")) == sorted(defaults.SERVICES)


def test_roles() -> None:
    assert sorted(default("roles")) == sorted(defaults.ROLES)


def test_service_account() -> None:
    assert default("service_account_id") == defaults.SERVICE_ACCOUNT_ID
    assert default("service_account_display_name") == defaults.SERVICE_ACCOUNT_DISPLAY_NAME
    assert default("create_service_account") is True


def test_api_key_restriction() -> None:
    """Both bind the key to the service account by default and name it gemini-key-N from 1."""
    assert default("api_key_type") == defaults.API_KEY_TYPE == "auth"
    assert default("api_key_generation") == 1
    key = resource("google_apikeys_key", "this")
    assert key["name"] == f"{defaults.API_KEY_ID_PREFIX}${{var.api_key_generation}}"
    assert key["service_account_email"] == '${var.api_key_type == "auth" ? local.sa_email : null}'
    assert default("api_key_display_name") == defaults.API_KEY_DISPLAY_NAME
    assert default("api_key_targets") == list(defaults.API_KEY_TARGETS)
    assert default("create_api_key") is True


def test_vertex_express_key() -> None:
    assert default("create_vertex_express_key") is False  # as --vertex-express: off unless asked
    express = resource("google_apikeys_key", "vertex_express")
    assert express["name"] == f"{defaults.EXPRESS_KEY_ID_PREFIX}${{var.api_key_generation}}"
    assert express["display_name"] == defaults.EXPRESS_KEY_DISPLAY_NAME
    assert [t["service"] for t in express["restrictions"][0]["api_targets"]] == list(
        defaults.EXPRESS_KEY_TARGETS
    )
    assert express["service_account_email"] == "${local.sa_email}"
    locals_text = (MODULE / "main.tf").read_text()
    assert f'setunion(var.roles, ["{defaults.EXPRESS_ROLE}"])' in locals_text


def test_apis_are_enabled_after_billing_is_linked() -> None:
    """Enabling aiplatform.googleapis.com on a project without billing fails: the link comes first."""
    services = resource("google_project_service", "services")
    assert "${google_billing_project_info.this}" in services["depends_on"]


def test_location() -> None:
    assert default("location") == defaults.LOCATION


def test_services_are_not_disabled_on_destroy() -> None:
    assert default("disable_services_on_destroy") is False
    assert resource("google_project_service", "services")["disable_on_destroy"] == (
        "${var.disable_services_on_destroy}"
    )


def test_env_output_names_what_the_python_side_writes() -> None:
    env = _blocks("outputs.tf", "output")["env"]["value"]
    assert set(env) == {envvars.PROJECT, envvars.LOCATION, envvars.USE_VERTEXAI, envvars.OPENAI_BASE_URL}
    assert env[envvars.OPENAI_BASE_URL] == defaults.GEMINI_OPENAI_BASE_URL
    assert env[envvars.LOCATION] == "${var.location}"


def test_every_variable_is_typed_and_described() -> None:
    for name, body in VARIABLES.items():
        assert body.get("type") and body.get("description"), name


def test_project_id_and_role_rules_match_the_python_side() -> None:
    from gcp_setup.settings import checks

    project_rules = " ".join(v["condition"] for v in VARIABLES["project_id"]["validation"])
    assert all(f'"{word}"' in project_rules for word in checks.RESERVED_PROJECT_WORDS)
    role_rule = VARIABLES["roles"]["validation"][0]["condition"]
    assert checks._ROLE.pattern in role_rule


def terraform_offline(tmp_path: Path, *args: str, stdin: str = "", **values: str) -> str:
    """Runs terraform on the module's variables.tf alone (plus `locals.tf` if the test wrote one):
    with no resources it needs no provider, so plan and console run offline, validations included."""
    (tmp_path / "variables.tf").write_text((MODULE / "variables.tf").read_text())
    var_args = [f"-var={name}={value}" for name, value in values.items()]
    command = [require_terraform(), *args, *var_args]
    return subprocess.run(command, cwd=tmp_path, input=stdin, capture_output=True, text=True).stdout


def rejected_variables(tmp_path: Path, **values: str) -> set[str]:
    """The variables whose validation rules fail, as Terraform itself says."""
    output = terraform_offline(tmp_path, "plan", "-input=false", "-lock=false", "-json", **values)
    messages = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {
        value["traversal"].removeprefix("var.")
        for m in messages
        if m.get("type") == "diagnostic"
        for value in m["diagnostic"].get("snippet", {}).get("values", [])
    }


@pytest.mark.parametrize(
    "project_id",
    ["gemini-demo-1", "Bad_Project", "my-google-x", "short", "ends-with-", "1starts", "a-ssl-test"],
)
def test_project_id_rule_agrees_with_the_python_side(project_id: str, tmp_path: Path) -> None:
    from gcp_setup.settings.checks import project_id_problem

    terraform_rejects = "project_id" in rejected_variables(tmp_path, project_id=project_id)
    assert terraform_rejects == (project_id_problem(project_id) is not None)


def test_validation_rules_reject_bad_inputs(tmp_path: Path) -> None:
    bad = {
        "services": "[]",
        "roles": '["aiplatform.user"]',
        "billing_account": "abc",
        "impersonators": '["dev@example.com"]',
        "github_repository": "no-slash",
        "gitlab_project": "no-slash",
        "gitlab_issuer": "http://gitlab.local",
        "workload_identity_pool_id": "gcp-reserved",
        "project_deletion_policy": "KEEP",
        "api_key_targets": "[]",
        "api_key_generation": "0",
        "service_account_id": "x",
    }
    assert rejected_variables(tmp_path, project_id="gemini-demo-1", **bad) == set(bad)


def test_readme_documents_every_input_and_output() -> None:
    readme = (MODULE / "README.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", readme, flags=re.MULTILINE))
    assert set(VARIABLES) | set(_blocks("outputs.tf", "output")) == documented


def module_local(name: str) -> str:
    """The expression of a local in main.tf, as written."""
    match = re.search(rf"^\s*{name}\s*=\s*(.+)$", (MODULE / "main.tf").read_text(), flags=re.MULTILINE)
    assert match, f"no local {name} in main.tf"
    return match[1]


WITHOUT_VERTEX = tuple(s for s in defaults.SERVICES if s != defaults.VERTEX_AI_API)


@pytest.mark.parametrize("api_key", [True, False])
@pytest.mark.parametrize("services", [defaults.SERVICES, WITHOUT_VERTEX], ids=["vertex", "no-vertex"])
def test_use_vertexai_agrees_with_the_env_gcp_setup_writes(
    api_key: bool, services: tuple[str, ...], tmp_path: Path
) -> None:
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.settings.config import Config
    from gcp_setup.steps.base import Context
    from gcp_setup.steps.exported import exported_values

    ctx = Context(Config(project="gemini-demo-1", api_key=api_key, services=services), GoogleSession())
    ctx.outputs["api_key"] = {"exists": api_key}
    python_env = exported_values(ctx, {})

    (tmp_path / "locals.tf").write_text(f"locals {{\n  use_vertexai = {module_local('use_vertexai')}\n}}\n")
    terraform_value = terraform_offline(
        tmp_path,
        "console",
        stdin="tostring(local.use_vertexai)\n",
        project_id="gemini-demo-1",
        create_api_key=str(api_key).lower(),
        services=json.dumps(list(services)),
    )
    assert json.loads(terraform_value) == python_env[envvars.USE_VERTEXAI]


MODULE_FEDERATIONS = {  # resource name: its pool ID, provider ID and subject variables
    "github": ("workload_identity_pool_id", "workload_identity_provider_id", "github_repository"),
    "gitlab": ("gitlab_workload_identity_pool_id", "gitlab_workload_identity_provider_id", "gitlab_project"),
}


@pytest.mark.parametrize("name", sorted(MODULE_FEDERATIONS))
def test_workload_identity_federation_matches_the_python_side(name: str) -> None:
    """Same pool and provider IDs, issuer (and inline keys), mapping, condition, binding and STS as
    `--github-repo` / `--gitlab-project`."""
    from gcp_setup.google.federations import GITHUB, GITLAB
    from gcp_setup.steps.workload_identity import WORKLOAD_IDENTITY_USER

    federation = {"github": GITHUB, "gitlab": GITLAB}[name]
    pool_variable, provider_variable, subject_variable = MODULE_FEDERATIONS[name]
    pool = resource("google_iam_workload_identity_pool", name)
    provider = resource("google_iam_workload_identity_pool_provider", name)
    binding = resource("google_service_account_iam_member", f"{name}_wif")
    assert (default(pool_variable), default(provider_variable)) == (
        federation.pool_id,
        federation.provider_id,
    )
    assert pool["display_name"] == federation.pool_display_name
    assert provider["display_name"] == federation.provider_display_name
    [oidc] = provider["oidc"]
    if federation.issuer_setting:  # GitLab: any instance, its keys inline when Google cannot reach it
        assert default("gitlab_issuer") == federation.default_issuer
        assert (oidc["issuer_uri"], oidc["jwks_json"]) == ("${var.gitlab_issuer}", "${var.gitlab_jwks_json}")
    else:
        assert oidc["issuer_uri"] == federation.default_issuer
    assert provider["attribute_mapping"] == federation.mapping
    subject = f"${{var.{subject_variable}}}"
    assert provider["attribute_condition"] == federation.condition(subject)
    assert binding["role"] == WORKLOAD_IDENTITY_USER
    pool_name = f"projects/N/locations/global/workloadIdentityPools/{federation.pool_id}"
    module_pool_name = f"${{google_iam_workload_identity_pool.{name}[0].name}}"
    assert binding["member"] == federation.member("N", subject).replace(pool_name, module_pool_name)
    services = resource("google_project_service", "services")["for_each"]
    assert all(f'"{s}"' in services for s in defaults.WORKLOAD_IDENTITY_SERVICES)
    assert f"local.use_{'gitlab_' if name == 'gitlab' else ''}wif" in services


def provider_block(example: str) -> dict[str, Any]:
    (block,) = [p["google"] for p in parse(MODULE / "examples" / example / "main.tf").get("provider", [])]
    return block


@pytest.mark.parametrize("example", ["existing-project", "api-key-only"])
def test_a_key_in_an_existing_project_bills_its_project_with_plain_adc(example: str) -> None:
    """google_apikeys_key with a user's ADC needs a quota project, as gcp-setup's policy gives API Keys
    (gcp_setup/google/quota_projects.py): the provider names the key's project."""
    from gcp_setup.google.quota_projects import quota_project

    provider = provider_block(example)
    assert provider["user_project_override"] is True
    assert provider["billing_project"] == provider["project"] == "${var.project_id}"
    assert quota_project("apikeys", user=True, project="P", billing_project=None) == "P"


def test_a_new_project_names_no_quota_project_and_the_readme_says_why() -> None:
    assert "user_project_override" not in provider_block("new-project")
    assert "does not exist before the run creates it" in " ".join((MODULE / "README.md").read_text().split())
