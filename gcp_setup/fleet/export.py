"""`export terraform` of a fleet file: one root module that calls terraform/ once per project with
`for_each`, one tfvars map of the projects' inputs, and the `terraform import`s of what exists.

Each project's inputs are exactly what `export terraform` writes for it alone (terraform_export.py);
the map's object type is inferred from them, with the inputs some entries leave out `optional`. Then
any Terraform runner (remote state, Terraform Cloud, Atlantis) runs the fleet at any scale.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gcp_setup.export.terraform import Import, export
from gcp_setup.settings.config import Config

MODULE_NAME = "gemini"
VARIABLE = "projects"
TFVARS_FILE = "terraform.tfvars"
ROOT_FILE = "main.tf"


@dataclass(frozen=True)
class FleetExport:
    main_tf: str
    tfvars: str
    imports: list[tuple[str, Import]]
    """(project ID, an import inside its module instance)"""

    def import_script(self) -> str:
        lines = [
            "#!/bin/sh",
            "# Adopt what gcp-setup created into the Terraform state (run in this root module's directory).",
            "set -e",
            *(i.command(f"{MODULE_NAME}[{json.dumps(project)}]") for project, i in self.imports),
        ]
        return "\n".join(lines) + "\n"


def export_fleet(configs: Sequence[Config], session: Any, source: str, parallelism: int) -> FleetExport:
    """Observe every project (read-only, `parallelism` at once) and write the fleet's root module."""
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(configs)))) as pool:
        exports = list(pool.map(lambda config: export(config, session), configs))
    values = {config.project: dict(e.values) for config, e in zip(configs, exports, strict=True)}
    imports = [(c.project, i) for c, e in zip(configs, exports, strict=True) for i in e.imports]
    return FleetExport(root_module(values, source), tfvars(values), imports)


def hcl_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, Mapping):
        return "map(string)"
    if isinstance(value, list | tuple):
        return "list(string)"
    return "string"


def input_types(values: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Input name -> its type in the map's object type; optional(...) when some project leaves it out."""
    names: dict[str, str] = {}
    for inputs in values.values():
        for name, value in inputs.items():
            names.setdefault(name, hcl_type(value))
    every = set.intersection(*(set(v) for v in values.values())) if values else set()
    return {name: t if name in every else _optional(t) for name, t in names.items()}


def _optional(hcl: str) -> str:
    """Left out: null, the module's default of its optional strings; a map (labels) defaults to {}."""
    return f"optional({hcl}, {{}})" if hcl.startswith("map(") else f"optional({hcl})"


def _aligned(pairs: Sequence[tuple[str, str]], indent: str) -> list[str]:
    """`name = value` lines aligned as `terraform fmt` aligns consecutive one-line attributes."""
    width = max((len(name) for name, _ in pairs), default=0)
    return [f"{indent}{name:<{width}} = {value}" for name, value in pairs]


def root_module(values: Mapping[str, Mapping[str, Any]], source: str) -> str:
    types = input_types(values)
    arguments = [(name, f"each.value.{name}") for name in types]
    lines = [
        "# Written by `gcp-setup export terraform` from a fleet file: terraform/ once per project.",
        "terraform {",
        '  required_version = ">= 1.5"',
        "}",
        "",
        'provider "google" {}',
        "",
        f'variable "{VARIABLE}" {{',
        '  description = "Project ID -> the inputs of its module instance (terraform.tfvars)."',
        "  type = map(object({",
        *_aligned(list(types.items()), "    "),
        "  }))",
        "}",
        "",
        f'module "{MODULE_NAME}" {{',
        f'  source   = "{source}"',
        f"  for_each = var.{VARIABLE}",
        "",
        *_aligned(arguments, "  "),
        "}",
        "",
        'output "service_account_emails" {',
        '  description = "Project ID -> the service account its Gemini calls run as."',
        f"  value       = {{ for id, one in module.{MODULE_NAME} : id => one.service_account_email }}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _literal(value: Any, indent: str) -> str:
    """An HCL literal; maps and lists one entry per line, as `terraform fmt` keeps them."""
    inner = indent + "  "
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        entries = _aligned([(json.dumps(k), _literal(v, inner)) for k, v in value.items()], inner)
        return "{\n" + "\n".join(entries) + f"\n{indent}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + "".join(f"{inner}{json.dumps(v)},\n" for v in value) + f"{indent}]"
    return json.dumps(value)


def tfvars(values: Mapping[str, Mapping[str, Any]]) -> str:
    """The map, each project's inputs separated by blank lines (nothing for `terraform fmt` to align
    across a multi-line value)."""
    projects = []
    for project, inputs in values.items():
        body = "\n\n".join(f"    {name} = {_literal(value, '    ')}" for name, value in inputs.items())
        projects.append(f"  {json.dumps(project)} = {{\n{body}\n  }}")
    header = "# Written by `gcp-setup export terraform` from the fleet file's resolved settings.\n"
    return header + f"{VARIABLE} = {{\n" + "\n\n".join(projects) + "\n}\n"
