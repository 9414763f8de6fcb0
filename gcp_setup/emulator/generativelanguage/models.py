"""Gemini API (Generative Language) state: the model catalogue, the count of answers given (each has its
own responseId), and conditions a test can switch on. No HTTP here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.gemini import catalogue
from gcp_setup.emulator.core.gemini.catalogue import model_id
from gcp_setup.emulator.world import Backend, World, backend

NEWER_MODEL = "Please update your code to use a newer model for the latest features and improvements."


@dataclass
class DataPlaneSwitches:
    """Conditions a test can switch on to see how clients and `gcp-setup verify` answer them."""

    user_location_supported: bool = True
    """False: the Gemini API answers 400 FAILED_PRECONDITION "User location is not supported"."""
    exhausted_locations: set[str] = field(default_factory=set)
    """Vertex AI locations whose shared capacity is exhausted: generateContent there answers 429."""


def user_location_not_supported() -> errors.FailedPrecondition:
    """Google sends this one without an ErrorInfo: it is about the caller's network, not the project."""
    return errors.FailedPrecondition("User location is not supported for the API use.")


def model_not_found(name: str, api_version: str, method: str = "generateContent") -> errors.NotFound:
    return errors.NotFound(
        f"models/{model_id(name)} is not found for API version {api_version}, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their supported methods."
    )


def model_retired(name: str, kind: str) -> errors.NotFound:
    """What the Gemini API answers for a shut-down model, and for one closed to new projects."""
    audience = " to new users" if kind == catalogue.CLOSED_TO_NEW_USERS else ""
    return errors.NotFound(
        f"This model models/{model_id(name)} is no longer available{audience}. {NEWER_MODEL}"
    )


@backend
class GenerativeModels(Backend):
    name = "generativelanguage"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.models: dict[str, dict[str, Any]] = {
            model_id(m["name"]): dict(m) for m in catalogue.seed_models()
        }
        self.switches = DataPlaneSwitches()
        self.answers = 0

    def get(self, name: str, api_version: str = "v1beta", method: str = "generateContent") -> dict[str, Any]:
        found = self.models.get(model_id(name))
        if found is not None:
            return found
        retired = catalogue.retirement(model_id(name))
        raise model_retired(name, retired) if retired else model_not_found(name, api_version, method)

    def supports(self, name: str, method: str) -> bool:
        found = self.models.get(model_id(name))
        return found is not None and method in found.get("supportedGenerationMethods", [])

    def require_supported_location(self) -> None:
        if not self.switches.user_location_supported:
            raise user_location_not_supported()

    def response_id(self) -> str:
        """A new id for every answer, as Google's responseId (deterministic across runs of the emulator)."""
        self.answers += 1
        return hashlib.sha256(f"answer-{self.answers}".encode()).hexdigest()[:22]
