"""The Gemini model catalogue as a dated snapshot (data/gemini-models.json): the models `models.list` offers
today, the retired ones (shut down, or closed to new projects, which every emulated project is), and the
Vertex AI locations that serve Gemini (data/vertex-locations.json)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from gcp_setup.emulator import guesses

DATA = Path(__file__).resolve().parents[2] / "data"
SHUT_DOWN = "shut_down"
CLOSED_TO_NEW_USERS = "closed_to_new_users"
VERTEX_ONLY_MODELS = ("text-embedding-005", "text-multilingual-embedding-002")
"""Vertex AI's own embedding models (`:predict`), which the Gemini API does not list."""


@functools.cache
def _snapshot() -> dict[str, Any]:
    snapshot: dict[str, Any] = json.loads((DATA / "gemini-models.json").read_text())
    return snapshot


def seed_models() -> tuple[dict[str, Any], ...]:
    return tuple(_snapshot()["models"])


def retirement(model: str) -> str | None:
    """SHUT_DOWN, CLOSED_TO_NEW_USERS, or None for a model that was never retired."""
    retired = _snapshot()["retired"]
    return next((kind for kind in (SHUT_DOWN, CLOSED_TO_NEW_USERS) if model in retired[kind]), None)


@functools.cache
def vertex_locations() -> frozenset[str]:
    return frozenset(json.loads((DATA / "vertex-locations.json").read_text())["locations"])


def model_id(name: str) -> str:
    """ "models/gemini-3.8-flash", "gemini-3.8-flash" or "google/gemini-3.8-flash" -> "gemini-3.8-flash"."""
    return name.removeprefix("models/").removeprefix("google/").removeprefix("publishers/google/models/")


GENERATION = frozenset({"generateContent", "streamGenerateContent", "countTokens", "computeTokens"})
EMBEDDING = frozenset({"embedContent", "batchEmbedContents", "predict", "countTokens", "computeTokens"})


def vertex_methods(model: str) -> frozenset[str]:
    """What Vertex AI serves for publisher model `model` (empty: not served): Gemini's generation models, the
    embedding models, and, unlike the Gemini API, the models closed to new projects there."""
    if model in VERTEX_ONLY_MODELS:
        return EMBEDDING - {"embedContent", "batchEmbedContents"}
    listed = next((m for m in seed_models() if model_id(m["name"]) == model), None)
    if listed is None:
        served = guesses.VERTEX_SERVES_CLOSED_MODELS and retirement(model) == CLOSED_TO_NEW_USERS
        return GENERATION if served else frozenset()
    methods = set(listed.get("supportedGenerationMethods", []))
    return (GENERATION if "generateContent" in methods else frozenset()) | (
        EMBEDDING if "embedContent" in methods else frozenset()
    )


def vertex_models() -> list[str]:
    """The publisher models Vertex AI lists, in catalogue order."""
    listed = [model_id(m["name"]) for m in seed_models()]
    closed = list(_snapshot()["retired"][CLOSED_TO_NEW_USERS])
    return [m for m in [*listed, *closed, *VERTEX_ONLY_MODELS] if vertex_methods(m)]


def publisher_model(model: str) -> dict[str, Any]:
    """A PublisherModel as Vertex AI answers it (the basic view)."""
    preview = "preview" in model
    return {
        "name": f"publishers/google/models/{model}",
        "versionId": "001",
        "openSourceCategory": "PROPRIETARY",
        "launchStage": "PUBLIC_PREVIEW" if preview else "GA",
        "versionState": "VERSION_STATE_UNSTABLE" if preview else "VERSION_STATE_STABLE",
    }
