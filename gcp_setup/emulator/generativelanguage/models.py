"""Gemini API (Generative Language) state: the model catalogue, the count of answers given (each has its
own responseId), and conditions a test can switch on. No HTTP here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.gemini import catalogue
from gcp_setup.emulator.core.gemini.catalogue import model_id
from gcp_setup.emulator.core.world import Backend, World, backend

NEWER_MODEL = "Please update your code to use a newer model for the latest features and improvements."


@dataclass
class DataPlaneSwitches:
    """Conditions a test can switch on to see how clients and `gcp-setup verify` answer them."""

    user_location_supported: bool = True
    """False: the Gemini API answers 400 FAILED_PRECONDITION "User location is not supported"."""
    exhausted_locations: set[str] = field(default_factory=set)
    """Vertex AI locations whose shared capacity is exhausted: generateContent there answers 429."""
    no_free_tier_models: set[str] = field(default_factory=lambda: set(guesses.NO_FREE_TIER_MODELS))
    """Models without a free tier: the Gemini API answers a generation with a key of a project that has
    no billing with the free tier's 429 "limit: 0" (free_tier_limit_0)."""


def user_location_not_supported() -> errors.FailedPrecondition:
    """Google sends this one without an ErrorInfo: it is about the caller's network, not the project."""
    return errors.FailedPrecondition("User location is not supported for the API use.")


def free_tier_limit_0(model: str) -> errors.ResourceExhausted:
    """The Gemini API's 429 for a model that has no free tier (the "Pro" models since 2026), to a project
    on the free tier: a Help link, a QuotaFailure per free-tier quota and a RetryInfo, no ErrorInfo, each
    quota quoted in the message with "limit: 0". As users quote it (continuedev/continue#10085,
    google-gemini/gemini-cli#22486, 2026); the order of the details and the delay vary there: ours are
    the most common."""
    metrics = [
        ("generate_content_free_tier_input_token_count", "GenerateContentInputTokensPerModelPerMinute"),
        ("generate_content_free_tier_requests", "GenerateRequestsPerMinutePerProjectPerModel"),
        ("generate_content_free_tier_requests", "GenerateRequestsPerDayPerProjectPerModel"),
    ]
    quoted = "".join(
        f"\n* Quota exceeded for metric: generativelanguage.googleapis.com/{metric}, limit: 0, model: {model}"
        for metric, _ in metrics
    )
    violations = [
        {
            "quotaMetric": f"generativelanguage.googleapis.com/{metric}",
            "quotaId": f"{quota}-FreeTier",
            "quotaDimensions": {"location": "global", "model": model},
        }
        for metric, quota in metrics
    ]
    return errors.ResourceExhausted(
        "You exceeded your current quota, please check your plan and billing details. For more information "
        "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current "
        f"usage, head to: https://ai.dev/rate-limit. {quoted}\nPlease retry in 38.863719904s.",
        extra_details=[
            {
                "@type": errors.HELP,
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": violations},
            {"@type": errors.RETRY_INFO, "retryDelay": "38s"},
        ],
    )


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
