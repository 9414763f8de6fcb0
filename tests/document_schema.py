"""The committed JSON Schema of gcp-setup's --format json documents (gcp_setup/output/schema), as the tests
hold every document to it: conftest's autouse fixture checks each one as it is printed."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from gcp_setup.output import schema

VALIDATOR = Draft202012Validator(schema.schema())


def problems(document: Any) -> list[str]:
    """Every way `document` breaks the schema, as "path: what" lines; empty when it conforms."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(document)'}: {error.message}"
        for error in VALIDATOR.iter_errors(document)
    ]
