"""The model list as `models.list` reports it, and the default model chosen from it.

The default is never a fixed name: Gemini models retire (1.5 closed to new projects, 2.0 Flash shut down
in 2026). It is the newest stable `gemini-<version>-flash` the list offers for generateContent, falling
back to the `gemini-flash-latest` alias, then to any Flash model that generates content.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

GENERATE = "generateContent"
FALLBACK_MODEL = "gemini-3.8-flash"
"""Only when there is no list to choose from (ADC only, no --model); the report says which model ran."""
_STABLE_FLASH = re.compile(r"^gemini-(\d+(?:\.\d+)?)-flash$")
_NOT_FOR_CHAT = ("image", "tts", "live", "audio", "embedding", "computer-use", "robotics", "lite")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    """Without the "models/" prefix, e.g. gemini-2.5-flash."""
    display_name: str
    description: str
    methods: tuple[str, ...]

    def supports(self, method: str) -> bool:
        return method in self.methods

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayName": self.display_name,
            "description": self.description,
            "supportedGenerationMethods": list(self.methods),
        }


def from_genai(model: Any) -> ModelInfo:
    """A google.genai.types.Model as ModelInfo."""
    return ModelInfo(
        name=(model.name or "").removeprefix("models/"),
        display_name=model.display_name or "",
        description=model.description or "",
        methods=tuple(model.supported_actions or ()),
    )


def list_models(client: Any) -> list[ModelInfo]:
    """Every model a google-genai client sees, through all pages of models.list."""
    return [from_genai(m) for m in client.models.list(config={"page_size": 1000})]


def _version(name: str) -> tuple[int, ...]:
    match = _STABLE_FLASH.match(name)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def choose_default(models: list[ModelInfo]) -> str | None:
    generating = [m for m in models if m.supports(GENERATE)]
    stable = [m for m in generating if _STABLE_FLASH.match(m.name)]
    if stable:
        return max(stable, key=lambda m: _version(m.name)).name
    names = {m.name for m in generating}
    if "gemini-flash-latest" in names:
        return "gemini-flash-latest"
    flash = sorted(
        (
            m.name
            for m in generating
            if "flash" in m.name and not any(word in m.name for word in _NOT_FOR_CHAT)
        ),
        reverse=True,
    )
    return flash[0] if flash else None


def find(models: list[ModelInfo], name: str) -> ModelInfo | None:
    name = name.removeprefix("models/").removeprefix("google/")
    return next((m for m in models if m.name == name), None)


def close_names(name: str, models: list[ModelInfo], count: int = 3) -> list[str]:
    candidates = [m.name for m in models if m.supports(GENERATE)]
    return difflib.get_close_matches(name.removeprefix("models/"), candidates, n=count, cutoff=0.5)


def matching(models: list[ModelInfo], text: str | None, method: str | None) -> list[ModelInfo]:
    """`gcp-setup models` filters: a substring of the name or description, and a supported method."""
    needle = (text or "").lower()
    return [
        m
        for m in models
        if (not needle or needle in m.name.lower() or needle in m.description.lower())
        and (not method or m.supports(method))
    ]
