"""The Terraform module, checked offline: `terraform fmt`, and every resource/data block of the module
and its examples against the real hashicorp/google schemas of provider 7.x and 8.x."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import hcl2
import pytest
from tf_schema_check import (
    GOOGLE_SCHEMAS,
    HCL_OPTIONS,
    Schemas,
    check_directory,
    check_document,
    load_schemas,
    parse,
    require_terraform,
)

ROOT = Path(__file__).resolve().parent.parent.parent
MODULE = ROOT / "terraform"
EXAMPLES = sorted(p for p in (MODULE / "examples").iterdir() if p.is_dir())


@pytest.fixture(scope="module", params=GOOGLE_SCHEMAS, ids=lambda p: p.stem)
def schemas(request: pytest.FixtureRequest) -> Schemas:
    return load_schemas(request.param)


def test_both_provider_majors_are_covered() -> None:
    majors = {p.stem.removeprefix("google-").split(".")[0] for p in GOOGLE_SCHEMAS}
    assert majors == {"7", "8"}
    assert 'version = ">= 7.0, < 9.0"' in (MODULE / "versions.tf").read_text()


def test_terraform_fmt() -> None:
    run = subprocess.run(
        [require_terraform(), "fmt", "-check", "-recursive", "-diff", str(MODULE)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, f"terraform fmt would change:\n{run.stdout}{run.stderr}"


@pytest.mark.parametrize("directory", [MODULE, *EXAMPLES], ids=lambda p: p.name)
def test_module_and_examples_match_provider_schema(directory: Path, schemas: Schemas) -> None:
    assert check_directory(directory, schemas) == []


def test_every_resource_type_of_the_module_is_validated(schemas: Schemas) -> None:
    declared = {
        block_type
        for path in MODULE.glob("*.tf")
        for kind in ("resource", "data")
        for entry in parse(path).get(kind, [])
        for block_type in entry
    }
    assert declared <= set(schemas.resources) | set(schemas.data_sources)
    assert len(declared) >= 10  # 9 google resources + time_sleep + data google_project


def problems_of(hcl: str, google_schema: Path = GOOGLE_SCHEMAS[-1]) -> list[str]:
    doc = hcl2.loads(textwrap.dedent(hcl), serialization_options=HCL_OPTIONS)
    return [p.message for p in check_document(doc, load_schemas(google_schema), "test.tf")]


VALID_KEY = """
resource "google_apikeys_key" "k" {
  name = "gemini-api-key"
  restrictions {
    api_targets { service = "generativelanguage.googleapis.com" }
  }
}
"""


@pytest.mark.parametrize("google_schema", GOOGLE_SCHEMAS, ids=lambda p: p.stem)
def test_valid_snippet_passes(google_schema: Path) -> None:
    assert problems_of(VALID_KEY, google_schema) == []


@pytest.mark.parametrize(
    ("hcl", "expected"),
    [
        pytest.param(
            VALID_KEY.replace('name = "gemini-api-key"', 'name = "k"\n  display_nam = "x"'),
            "unknown argument 'display_nam' (did you mean 'display_name'?)",
            id="misspelled-argument",
        ),
        pytest.param(
            VALID_KEY.replace('name = "gemini-api-key"', ""),
            "required argument 'name' is not set",
            id="missing-required-argument",
        ),
        pytest.param(
            'resource "google_apikeys_key" "k" {\n name = "k"\n restrictions = { api_targets = [] }\n}',
            "'restrictions' is a nested block: write `restrictions { ... }`, not `restrictions = ...`",
            id="block-as-object-attribute",
        ),
        pytest.param(
            # The form python-hcl2 cannot tell from a block without explicit_blocks=True.
            'resource "google_project_service" "s" {\n service = "x"\n timeouts = [{ create = "5m" }]\n}',
            "'timeouts' is a nested block: write `timeouts { ... }`, not `timeouts = ...`",
            id="block-as-list-attribute",
        ),
        pytest.param(
            'resource "google_project" "p" {\n name = "n"\n project_id = "p"\n labels { a = "b" }\n}',
            "'labels' is an attribute (type map(string)): write `labels = ...`, not a block",
            id="map-as-block",
        ),
        pytest.param(
            VALID_KEY.replace('name = "gemini-api-key"', 'name = "k"\n  key_string = "x"'),
            "'key_string' is computed by the provider and cannot be set",
            id="computed-attribute-set",
        ),
        pytest.param(
            'resource "google_apikeys_key" "k" {\n name = "k"\n restrictions {\n'
            '  dynamic "api_target" {\n for_each = [1]\n content { service = "x" }\n }\n }\n}',
            "restrictions: dynamic 'api_target' is not a nested block (did you mean 'api_targets'?)",
            id="dynamic-of-unknown-block",
        ),
        pytest.param(
            'resource "google_apikey_key" "k" {\n name = "k"\n}',
            "no resource type google_apikey_key in the provider schema",
            id="unknown-resource-type",
        ),
        pytest.param(
            VALID_KEY + 'output "x" {\n value = google_apikeys_key.k.key_strng\n}',
            "reference to unknown attribute 'key_strng' (did you mean 'key_string'?)",
            id="unknown-attribute-reference",
        ),
    ],
)
@pytest.mark.parametrize("google_schema", GOOGLE_SCHEMAS, ids=lambda p: p.stem)
def test_schema_check_catches(hcl: str, expected: str, google_schema: Path) -> None:
    assert expected in problems_of(hcl, google_schema)


def test_meta_arguments_and_dynamic_blocks_are_allowed() -> None:
    hcl = """
    resource "google_project_service" "s" {
      for_each   = toset(["a.googleapis.com"])
      provider   = google
      service    = each.value
      depends_on = [google_project.p]
      lifecycle {
        prevent_destroy = true
      }
    }
    resource "google_apikeys_key" "k" {
      count = 1
      name  = "k"
      restrictions {
        dynamic "api_targets" {
          for_each = ["generativelanguage.googleapis.com"]
          content {
            service = api_targets.value
          }
        }
      }
    }
    """
    assert problems_of(hcl) == []


def test_module_calls_are_checked_against_the_module_interface(tmp_path: Path) -> None:
    caller = tmp_path / "main.tf"
    caller.write_text(
        f'module "gemini" {{\n  source = "{os.path.relpath(MODULE, tmp_path)}"\n  projct_id = "x"\n}}\n'
        'output "o" {\n  value = module.gemini.api_key_strng\n}\n'
    )
    messages = [p.message for p in check_directory(tmp_path, load_schemas(GOOGLE_SCHEMAS[-1]))]
    assert "module has no variable 'projct_id' (did you mean 'project_id'?)" in messages
    assert "required variable 'project_id' is not set" in messages
    assert "module has no output 'api_key_strng' (did you mean 'api_key_string'?)" in messages


DOCS = "https://registry.terraform.io/providers/hashicorp/google/9.9.9/docs/resources/foo"


def _prop(name: str, jsii_type: dict, anchor: str | None = None, optional: bool = True) -> dict:
    link = f"{{@link {DOCS}#{anchor} x}}"
    prop = {"name": name, "type": jsii_type, "docs": {"remarks": link} if anchor else {}}
    return {**prop, "optional": True} if optional else prop


def test_extraction_rules_on_a_small_assembly() -> None:
    """The rules tools/extract_provider_schema.py applies to the 100+ MB assemblies, on a tiny one."""
    sys.path.insert(0, str(ROOT / "tools"))
    from extract_provider_schema import AssemblyReader

    string, struct = {"primitive": "string"}, {"fqn": "p.Target"}
    resolvable = {"fqn": "cdktn.IResolvable"}
    summary = f"Represents a {{@link {DOCS} google_foo}}."
    targets = {"union": {"types": [resolvable, {"collection": {"kind": "array", "elementtype": struct}}]}}
    types = {
        "p.Foo": {
            "kind": "class",
            "docs": {"summary": summary},
            "initializer": {"parameters": [{"name": "config", "type": {"fqn": "p.FooConfig"}}]},
            "properties": [
                {"name": "tfResourceType", "static": True, "type": string},
                {"name": "name", "type": string},
                {"name": "nameInput", "type": string},
                {"name": "keyString", "type": string},
            ],
        },
        "p.FooConfig": {
            "kind": "interface",
            "datatype": True,
            "interfaces": ["cdktn.TerraformMetaArguments"],
            "properties": [
                _prop("name", string, "name", optional=False),
                _prop("hugepageSize1G", string, "hugepage_size_1g"),
                _prop("buildAttribute", string, "build"),
                _prop("enabled", {"union": {"types": [{"primitive": "boolean"}, resolvable]}}, "enabled"),
                _prop("labels", {"collection": {"kind": "map", "elementtype": string}}, "labels"),
                _prop("restriction", struct, "restriction", optional=False),
                _prop("targets", targets, "targets"),
            ],
        },
        "p.Target": {
            "kind": "interface",
            "datatype": True,
            "properties": [_prop("service", string, "service", optional=False)],
        },
    }
    reader = AssemblyReader({"types": types})
    block = reader.schema("resources", "google_foo")["block"]

    assert reader.provider_version == "9.9.9"
    assert block["attributes"] == {
        "name": {"type": "string", "required": True},
        "hugepage_size_1g": {"type": "string", "optional": True},  # not hugepage_size1_g
        "build": {"type": "string", "optional": True},  # renamed in the bindings
        "enabled": {"type": "bool", "optional": True},
        "labels": {"type": ["map", "string"], "optional": True},
        "key_string": {"type": "string", "computed": True},
    }
    target = {"attributes": {"service": {"type": "string", "required": True}}, "block_types": {}}
    assert block["block_types"] == {
        "restriction": {"nesting_mode": "single", "block": target, "min_items": 1, "max_items": 1},
        "targets": {"nesting_mode": "list", "block": target},
    }
