"""What a fidelity scenario records of an answer: its shape, never its secrets or IDs.

`shape(status, body)` keeps the HTTP status, a google.rpc.Status's status, message, ErrorInfo reason,
metadata keys and detail types, and for a success the tree of field names with the JSON type of each leaf.
`transformers(...)` are localstack-snapshot transformers that replace what differs between runs and between
the emulator and Google (project IDs and numbers, e-mails, key strings, tokens, key IDs, times, etags) with
stable placeholders, so that a recording made on Google compares with an emulator run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from localstack_snapshot.snapshots.transformer import RegexTransformer


def shape(status: int, body: Any) -> dict[str, Any]:
    """The recorded shape of one answer."""
    error = _error_of(body)
    if error is not None:
        return {"status": status, "error": _error_shape(error)}
    return {"status": status, "fields": skeleton(body)}


def _error_of(body: Any) -> dict[str, Any] | None:
    if isinstance(body, list) and len(body) == 1:  # the OpenAI-compatible endpoints wrap it in a list
        body = body[0]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return None


def _error_shape(error: dict[str, Any]) -> dict[str, Any]:
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    info = next((d for d in details if d.get("@type", "").endswith("google.rpc.ErrorInfo")), {})
    out: dict[str, Any] = {
        "code": error.get("code"),
        "status": error.get("status"),
        "message": error.get("message"),
        "detail_types": sorted(d.get("@type", "") for d in details),
    }
    if info:
        out["reason"] = info.get("reason")
        out["domain"] = info.get("domain")
        out["metadata_keys"] = sorted(info.get("metadata") or {})
    return out


def skeleton(value: Any) -> Any:
    """Field names all the way down; a list by its first element; a leaf by its JSON type."""
    if isinstance(value, dict):
        return {key: skeleton(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [skeleton(value[0])] if value else []
    return type(value).__name__


_PATTERNS = (
    (r"AIza[0-9A-Za-z_-]{35}", "<standard-key>"),
    (r"AQ\.[0-9A-Za-z_-]{40,}", "<auth-key>"),
    (r"ya29\.[0-9A-Za-z._-]+", "<access-token>"),
    (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>"),
    (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>"),
    (r"\b[0-9a-f]{40}\b", "<key-id>"),
    (r"\b1\d{20}\b", "<unique-id>"),
    (r"\b\d{10,13}\b", "<number>"),
    (r"ETag '[^']*'", "ETag '<etag>'"),
    (r"address of the call \([^)]*\)", "address of the call (<ip>)"),
    (r"\b\d{1,3}(\.\d{1,3}){3}\b", "<ip>"),
    (r'W/\\"[^\\]*\\"', "<etag>"),  # an API key's weak etag, as it appears in the serialized JSON
    (r"_withcond_[0-9a-f]{20}", "_withcond_<hash>"),
)


class ProjectIds:
    """Replaces the run's project IDs, in the order the scenario made them, with <project-N>. Reads the list
    when the snapshot is transformed (after the scenario), so projects made during it count."""

    def __init__(self, project_ids: list[str]) -> None:
        self.project_ids = project_ids

    def transform(self, input_data: dict, *, ctx: Any) -> dict:
        for i, project in enumerate(self.project_ids):
            RegexTransformer(rf"\b{re.escape(project)}\b", f"<project-{i}>").transform(input_data, ctx=ctx)
        return input_data


def transformers(project_ids: list[str]) -> list[Any]:
    """Placeholders for e-mails (accounts, users: first, as they hold project IDs), the run's project IDs and
    every secret or ID shape."""
    emails = RegexTransformer(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}", "<email>")
    return [emails, ProjectIds(project_ids), *(RegexTransformer(p, r) for p, r in _PATTERNS)]


def baseline(snapshots: Path, module: str, scenario: str) -> str:
    """The recording a scenario compares with: Google's when a maintainer made one, else the emulator's."""
    recorded = snapshots / "google" / f"{module}.snapshot.json"
    if recorded.exists() and scenario in json.loads(recorded.read_text() or "{}"):
        return "google"
    return "emulator"
