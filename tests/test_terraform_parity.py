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

MODULE = Path(__file__).resolve().parent.parent / "terraform"


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
    from gcp_setup import settings

    project_rules = " ".join(v["condition"] for v in VARIABLES["project_id"]["validation"])
    assert all(f'"{word}"' in project_rules for word in settings.RESERVED_PROJECT_WORDS)
    role_rule = VARIABLES["roles"]["validation"][0]["condition"]
    assert settings._ROLE.pattern in role_rule


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
    from gcp_setup.settings import project_id_problem

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
    from gcp_setup.config import Config
    from gcp_setup.google.session import GoogleSession
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


def test_workload_identity_federation_matches_the_python_side() -> None:
    """Same pool and provider IDs, issuer, mapping, condition, binding and STS as `--github-repo`."""
    from gcp_setup.federations import GITHUB
    from gcp_setup.steps.workload_identity import WORKLOAD_IDENTITY_USER

    pool = resource("google_iam_workload_identity_pool", "github")
    provider = resource("google_iam_workload_identity_pool_provider", "github")
    binding = resource("google_service_account_iam_member", "github_wif")
    assert default("workload_identity_pool_id") == defaults.WORKLOAD_IDENTITY_POOL_ID
    assert default("workload_identity_provider_id") == defaults.WORKLOAD_IDENTITY_PROVIDER_ID
    assert pool["display_name"] == defaults.WORKLOAD_IDENTITY_POOL_DISPLAY_NAME
    assert provider["display_name"] == defaults.WORKLOAD_IDENTITY_PROVIDER_DISPLAY_NAME
    assert [block["issuer_uri"] for block in provider["oidc"]] == [defaults.GITHUB_OIDC_ISSUER]
    assert provider["attribute_mapping"] == defaults.GITHUB_ATTRIBUTE_MAPPING
    repository = "${var.github_repository}"
    assert provider["attribute_condition"] == defaults.github_attribute_condition(repository)
    assert binding["role"] == WORKLOAD_IDENTITY_USER
    pool_name = f"projects/N/locations/global/workloadIdentityPools/{defaults.WORKLOAD_IDENTITY_POOL_ID}"
    module_pool_name = "${google_iam_workload_identity_pool.github[0].name}"
    assert binding["member"] == GITHUB.member("N", repository).replace(pool_name, module_pool_name)
    services = resource("google_project_service", "services")["for_each"]
    assert all(f'"{s}"' in services for s in defaults.WORKLOAD_IDENTITY_SERVICES)


def test_gitlab_federation_matches_the_python_side() -> None:
    """Same pool and provider IDs, issuer, inline keys, mapping, condition, binding and STS as
    `--gitlab-project` (with --gitlab-issuer and --gitlab-jwks)."""
    from gcp_setup.federations import GITLAB
    from gcp_setup.steps.workload_identity import WORKLOAD_IDENTITY_USER

    pool = resource("google_iam_workload_identity_pool", "gitlab")
    provider = resource("google_iam_workload_identity_pool_provider", "gitlab")
    binding = resource("google_service_account_iam_member", "gitlab_wif")
    assert default("gitlab_workload_identity_pool_id") == GITLAB.pool_id
    assert default("gitlab_workload_identity_provider_id") == GITLAB.provider_id
    assert default("gitlab_issuer") == GITLAB.default_issuer
    assert pool["display_name"] == GITLAB.pool_display_name
    assert provider["display_name"] == GITLAB.provider_display_name
    [oidc] = provider["oidc"]
    assert (oidc["issuer_uri"], oidc["jwks_json"]) == ("${var.gitlab_issuer}", "${var.gitlab_jwks_json}")
    assert provider["attribute_mapping"] == GITLAB.mapping
    project = "${var.gitlab_project}"
    assert provider["attribute_condition"] == GITLAB.condition(project)
    assert binding["role"] == WORKLOAD_IDENTITY_USER
    pool_name = f"projects/N/locations/global/workloadIdentityPools/{GITLAB.pool_id}"
    module_pool_name = "${google_iam_workload_identity_pool.gitlab[0].name}"
    assert binding["member"] == GITLAB.member("N", project).replace(pool_name, module_pool_name)
    services = resource("google_project_service", "services")["for_each"]
    assert "local.use_gitlab_wif" in services
