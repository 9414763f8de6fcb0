"""Offline check of Terraform configuration against provider schemas (what `terraform validate` would
catch without the provider binary, which cannot be downloaded here).

Schemas are in the layout of `terraform providers schema -json`: the committed extracts of
hashicorp/google under tests/terraform_schema/ (tools/extract_provider_schema.py), a hand-written one
for hashicorp/time's time_sleep, or a real dump from a machine with network access.

Checked for every resource and data block: the type exists; every argument exists; required arguments
are set; nested blocks are written as blocks and attributes (maps included) as attributes; computed-only
attributes are not set; `dynamic` blocks name a nested block and their `content` is checked like one;
references `TYPE.NAME.ATTR` name a real attribute. Module calls with a local source are checked
against the module's variables and outputs. Meta-arguments are allowed. Not checked (not in the
schema): ForceNew, defaults, conflicts_with/exactly_one_of, value formats, expression types.

HCL is parsed with python-hcl2 8.x with `explicit_blocks=True`: with `explicit_blocks=False` a block
`timeouts { ... }` and an attribute `timeouts = [{ ... }]` parse to the same list of dicts, so a block
written as an attribute would pass unseen. The `__is_block__` markers tell the two apart.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

HCL_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=True, with_comments=False)
IS_BLOCK = "__is_block__"
RESOURCE_META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"})
RESOURCE_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
MODULE_META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "depends_on", "providers"})
# TYPE.NAME[index].ATTR, optionally after `data.`; the lookbehind keeps `module.x.google_y` out.
SCHEMA_DIR = Path(__file__).resolve().parent / "terraform_schema"
GOOGLE_SCHEMAS = sorted(SCHEMA_DIR.glob("google-*.json"))
"""The real hashicorp/google provider schemas the module is checked against (7.x and 8.x)."""
TIME_SCHEMA = SCHEMA_DIR / "time-0.13-handwritten.json"

_REFERENCE = re.compile(r"(?<![\w.])(data\.)?((?:google|time)_\w+)\.(\w+)(?:\[[^\]]*\])?\.(\w+)")
_MODULE_OUTPUT = re.compile(r"(?<![\w.])module\.(\w+)(?:\[[^\]]*\])?\.(\w+)")


@dataclass(frozen=True)
class Problem:
    file: str
    address: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.address}: {self.message}"


@dataclass
class Schemas:
    """Resource and data source schemas of one or more providers, by Terraform type."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, *paths: Path) -> Schemas:
        schemas = cls()
        for path in paths:
            for address, provider in json.loads(path.read_text())["provider_schemas"].items():
                schemas.resources.update(_blocks(provider["resource_schemas"]))
                schemas.data_sources.update(_blocks(provider["data_source_schemas"]))
                schemas.versions[address] = provider.get("provider_version", "?")
        return schemas

    def block(self, kind: str, tf_type: str) -> dict[str, Any] | None:
        return (self.resources if kind == "resource" else self.data_sources).get(tf_type)


def require_terraform() -> str:
    """The terraform binary; the calling test skips where it is not installed, and fails under CI=true."""
    import pytest
    from conftest import IN_CI

    terraform = shutil.which("terraform")
    if terraform is None:
        if IN_CI:
            pytest.fail("terraform is not installed; CI must run the terraform checks")
        pytest.skip("terraform binary not installed (CI installs it)")
    return terraform


def parse(path: Path) -> dict[str, Any]:
    return hcl2.loads(path.read_text(), serialization_options=HCL_OPTIONS)


def check_directory(directory: Path, schemas: Schemas) -> list[Problem]:
    """Checks one Terraform module (the *.tf files of one directory, as Terraform reads them)."""
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.tf")):
        problems += check_document(parse(path), schemas, str(path), directory)
    return problems


def check_document(
    doc: dict[str, Any], schemas: Schemas, file: str, directory: Path | None = None
) -> list[Problem]:
    problems: list[Problem] = []
    for kind in ("resource", "data"):
        for tf_type, name, body in labelled_blocks(doc.get(kind, [])):
            address = f"{'data.' if kind == 'data' else ''}{tf_type}.{name}"
            block = schemas.block(kind, tf_type)
            if block is None:
                problems.append(Problem(file, address, f"no {kind} type {tf_type} in the provider schema"))
                continue
            problems += [Problem(file, address, m) for m in check_block(body, block, top_level=True)]
    problems += [Problem(file, where, m) for where, m in _check_references(doc, schemas)]
    if directory is not None:
        problems += _check_module_calls(doc, directory, file)
    return problems


def check_block(body: dict[str, Any], block: dict[str, Any], *, top_level: bool = False) -> list[str]:
    """Problems of one block body against its schema block; nested paths are dotted."""
    attributes: dict[str, Any] = block.get("attributes", {})
    block_types: dict[str, Any] = block.get("block_types", {})
    problems: list[str] = []
    for key, value in body.items():
        if key == IS_BLOCK or (top_level and key in RESOURCE_META_ARGUMENTS | RESOURCE_META_BLOCKS):
            continue
        if key == "dynamic":
            problems += _check_dynamic(value, block_types)
        elif key in attributes:
            problems += _check_attribute(key, value, attributes[key])
        elif key in block_types:
            problems += _check_nested_blocks(key, value, block_types[key])
        else:
            problems.append(f"unknown argument {key!r}{_did_you_mean(key, [*attributes, *block_types])}")
    dynamic_names = {label for label, _ in _dynamic_blocks(body.get("dynamic", []))}
    problems += [
        f"required argument {name!r} is not set"
        for name, spec in attributes.items()
        if spec.get("required") and name not in body
    ]
    problems += [
        f"required block {name!r} is missing"
        for name, spec in block_types.items()
        if spec.get("min_items", 0) > 0 and name not in body and name not in dynamic_names
    ]
    return problems


def _check_attribute(name: str, value: Any, spec: dict[str, Any]) -> list[str]:
    if _is_block_list(value):
        return [
            f"{name!r} is an attribute (type {_type_text(spec['type'])}): write `{name} = ...`, not a block"
        ]
    if spec.get("computed") and not (spec.get("optional") or spec.get("required")):
        return [f"{name!r} is computed by the provider and cannot be set"]
    return []


def _check_nested_blocks(name: str, value: Any, spec: dict[str, Any]) -> list[str]:
    if not _is_block_list(value):
        return [f"{name!r} is a nested block: write `{name} {{ ... }}`, not `{name} = ...`"]
    problems: list[str] = []
    if spec["nesting_mode"] == "single" and len(value) > 1:
        problems.append(f"block {name!r} may appear only once")
    for instance in value:
        problems += [f"{name}: {p}" for p in check_block(instance, spec["block"])]
    return problems


def _check_dynamic(value: Any, block_types: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for label, body in _dynamic_blocks(value):
        if label not in block_types:
            problems.append(
                f"dynamic {label!r} is not a nested block{_did_you_mean(label, list(block_types))}"
            )
            continue
        if "for_each" not in body:
            problems.append(f"dynamic {label!r} needs for_each")
        contents = body.get("content")
        if not _is_block_list(contents) or len(contents) != 1:
            problems.append(f"dynamic {label!r} needs exactly one content block")
            continue
        problems += [f"{label}: {p}" for p in check_block(contents[0], block_types[label]["block"])]
    return problems


def _check_references(doc: dict[str, Any], schemas: Schemas) -> Iterator[tuple[str, str]]:
    for text in _strings(doc):
        for data_prefix, tf_type, name, attribute in _REFERENCE.findall(text):
            block = schemas.block("data" if data_prefix else "resource", tf_type)
            if block is None:
                continue  # an unknown type is reported where it is declared
            known = {"id", *block.get("attributes", {}), *block.get("block_types", {})}
            if attribute not in known:
                where = f"{data_prefix}{tf_type}.{name}"
                yield (
                    where,
                    f"reference to unknown attribute {attribute!r}{_did_you_mean(attribute, list(known))}",
                )


def _check_module_calls(doc: dict[str, Any], directory: Path, file: str) -> list[Problem]:
    problems: list[Problem] = []
    outputs_by_call: dict[str, set[str]] = {}
    for name, body in named_blocks(doc.get("module", [])):
        source = body.get("source", "")
        if not source.startswith(("./", "../")):
            continue  # a registry or git module: its interface is not at hand
        interface = ModuleInterface.read((directory / source).resolve())
        outputs_by_call[name] = interface.outputs
        address = f"module.{name}"
        for key in body:
            if key not in interface.variables and key not in MODULE_META_ARGUMENTS and key != IS_BLOCK:
                message = f"module has no variable {key!r}{_did_you_mean(key, list(interface.variables))}"
                problems.append(Problem(file, address, message))
        problems += [
            Problem(file, address, f"required variable {var!r} is not set")
            for var, required in interface.variables.items()
            if required and var not in body
        ]
    for text in _strings(doc):
        for call, output in _MODULE_OUTPUT.findall(text):
            outputs = outputs_by_call.get(call)
            if outputs is not None and output not in outputs:
                message = f"module has no output {output!r}{_did_you_mean(output, sorted(outputs))}"
                problems.append(Problem(file, f"module.{call}", message))
    return problems


@dataclass(frozen=True)
class ModuleInterface:
    variables: dict[str, bool]  # name -> required (declared without a default)
    outputs: set[str]

    @classmethod
    def read(cls, module_dir: Path) -> ModuleInterface:
        variables: dict[str, bool] = {}
        outputs: set[str] = set()
        for path in sorted(module_dir.glob("*.tf")):
            doc = parse(path)
            variables.update(
                {name: "default" not in body for name, body in named_blocks(doc.get("variable", []))}
            )
            outputs.update(name for name, _ in named_blocks(doc.get("output", [])))
        return cls(variables, outputs)


def _blocks(type_schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tf_type: schema["block"] for tf_type, schema in type_schemas.items()}


def labelled_blocks(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of `resource "TYPE" "NAME" { ... }` blocks."""
    for entry in blocks:
        for tf_type, named in entry.items():
            for name, body in named.items():
                if name != IS_BLOCK:
                    yield tf_type, name, body


def named_blocks(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, body) of `module "NAME" { ... }` / `variable "NAME" { ... }` blocks."""
    for entry in blocks:
        for name, body in entry.items():
            if name != IS_BLOCK:
                yield name, body


def _dynamic_blocks(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in value if isinstance(value, list) else []:
        yield from named_blocks([entry])


def _is_block_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and v.get(IS_BLOCK) for v in value)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _type_text(tf_type: Any) -> str:
    return tf_type if isinstance(tf_type, str) else f"{tf_type[0]}({_type_text(tf_type[1])})"


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_schemas(google_schema: Path) -> Schemas:
    return Schemas.load(google_schema, TIME_SCHEMA)
