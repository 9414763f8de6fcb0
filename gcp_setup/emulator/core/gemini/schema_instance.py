"""A deterministic instance of a schema: what the emulated model answers in JSON mode and passes as function
arguments. Both schema dialects Gemini takes are read: the OpenAPI subset of `responseSchema` and
`parameters` (types in capitals, `nullable`, `propertyOrdering`) and plain JSON Schema (`responseJsonSchema`,
`parametersJsonSchema`, OpenAI's `json_schema` and tool `parameters`, with `$ref`/`$defs`).

Every property is filled in, strings by their enum, format and length bounds, numbers by their bounds, arrays
with their minimum number of items (at least one); recursion stops at a depth where an optional part is left
out and a nullable one is null.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 6
_FORMATTED = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "duration": "P1D",
}


def instance(schema: dict[str, Any] | None) -> Any:
    """An instance of `schema` (either dialect); an empty or missing schema gives an empty object."""
    return _Builder(schema or {}).build(schema or {}, "value", 0)


class _Builder:
    def __init__(self, root: dict[str, Any]) -> None:
        self.definitions = {**(root.get("definitions") or {}), **(root.get("$defs") or {})}

    def build(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return self.build(self._preferred(schema[key]), name, depth)
        if schema.get("allOf"):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged = _merge(merged, self._resolve(part))
            return self.build(merged, name, depth)
        kind = _type(schema)
        if kind == "null" or (depth >= MAX_DEPTH and _nullable(schema)):
            return None
        builders = {
            "object": self._object,
            "array": self._array,
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
            "boolean": lambda *_: True,
        }
        return builders.get(kind, self._object)(schema, name, depth)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while isinstance(schema.get("$ref"), str) and seen < 32:
            key = schema["$ref"].rsplit("/", 1)[-1]
            schema = {**self.definitions.get(key, {}), **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def _preferred(self, options: list[Any]) -> Any:
        """The first alternative that is not null (a model fills in what it can)."""
        return next((o for o in options if _type(self._resolve(o)) != "null"), options[0])

    def _object(self, schema: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = (
            schema["properties"] if isinstance(schema.get("properties"), dict) else {}
        )
        required = set(schema.get("required") or [])
        ordering = [p for p in schema.get("propertyOrdering") or [] if p in properties]
        out = {}
        for prop in [*ordering, *(p for p in properties if p not in ordering)]:
            if depth + 1 < MAX_DEPTH or prop in required:
                out[prop] = self.build(properties[prop], prop, depth + 1)
        return out

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        if depth + 1 >= MAX_DEPTH and not schema.get("minItems"):
            return []
        prefix = schema.get("prefixItems") or []
        count = max(int(schema.get("minItems") or 1), len(prefix))
        if schema.get("maxItems") is not None:
            count = min(count, int(schema["maxItems"]))
        items = [self.build(p, name, depth + 1) for p in prefix[:count]]
        items += [self.build(schema.get("items") or {}, name, depth + 1) for _ in range(count - len(items))]
        return items

    def _string(self, schema: dict[str, Any], name: str, depth: int) -> str:
        text = _FORMATTED.get(str(schema.get("format") or "").lower(), f"example {name}")
        low, high = int(schema.get("minLength") or 0), schema.get("maxLength")
        if len(text) < low:
            text += "x" * (low - len(text))
        if high is not None:
            text = text[: int(high)]
        return text

    def _integer(self, schema: dict[str, Any], name: str, depth: int) -> int:
        return int(_number_in_bounds(schema, step=1))

    def _number(self, schema: dict[str, Any], name: str, depth: int) -> float:
        return float(_number_in_bounds(schema, step=0.5))


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    if kind is None:
        return "object" if "properties" in schema else "array" if "items" in schema else "string"
    return str(kind).lower()


def _nullable(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return bool(schema.get("nullable")) or (isinstance(kind, list) and "null" in kind)


def _number_in_bounds(schema: dict[str, Any], step: float) -> float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value = float(low) if low is not None else min(0.0, float(high)) if high is not None else 0.0
    if "exclusiveMinimum" in schema and value <= float(schema["exclusiveMinimum"]):
        value = float(schema["exclusiveMinimum"]) + step
    if high is not None and value > float(high):
        value = float(high)
    if "exclusiveMaximum" in schema and value >= float(schema["exclusiveMaximum"]):
        value = float(schema["exclusiveMaximum"]) - step
    return value


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    merged = {**left, **right}
    merged["properties"] = {**(left.get("properties") or {}), **(right.get("properties") or {})}
    merged["required"] = [*(left.get("required") or []), *(right.get("required") or [])]
    return merged
