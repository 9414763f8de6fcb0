"""The Terraform module sets up what `gcp-setup apply` sets up: its defaults equal gcp_setup/defaults.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
from tf_schema_check import HCL_OPTIONS, IS_BLOCK

from gcp_setup import defaults, envvars

MODULE = Path(__file__).resolve().parent.parent / "terraform"


def _blocks(file: str, kind: str) -> dict[str, Any]:
    doc = hcl2.loads((MODULE / file).read_text(), serialization_options=HCL_OPTIONS)
    return {name: body for entry in doc.get(kind, []) for name, body in entry.items() if name != IS_BLOCK}


VARIABLES = _blocks("variables.tf", "variable")


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
    assert default("api_key_id") == defaults.API_KEY_ID
    assert default("api_key_display_name") == defaults.API_KEY_DISPLAY_NAME
    assert default("api_key_targets") == list(defaults.API_KEY_TARGETS)
    assert default("create_api_key") is True


def test_location() -> None:
    assert default("location") == defaults.LOCATION


def test_services_are_not_disabled_on_destroy() -> None:
    assert default("disable_services_on_destroy") is False
    resources = _blocks("main.tf", "resource")
    assert resources["google_project_service"]["services"]["disable_on_destroy"] == (
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
    from gcp_setup import config

    project_rules = " ".join(v["condition"] for v in VARIABLES["project_id"]["validation"])
    assert all(f'"{word}"' in project_rules for word in config.RESERVED_PROJECT_WORDS)
    role_rule = VARIABLES["roles"]["validation"][0]["condition"]
    assert config._ROLE.pattern in role_rule
