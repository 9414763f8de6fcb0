"""Request bodies checked against the method's request schema in its discovery document, as Google's JSON
front end checks them: an unknown field or a value of the wrong type answers 400 INVALID_ARGUMENT with one
google.rpc.BadRequest field violation per problem, paths in the proto's snake_case, map entries addressed as
`name[i].value`:

    Invalid JSON payload received. Unknown name "x" at 'generation_config': Cannot find field.
    Invalid value at 'generation_config.temperature' (TYPE_FLOAT), "hot"

Either spelling of a field name is taken (`generationConfig`, `generation_config`), and null for any field.

The server checks every body's types against its route's schema before any handler (`strict=False`:
unknown fields pass, as each API decides those); the data-plane handlers check strictly. A handler that
still fails on a body of an unexpected shape answers 400 too (`handled`), never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import discovery, errors

BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_SCALAR_NAMES: dict[tuple[str | None, str | None], str] = {
    ("string", None): "TYPE_STRING",
    ("string", "byte"): "TYPE_BYTES",
    ("string", "int64"): "TYPE_INT64",
    ("string", "uint64"): "TYPE_UINT64",
    ("integer", "int32"): "TYPE_INT32",
    ("integer", "uint32"): "TYPE_UINT32",
    ("number", "float"): "TYPE_FLOAT",
    ("number", "double"): "TYPE_DOUBLE",
    ("boolean", None): "TYPE_BOOL",
}


def check_body(api_version: str, method_id: str, body: Any, *, strict: bool = True) -> None:
    """Raise Google's 400 if `body` does not fit the request schema of `method_id` (no schema: no check).
    `strict=False`: only the types of known fields (and that the body is an object) are checked."""
    reference = discovery.method(api_version, method_id).request_schema
    if reference is None:
        return
    if not isinstance(body, dict):
        raise not_an_object()
    checker = _Checker(api_version, discovery.schemas(api_version), strict)
    _raise(checker.problems({"$ref": reference}, body, ""))


def not_an_object() -> errors.InvalidArgument:
    return errors.InvalidArgument(
        'Invalid JSON payload received. Unknown name "": Root element must be a message.'
    )


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


def check_fields(body: Any, properties: dict[str, Any]) -> None:
    """The same 400 for a body with no discovery schema (the OpenAI-compatible endpoints): each field of
    `properties` it has must be of its type; other fields are let through."""
    schema = {"type": "object", "properties": properties, "unknownAllowed": True}
    _raise(_Checker("", {"Body": schema}, strict=True).problems({"$ref": "Body"}, body, ""))


def _raise(found: list[tuple[str, str]]) -> None:
    if found:
        descriptions = [d for _, d in found]
        violations = [{"field": f, "description": d} if f else {"description": d} for f, d in found]
        raise errors.InvalidArgument(
            "\n".join(descriptions), extra_details=[{"@type": BAD_REQUEST, "fieldViolations": violations}]
        )


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


class _Checker:
    def __init__(self, api_version: str, schemas: dict[str, Any], strict: bool) -> None:
        self.api_version = api_version
        self.schemas = schemas
        self.strict = strict

    def problems(self, schema: dict[str, Any], value: Any, path: str) -> list[tuple[str, str]]:
        if value is None:
            return []
        reference = schema.get("$ref")
        if reference:
            return self._message(reference, self.schemas.get(reference, {}), value, path)
        kind = schema.get("type")
        if kind == "object" and "properties" in schema:
            return self._message("", schema, value, path)
        if kind == "array":
            if not isinstance(value, list):
                return [self._invalid(path, schema.get("items") or {}, value)]
            items = schema.get("items") or {}
            return [p for i, v in enumerate(value) for p in self.problems(items, v, f"{path}[{i}]")]
        if kind == "object" and "additionalProperties" in schema:
            if not isinstance(value, dict):
                return [self._invalid(path, schema, value)]
            entry = schema["additionalProperties"]
            return [
                p for i, v in enumerate(value.values()) for p in self.problems(entry, v, f"{path}[{i}].value")
            ]
        return [] if _fits(schema, value) else [self._invalid(path, schema, value)]

    def _message(self, name: str, schema: dict[str, Any], value: Any, path: str) -> list[tuple[str, str]]:
        if not isinstance(value, dict):
            return [self._invalid(path, {"$ref": name} if name else schema, value)]
        properties = schema.get("properties") or {}
        found = []
        for key, item in value.items():
            known = properties.get(key) or properties.get(camel(key))
            child = f"{path}.{snake(camel(key))}" if path else snake(camel(key))
            if known is None and (schema.get("unknownAllowed") or not self.strict):
                continue
            if known is None:
                where = f" at '{path}'" if path else ""
                found.append(
                    (path, f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.')
                )
            else:
                found += self.problems(known, item, child)
        return found

    def _invalid(self, path: str, schema: dict[str, Any], value: Any) -> tuple[str, str]:
        # The JSON value as sent: a string in quotes, a number or a list as it is.
        return path, f"Invalid value at '{path}' ({self._type_name(schema)}), {json.dumps(value)[:200]}"

    def _type_name(self, schema: dict[str, Any]) -> str:
        if schema.get("$ref"):
            return (
                guesses.proto_type_url(self.api_version, schema["$ref"])
                if self.api_version
                else "TYPE_MESSAGE"
            )
        if schema.get("enum"):
            return "TYPE_ENUM"
        return _SCALAR_NAMES.get((schema.get("type"), schema.get("format")), "TYPE_MESSAGE")


def _fits(schema: dict[str, Any], value: Any) -> bool:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind in (None, "any"):
        return True
    if schema.get("enum"):
        return (isinstance(value, str) and value in schema["enum"]) or _is_int(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer" or (kind == "string" and fmt in ("int64", "uint64")):
        return _is_int(value) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None)
    if kind == "number":
        return (isinstance(value, int | float) and not isinstance(value, bool)) or _numeric_string(value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def _numeric_string(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    return (
        value in ("NaN", "Infinity", "-Infinity")
        or re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value) is not None
    )
