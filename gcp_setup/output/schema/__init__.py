"""The documents gcp-setup prints with --format json: each carries "format_version" and "command", and
each is described by the JSON Schema beside this module (document.schema.json, shipped as package data,
explained in docs/verify.md). A change that breaks a reader of the documents raises FORMAT_VERSION."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("document.schema.json")


def document(command: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with the version and the command (the one the user ran: destroy's document says destroy)."""
    return {"format_version": FORMAT_VERSION, "command": command, **body}


def dumps(doc: dict[str, Any]) -> str:
    """The one way a document becomes text: every --format json output passes here."""
    return json.dumps(doc, indent=2, default=str)


def schema() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return doc
