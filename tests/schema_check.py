"""Check a JSON answer against a schema of a Google discovery document.

Strict where the clients are strict: a field the schema does not name fails (google-cloud-* clients
refuse unknown fields in operation responses), and so does a wrong JSON type (int64 travels as a string).
"""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator.core import discovery


def problems(api_version: str, schema_name: str, value: Any) -> list[str]:
    """Every mismatch between `value` and `schema_name`, as "path: what" lines; empty when it conforms."""
    schemas = discovery.schemas(api_version)
    found: list[str] = []
    _check(schemas, {"$ref": schema_name}, value, schema_name, found)
    return found


def method_response_problems(api_version: str, method_id: str, value: Any) -> list[str]:
    schema = discovery.method(api_version, method_id).response_schema
    if schema is None:
        return [] if value in ({}, None) else [f"{method_id} has no response schema but answered {value!r}"]
    return problems(api_version, schema, value)


def _check(schemas: dict[str, Any], schema: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "any" or not kind:
        return
    if kind == "object":
        if not isinstance(value, dict):
            found.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                _check(schemas, props[key], item, f"{path}.{key}", found)
            elif extra is not None:
                _check(schemas, extra, item, f"{path}[{key}]", found)
            else:
                found.append(f"{path}: unknown field {key!r}")
        return
    if kind == "array":
        if not isinstance(value, list):
            found.append(f"{path}: expected an array, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check(schemas, schema.get("items", {}), item, f"{path}[{i}]", found)
        return
    if kind == "string":
        if not isinstance(value, str):
            found.append(f"{path}: expected a string (format {schema.get('format', '-')}), got {value!r}")
        elif "enum" in schema and value not in schema["enum"]:
            found.append(f"{path}: {value!r} is not one of {schema['enum']}")
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            found.append(f"{path}: expected an integer, got {value!r}")
        return
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            found.append(f"{path}: expected a number, got {value!r}")
        return
    if kind == "boolean" and not isinstance(value, bool):
        found.append(f"{path}: expected a boolean, got {value!r}")
