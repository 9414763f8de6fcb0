"""Build the Gemini API's discovery documents from its protos (dev tool).

google-api-python-client ships no discovery document for the Gemini API (Generative Language), but the
`google-ai-generativelanguage` package ships its protos and their HTTP rules. This script turns them into
discovery documents the emulator routes and validates with, as it does with the aiplatform ones:

    .venv/bin/python tools/gemini_discovery.py   # rewrites emulator/data/generativelanguage.*.json

tests/emulator/test_emulator_fidelity.py checks that the files match the installed package.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gcp_setup.emulator.guesses import GEMINI_FIELDS_NEWER_THAN_PROTOS

DATA = Path(__file__).resolve().parent.parent / "gcp_setup" / "emulator" / "data"
VERSIONS = ("v1", "v1beta")
_SCALARS = {
    "TYPE_STRING": {"type": "string"},
    "TYPE_BYTES": {"type": "string", "format": "byte"},
    "TYPE_BOOL": {"type": "boolean"},
    "TYPE_FLOAT": {"type": "number", "format": "float"},
    "TYPE_DOUBLE": {"type": "number", "format": "double"},
    "TYPE_INT32": {"type": "integer", "format": "int32"},
    "TYPE_SINT32": {"type": "integer", "format": "int32"},
    "TYPE_SFIXED32": {"type": "integer", "format": "int32"},
    "TYPE_UINT32": {"type": "integer", "format": "uint32"},
    "TYPE_FIXED32": {"type": "integer", "format": "uint32"},
    "TYPE_INT64": {"type": "string", "format": "int64"},
    "TYPE_SINT64": {"type": "string", "format": "int64"},
    "TYPE_SFIXED64": {"type": "string", "format": "int64"},
    "TYPE_UINT64": {"type": "string", "format": "uint64"},
    "TYPE_FIXED64": {"type": "string", "format": "uint64"},
}
_WELL_KNOWN = {
    "google.protobuf.Struct": {"type": "object", "additionalProperties": {"type": "any"}},
    "google.protobuf.Value": {"type": "any"},
    "google.protobuf.ListValue": {"type": "array", "items": {"type": "any"}},
    "google.protobuf.Timestamp": {"type": "string", "format": "google-datetime"},
    "google.protobuf.Duration": {"type": "string", "format": "google-duration"},
    "google.protobuf.FieldMask": {"type": "string", "format": "google-fieldmask"},
    "google.protobuf.Any": {"type": "object", "additionalProperties": {"type": "any"}},
    "google.protobuf.Empty": {"type": "object", "properties": {}},
}
_VERB_PREFIXES = {"List": "list", "Get": "get", "Create": "create", "Delete": "delete", "Update": "patch"}


def _descriptor(cls: Any) -> Any:
    return cls.pb().DESCRIPTOR if hasattr(cls, "pb") else cls.DESCRIPTOR


def _type_name(field: Any) -> str:
    from google.protobuf import descriptor_pb2

    return descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)


class Schemas:
    """The schemas of every message reachable from the methods, named as discovery names them."""

    def __init__(self) -> None:
        self.by_name: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] = {}

    def ref(self, message: Any) -> dict[str, Any]:
        if message.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[message.full_name])
        if message.full_name not in self._names:
            name = message.name
            if name in self.by_name:
                name = message.full_name.rsplit(".", 2)[-2] + message.name
            self._names[message.full_name] = name
            self.by_name[name] = {}  # reserve before recursing: messages refer to themselves
            self.by_name[name] = self._schema(message, name)
        return {"$ref": self._names[message.full_name]}

    def _schema(self, message: Any, name: str) -> dict[str, Any]:
        properties = {field.json_name: self._field(field) for field in message.fields}
        return {"id": name, "type": "object", "properties": properties}

    def _field(self, field: Any) -> dict[str, Any]:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._single(value)}
        single = self._single(field)
        if field.is_repeated:
            return {"type": "array", "items": single}
        return single

    def _single(self, field: Any) -> dict[str, Any]:
        kind = _type_name(field)
        if kind == "TYPE_ENUM":
            return {"type": "string", "enum": [v.name for v in field.enum_type.values]}
        if kind in ("TYPE_MESSAGE", "TYPE_GROUP"):
            return self.ref(field.message_type)
        return dict(_SCALARS[kind])


def flat_path(uri: str) -> str:
    """/v1beta/{model=models/*}:generateContent -> v1beta/models/{modelsId}:generateContent"""

    def expand(match: re.Match[str]) -> str:
        segments = match.group(2).split("/")
        wildcards = {"*": "{%sId}", "**": "{+%sId}"}
        return "/".join(
            wildcards[s] % segments[i - 1] if s in wildcards else s for i, s in enumerate(segments)
        )

    return re.sub(r"\{([\w.]+)=([^}]+)\}", expand, uri).lstrip("/")


def method_id(flat: str, rpc: str) -> str:
    path, _, custom = flat.partition(":")
    collections = [s for s in path.split("/")[1:] if not s.startswith("{")]
    verb = custom or next(
        (v for prefix, v in _VERB_PREFIXES.items() if rpc.startswith(prefix)), rpc[0].lower() + rpc[1:]
    )
    return ".".join(["generativelanguage", *collections, verb])


def rest_methods(api_version: str):
    """(rpc name, http options, request class, response class) of every REST method in the protos."""
    package = importlib.import_module(f"google.ai.generativelanguage_{api_version}.services")
    for service in pkgutil.iter_modules(package.__path__):
        rest = importlib.import_module(f"{package.__name__}.{service.name}.transports.rest")
        transport = next(c for n, c in vars(rest).items() if n.endswith("RestTransport") and n[0] != "_")
        calls = {
            n[1:]: c for n, c in vars(transport).items() if n.startswith("_") and not n.startswith("_Base")
        }
        for rpc, call in sorted(calls.items()):
            if not inspect.isclass(call) or not hasattr(call, "_get_http_options"):
                continue
            hints = call.__call__.__annotations__
            yield rpc, call._get_http_options(), hints.get("request"), hints.get("return")


def _response(rpc: str, response: Any, responses: dict[str, Any]) -> Any:
    """Streaming methods annotate an iterator: their messages are the unary sibling's."""
    if hasattr(response, "pb") or hasattr(response, "DESCRIPTOR"):
        return response
    return responses.get(rpc.removeprefix("Stream"))


def build(api_version: str) -> dict[str, Any]:
    schemas = Schemas()
    resources: dict[str, Any] = {}
    methods = list(rest_methods(api_version))
    responses = {rpc: resp for rpc, _, _, resp in methods if hasattr(resp, "pb")}
    seen: set[tuple[str, str]] = set()
    for rpc, options, request, response in methods:
        for option in options:
            flat = flat_path(option["uri"])
            http_method = option["method"].upper()
            if (http_method, flat) in seen:
                continue
            seen.add((http_method, flat))
            mid = method_id(flat, rpc)
            entry: dict[str, Any] = {"id": mid, "httpMethod": http_method, "flatPath": flat, "path": flat}
            body = option.get("body")
            if body:
                message = _descriptor(request)
                if body != "*":
                    message = message.fields_by_name[body].message_type
                entry["request"] = schemas.ref(message)
            reply = _response(rpc, response, responses)
            if reply is not None:
                entry["response"] = schemas.ref(_descriptor(reply))
            node = resources
            for part in mid.split(".")[1:-1]:
                node = node.setdefault(part, {}).setdefault("resources", {})
            parent = resources
            for part in mid.split(".")[1:-2]:
                parent = parent[part]["resources"]
            parent[mid.split(".")[-2]].setdefault("methods", {})[mid.rsplit(".", 1)[-1]] = entry
    for name, extra in GEMINI_FIELDS_NEWER_THAN_PROTOS.items():
        if name in schemas.by_name:
            schemas.by_name[name]["properties"].update(extra)
    return {
        "kind": "discovery#restDescription",
        "name": "generativelanguage",
        "version": api_version,
        "rootUrl": "https://generativelanguage.googleapis.com/",
        "revision": f"google-ai-generativelanguage {version('google-ai-generativelanguage')}",
        "description": "Built from the protos of google-ai-generativelanguage by tools/gemini_discovery.py.",
        "resources": _prune(resources),
        "schemas": dict(sorted(schemas.by_name.items())),
    }


def _prune(resources: dict[str, Any]) -> dict[str, Any]:
    """Drop the empty `resources` maps that building left behind."""
    out = {}
    for name, node in sorted(resources.items()):
        pruned = {k: v for k, v in node.items() if k != "resources"}
        children = _prune(node.get("resources", {}))
        if children:
            pruned["resources"] = children
        out[name] = pruned
    return out


def document_text(api_version: str) -> str:
    return json.dumps(build(api_version), indent=1, sort_keys=True) + "\n"


def main() -> int:
    for api_version in VERSIONS:
        (DATA / f"generativelanguage.{api_version}.json").write_text(document_text(api_version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
