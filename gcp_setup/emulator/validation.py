"""Malformed request bodies answer 400 INVALID_ARGUMENT in Google's shape, on every route, instead of a
crash: a body that is not a JSON object, and a field whose JSON type is not the one the method's request
schema (from the discovery document the route came from) gives it. Only types are checked here, not
unknown fields, required fields or value rules: those are each API's own (fidelity) work.

Google's front end answers a type error as `Invalid value at 'service_account.display_name'
(TYPE_STRING), 123` with a google.rpc.BadRequest naming the field, and a root that is not an object as
`Invalid JSON payload received. Unknown name "": Root element must be a message.` (both as seen from
Google's APIs; the exact text per API may vary).
"""

from __future__ import annotations

import json
import re
from typing import Any

from gcp_setup.emulator import discovery, errors

BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_TYPE_NAMES = {
    "string": "TYPE_STRING",
    "boolean": "TYPE_BOOL",
    "integer": "TYPE_INT32",
    "number": "TYPE_DOUBLE",
}


def not_an_object() -> errors.InvalidArgument:
    return errors.InvalidArgument(
        'Invalid JSON payload received. Unknown name "": Root element must be a message.'
    )


def check_body(api_version: str, schema: str, body: Any) -> None:
    """Raise InvalidArgument for the first field of `body` whose JSON type the schema does not allow."""
    if not isinstance(body, dict):
        raise not_an_object()
    _check_object(discovery.schemas(api_version), {"$ref": schema}, body, "")


def _check_object(schemas: dict[str, Any], spec: dict[str, Any], value: dict[str, Any], path: str) -> None:
    definition = schemas.get(spec["$ref"], {}) if "$ref" in spec else spec
    properties = definition.get("properties", {})
    extra = definition.get("additionalProperties")
    for name, item in value.items():
        field = properties.get(name) or extra
        if field is not None:
            _check(schemas, field, item, f"{path}.{_snake(name)}" if path else _snake(name))


def _check(schemas: dict[str, Any], spec: dict[str, Any], value: Any, path: str) -> None:
    if value is None:
        return  # proto3 JSON: null is the field's default
    kind = "object" if "$ref" in spec else spec.get("type", "any")
    if kind == "object":
        if not isinstance(value, dict):
            raise _invalid(path, "TYPE_MESSAGE", value)
        _check_object(schemas, spec, value, path)
    elif kind == "array":
        if not isinstance(value, list):
            raise _invalid(path, "TYPE_MESSAGE" if "$ref" in spec.get("items", {}) else "TYPE_STRING", value)
        for item in value:
            _check(schemas, spec.get("items", {}), item, path)
    elif kind in ("integer", "number") or spec.get("format") in ("int64", "uint64"):
        if isinstance(value, bool) or not isinstance(value, int | float | str) or not _numeric(value):
            raise _invalid(path, _TYPE_NAMES.get(kind, "TYPE_INT64"), value)
    elif kind == "string":
        if not isinstance(value, str):
            raise _invalid(path, "TYPE_STRING", value)
    elif kind == "boolean" and not isinstance(value, bool):
        raise _invalid(path, "TYPE_BOOL", value)


def _numeric(value: int | float | str) -> bool:
    """proto3 JSON takes numbers as numbers or as decimal strings."""
    if not isinstance(value, str):
        return True
    try:
        float(value)
        return True
    except ValueError:
        return False


def _invalid(path: str, type_name: str, value: Any) -> errors.InvalidArgument:
    description = f"Invalid value at '{path}' ({type_name}), {json.dumps(value)[:100]}"
    return errors.InvalidArgument(
        description,
        extra_details=[
            {"@type": BAD_REQUEST, "fieldViolations": [{"field": path, "description": description}]}
        ],
    )


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def body_of(request: Any) -> dict[str, Any]:
    """A werkzeug request's body: its JSON object, its form fields, or {} when it has none."""
    if not request.data:
        return dict(request.form) if request.form else {}
    try:
        body = json.loads(request.data)
    except ValueError:
        raise errors.InvalidArgument("Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise not_an_object()
    return body


def handled(route: Any, request: Any) -> Any:
    """The route's handler's answer. A body of a shape its handler did not expect (a string where a list
    was, "abc" for a number) makes it fail while reading it: the client's error, answered 400 as Google
    does, never a 500. Only with a body: without one, such a failure is the emulator's own bug."""
    try:
        return route.handler(request)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        if not request.body:
            raise
        raise errors.InvalidArgument(
            "Invalid JSON payload received. A field has a value of the wrong type or shape."
        ) from exc
