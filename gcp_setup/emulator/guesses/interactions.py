"""The Interactions API's guessed answers (see the package's docstring)."""

from __future__ import annotations

from gcp_setup.emulator.core import errors

# Interactions API (ai.google.dev/api/interactions-api, read 2026-12-07). Guesses: how long a background
# interaction of a model runs (Google gives no figure; tests move the emulator's clock past it), the wording
# of the errors below (only their codes are documented, on ai.google.dev/gemini-api/docs/api-errors), and
# that the key checks in front of it (API_KEY_INVALID, SERVICE_DISABLED, key restrictions) answer as on
# generateContent, a google.rpc.Status with an ErrorInfo, although that page lists `authentication` (401) for
# a missing or invalid key: no recorded answer shows which the front end sends on this path.
BACKGROUND_INTERACTION_SECONDS = 5.0
INTERACTIONS_SERVICE = "InteractionsService"
"""The service name the key checks see (the Gemini API's proto for it is not published; Vertex AI's is
google.learning.vertex.api.interactions.v1beta1.InteractionsService)."""


def previous_interaction_not_completed(interaction_id: str, status: str) -> errors.InteractionsError:
    """Google's rule, from the field's reference; the wording is the guess."""
    rule = "it must be a stored interaction in a terminal state (e.g. completed)"
    return errors.InteractionsError(400, "invalid_request", f"{interaction_id} is {status}: {rule}.")


def interaction_not_cancellable(interaction_id: str, status: str) -> errors.InteractionsError:
    rule = "only background interactions that are still running can be cancelled"
    return errors.InteractionsError(400, "failed_precondition", f"{interaction_id} is {status}: {rule}.")


def background_needs_store() -> errors.InteractionsError:
    return errors.InteractionsError(400, "invalid_request", "background=true requires store=true.")


def model_or_agent_required() -> errors.InteractionsError:
    return errors.InteractionsError(400, "invalid_request", "Either model or agent must be set.")


def interactions_input_required() -> errors.InteractionsError:
    return errors.InteractionsError(400, "invalid_request", "input is required.")


def interactions_field_type(name: str, expected: str) -> errors.InteractionsError:
    return errors.InteractionsError(
        400, "invalid_request", f"Invalid value at '{name}': expected {expected}."
    )
