"""Gemini API (Generative Language) state: the model catalogue, and who may call it. No HTTP here.

The catalogue is seeded from a real `models.list` answer (data/gemini-models.json). Every call is
authorised as Google does it for an API key: the key must exist, be of a type the era takes (keypolicy),
its API restrictions must allow the service, a bound key's account must be usable (the call then acts as
it), and the service must be enabled in the project that owns the key.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcp_setup.emulator import errors
from gcp_setup.emulator.apikeys.callers import act_as_bound_account, key_caller, require_target
from gcp_setup.emulator.generativelanguage.keypolicy import check_key_policy
from gcp_setup.emulator.resourcemanager.models import Project
from gcp_setup.emulator.routing import ApiRequest
from gcp_setup.emulator.serviceusage.models import ServicesBackend
from gcp_setup.emulator.world import Backend, World, backend

SERVICE = "generativelanguage.googleapis.com"
CATALOGUE_FILE = Path(__file__).resolve().parent.parent / "data" / "gemini-models.json"


@functools.cache
def _seed_models() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(CATALOGUE_FILE.read_text())["models"])


def model_id(name: str) -> str:
    """ "models/gemini-2.5-flash", "gemini-2.5-flash" or "google/gemini-2.5-flash" -> "gemini-2.5-flash"."""
    return name.removeprefix("models/").removeprefix("google/").removeprefix("publishers/google/models/")


@dataclass
class DataPlaneSwitches:
    """Conditions a test can switch on to see how clients and `gcp-setup verify` answer them."""

    user_location_supported: bool = True
    """False: the Gemini API answers 400 FAILED_PRECONDITION "User location is not supported"."""
    exhausted_locations: set[str] = field(default_factory=set)
    """Vertex AI locations whose shared capacity is exhausted: generateContent there answers 429."""


def unregistered_caller() -> errors.PermissionDenied:
    """A call with neither an API key nor a token."""
    return errors.PermissionDenied(
        "Method doesn't allow unregistered callers (callers without established identity). Please use API "
        "Key or other form of API consumer identity to call this API."
    )


def user_location_not_supported() -> errors.FailedPrecondition:
    """Google sends this one without an ErrorInfo: it is about the caller's network, not the project."""
    return errors.FailedPrecondition("User location is not supported for the API use.")


def model_not_found(name: str, api_version: str) -> errors.NotFound:
    return errors.NotFound(
        f"models/{model_id(name)} is not found for API version {api_version}, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their supported methods."
    )


@backend
class GenerativeModels(Backend):
    name = "generativelanguage"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.models: dict[str, dict[str, Any]] = {model_id(m["name"]): dict(m) for m in _seed_models()}
        self.switches = DataPlaneSwitches()

    # -- the catalogue -------------------------------------------------------------------------------
    def get(self, name: str, api_version: str = "v1beta") -> dict[str, Any]:
        found = self.models.get(model_id(name))
        if found is None:
            raise model_not_found(name, api_version)
        return found

    def supports(self, name: str, method: str) -> bool:
        found = self.models.get(model_id(name))
        return found is not None and method in found.get("supportedGenerationMethods", [])

    # -- who may call --------------------------------------------------------------------------------
    def authorize_key(self, req: ApiRequest, rpc_method: str) -> Project:
        """The project the request's API key bills to, after Google's checks in Google's order."""
        if not req.api_key:
            raise unregistered_caller()
        caller = key_caller(req, SERVICE)
        check_key_policy(self.world.realism.gemini_key_policy, caller.key, SERVICE, rpc_method)
        require_target(caller, SERVICE, rpc_method)
        if caller.key.bound:
            act_as_bound_account(req, caller.key, SERVICE, rpc_method)
        self.world.backend(ServicesBackend).require_enabled(caller.project, SERVICE)
        return caller.project

    def require_supported_location(self) -> None:
        if not self.switches.user_location_supported:
            raise user_location_not_supported()
