"""The Interactions API on the emulator's Gemini API, through google-genai's `client.interactions` (create,
get, a chained create, delete, cancel, a streamed create, background) and plain HTTP for its errors."""

from __future__ import annotations

import pytest
import requests
from google import genai
from google.genai import _interactions as interactions_errors
from google.genai import types

from gcp_setup.emulator.generativelanguage.interactions_models import InteractionsBackend

MODEL = "gemini-3.8-flash"
RETRY_ONCE = types.HttpRetryOptions(attempts=1)


@pytest.fixture
def key(gemini_project) -> str:
    return gemini_project.api_key.key_string


@pytest.fixture
def client(gemini_project, key: str) -> genai.Client:
    options = types.HttpOptions(
        base_url=gemini_project.emu.url, api_version="v1beta", retry_options=RETRY_ONCE
    )
    return genai.Client(api_key=key, http_options=options)


def _post(emu, key: str, path: str, body: dict | None = None, method: str = "POST") -> requests.Response:
    headers = {"x-goog-api-key": key}
    return requests.request(method, f"{emu.url}/v1beta/{path}", json=body, headers=headers, timeout=30)


def test_create_is_stored_and_get_returns_it_with_the_input(client: genai.Client) -> None:
    created = client.interactions.create(model=MODEL, input="Say hello")
    assert created.status == "completed" and created.id
    assert created.output_text and [s.type for s in created.steps] == ["model_output"]
    assert created.usage.total_tokens == created.usage.total_input_tokens + created.usage.total_output_tokens
    got = client.interactions.get(created.id)
    assert got.id == created.id and got.output_text == created.output_text
    assert [s.type for s in got.steps] == ["user_input", "model_output"]


def test_a_chained_create_answers_from_the_stored_history(client: genai.Client) -> None:
    first = client.interactions.create(model=MODEL, input="My name is Ada.")
    alone = client.interactions.create(model=MODEL, input="What is my name?", store=False)
    second = client.interactions.create(
        model=MODEL, input="What is my name?", previous_interaction_id=first.id
    )
    assert second.previous_interaction_id == first.id
    # The model read the first turn too: its input is the stored history plus the new input.
    earlier = first.usage.total_input_tokens + first.usage.total_output_tokens
    assert second.usage.total_input_tokens == alone.usage.total_input_tokens + earlier


def test_store_false_is_answered_and_kept_nowhere(client: genai.Client) -> None:
    unstored = client.interactions.create(model=MODEL, input="hi", store=False)
    assert unstored.status == "completed"
    with pytest.raises(interactions_errors.NotFoundError) as missing:
        client.interactions.get(unstored.id)
    assert missing.value.body == {
        "error": {"code": "not_found", "message": f"Interaction {unstored.id} not found."}
    }
    with pytest.raises(interactions_errors.NotFoundError):
        client.interactions.create(model=MODEL, input="again", previous_interaction_id=unstored.id)


def test_delete_then_get_is_not_found(client: genai.Client) -> None:
    created = client.interactions.create(model=MODEL, input="hi")
    client.interactions.delete(created.id)
    with pytest.raises(interactions_errors.NotFoundError):
        client.interactions.get(created.id)
    with pytest.raises(interactions_errors.NotFoundError):
        client.interactions.delete(created.id)


def test_a_streamed_create_sends_googles_events_and_ends(client: genai.Client) -> None:
    events = list(client.interactions.create(model=MODEL, input="Say hello", stream=True))
    kinds = [e.event_type for e in events]
    assert kinds[0] == "interaction.created" and kinds[-1] == "interaction.completed"
    assert {"interaction.status_update", "step.start", "step.delta", "step.stop"} <= set(kinds)
    text = "".join(e.delta.text for e in events if e.event_type == "step.delta")
    stored = client.interactions.get(events[0].interaction.id)
    assert text == stored.output_text and events[-1].interaction.usage.total_tokens > 0


def test_background_runs_until_the_clock_passes_it(client: genai.Client, gemini_project) -> None:
    emu = gemini_project.emu
    emu.freeze_clock()
    started = client.interactions.create(model=MODEL, input="think long", background=True)
    assert started.status == "in_progress" and not started.steps
    assert client.interactions.get(started.id).status == "in_progress"
    emu.advance_clock(60)
    finished = client.interactions.get(started.id)
    assert finished.status == "completed" and finished.output_text


def test_cancel_stops_a_running_background_interaction(client: genai.Client, gemini_project) -> None:
    gemini_project.emu.freeze_clock()
    started = client.interactions.create(model=MODEL, input="think long", background=True)
    assert client.interactions.cancel(started.id).status == "cancelled"
    gemini_project.emu.advance_clock(60)
    assert client.interactions.get(started.id).status == "cancelled"
    with pytest.raises(interactions_errors.BadRequestError) as refused:
        client.interactions.cancel(started.id)
    assert refused.value.body["error"]["code"] == "failed_precondition"


@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("gemini-3-pro-preview", "is no longer available."),
        ("gemini-2.5-flash", "no longer available to new users"),
        ("gemini-9-ultra", "is not found for API version v1beta"),
        ("gemini-embedding-001", "is not supported for createInteraction"),
    ],
)
def test_models_it_cannot_use_are_model_not_found(client: genai.Client, model: str, words: str) -> None:
    with pytest.raises(interactions_errors.NotFoundError) as refused:
        client.interactions.create(model=model, input="hi")
    error = refused.value.body["error"]
    assert error["code"] == "model_not_found" and words in error["message"]


def test_a_wrong_key_is_refused_by_the_key_checks_of_generate_content(gemini_project) -> None:
    answer = _post(gemini_project.emu, "AQ.Ab8not-a-key", "interactions", {"model": MODEL, "input": "hi"})
    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_an_unbound_standard_key_is_refused(gemini_project, world) -> None:
    from gcp_setup.emulator.apikeys.models import ApiKeysBackend

    standard = world.backend(ApiKeysBackend).create(gemini_project.project, "standard-1", {}, None)
    answer = _post(gemini_project.emu, standard.key_string, "interactions", {"model": MODEL, "input": "hi"})
    assert answer.status_code == 400 and answer.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_the_free_tier_rule_of_generate_content_applies(gemini_project, world, key: str) -> None:
    from gcp_setup.emulator.billing.models import BillingBackend
    from gcp_setup.emulator.generativelanguage.models import GenerativeModels

    world.backend(GenerativeModels).switches.no_free_tier_models.add(MODEL)
    world.backend(BillingBackend).link(gemini_project.project, "")
    answer = _post(gemini_project.emu, key, "interactions", {"model": MODEL, "input": "hi"})
    assert answer.status_code == 429
    assert (
        answer.json()["error"]["code"] == "quota_exceeded" and "limit: 0" in answer.json()["error"]["message"]
    )


def test_another_projects_key_finds_nothing(client: genai.Client, gemini_project, world) -> None:
    created = client.interactions.create(model=MODEL, input="hi")
    stored = world.backend(InteractionsBackend).stored[created.id]
    stored.project_number = "1"
    with pytest.raises(interactions_errors.NotFoundError):
        client.interactions.get(created.id)


def test_fields_it_does_not_model_are_an_honest_501(gemini_project, key: str) -> None:
    body = {"model": MODEL, "input": "hi", "tools": [{"type": "google_search"}]}
    answer = _post(gemini_project.emu, key, "interactions", body)
    assert answer.status_code == 501 and answer.json()["error"]["code"] == "unimplemented"
    unknown = _post(gemini_project.emu, key, "interactions", {"model": MODEL, "input": "hi", "colour": 1})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "parameter_unknown"


def test_on_agent_platform_it_is_an_honest_501(world, emu) -> None:
    """Google serves it on Vertex AI (projects.locations.interactions); the emulator says it does not."""
    from dataplane import make_plane

    vertex = make_plane(world, emu.url).vertex("v1beta1")  # held: google-genai closes a dropped client
    with pytest.raises(interactions_errors.APIStatusError) as refused:
        vertex.interactions.create(model=MODEL, input="hi")
    assert refused.value.status_code == 501
    assert "interactions.create is not emulated" in refused.value.body["error"]["message"]


def test_a_disabled_gemini_api_is_service_disabled_as_on_generate_content(gemini_project, world, key) -> None:
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    world.backend(ServicesBackend).disable(gemini_project.project, "generativelanguage.googleapis.com")
    answer = _post(gemini_project.emu, key, "interactions", {"model": MODEL, "input": "hi"})
    assert answer.status_code == 403
    assert answer.json()["error"]["details"][0]["reason"] == "SERVICE_DISABLED"
