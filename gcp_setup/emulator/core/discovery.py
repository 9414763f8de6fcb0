"""Google's discovery documents, as shipped inside google-api-python-client, drive the emulator's routing.
The Gemini API has none there: its documents (data/generativelanguage.*.json) are built from its protos by
tools/gemini_discovery.py.

Each REST method there has an `id`, an `httpMethod` and a `flatPath` such as
`v1/projects/{projectsId}/serviceAccounts/{serviceAccountsId}:getIamPolicy`; the emulator turns the
flatPath into a werkzeug rule instead of hand-writing URL patterns.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@functools.cache
def documents_dir() -> Path:
    import googleapiclient

    return Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


EMULATOR_DOCUMENTS = Path(__file__).resolve().parents[1] / "data"


@functools.cache
def load(api_version: str) -> dict[str, Any]:
    """`api_version` is the file stem, e.g. "cloudresourcemanager.v1"."""
    own = EMULATOR_DOCUMENTS / f"{api_version}.json"
    path = own if own.exists() else documents_dir() / f"{api_version}.json"
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@dataclass(frozen=True)
class Method:
    api_version: str
    id: str
    http_method: str
    flat_path: str
    request_schema: str | None
    response_schema: str | None

    @property
    def rule(self) -> str:
        """The werkzeug rule: `{projectsId}` becomes `<projectsId>`, `{+name}` a path converter."""
        path = re.sub(r"\{\+(\w+)\}", r"<path:\1>", self.flat_path)
        return "/" + re.sub(r"\{(\w+)\}", r"<\1>", path)


def _iter_methods(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from resource.get("methods", {}).values()
    for child in resource.get("resources", {}).values():
        yield from _iter_methods(child)


@functools.cache
def methods(api_version: str) -> dict[str, Method]:
    doc = load(api_version)
    found = {}
    for m in _iter_methods(doc):
        found[m["id"]] = Method(
            api_version=api_version,
            id=m["id"],
            http_method=m["httpMethod"],
            flat_path=m.get("flatPath", m["path"]),
            request_schema=(m.get("request") or {}).get("$ref"),
            response_schema=(m.get("response") or {}).get("$ref"),
        )
    return found


def method(api_version: str, method_id: str) -> Method:
    try:
        return methods(api_version)[method_id]
    except KeyError:
        raise KeyError(f"{method_id} is not a method of {api_version}") from None


def schemas(api_version: str) -> dict[str, Any]:
    found: dict[str, Any] = load(api_version)["schemas"]
    return found
