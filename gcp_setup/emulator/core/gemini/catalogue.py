"""The Gemini model catalogue, seeded from a real `models.list` answer (data/gemini-models.json)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

CATALOGUE_FILE = Path(__file__).resolve().parents[2] / "data" / "gemini-models.json"


@functools.cache
def seed_models() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(CATALOGUE_FILE.read_text())["models"])


def model_id(name: str) -> str:
    """ "models/gemini-2.5-flash", "gemini-2.5-flash" or "google/gemini-2.5-flash" -> "gemini-2.5-flash"."""
    return name.removeprefix("models/").removeprefix("google/").removeprefix("publishers/google/models/")
