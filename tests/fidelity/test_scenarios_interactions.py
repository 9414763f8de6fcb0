"""The Interactions API (issue 23): its routes through google-genai's `client.interactions`, plain HTTP and
curl, and its errors (an unknown interaction, a wrong or unbound key, a retired or unsupported model, the free
tier's limit 0, Agent Platform), each as Google answers it."""

from __future__ import annotations

import json
import subprocess

import pytest
from dataplane import MODEL, Plane, make_plane

from fidelity.target import Answer, Target

scenario = pytest.mark.scenario
GEMINI = "generativelanguage"


@pytest.fixture
def plane(t: Target) -> Plane:
    t.emulator_only()  # the project, account and key are made in the emulator's state
    t.project_ids.append("interactions-1")
    return make_plane(t.world, t.url, "interactions-1")


@pytest.fixture
def client(plane: Plane):
    return plane.gemini()


def _call(t: Target, key: str, method: str, path: str, body: dict | None = None) -> Answer:
    return t.call(method, GEMINI, f"v1beta/{path}", body, auth=False, headers={"x-goog-api-key": key})


def _errors():
    from google.genai import _interactions

    return _interactions


def _create(t: Target, plane: Plane, **body) -> Answer:
    return _call(t, plane.key, "POST", "interactions", {"model": MODEL, "input": "hi", **body})


# -- the routes, through google-genai ----------------------------------------------------------------------
@scenario("genai", "8.interactions")
def test_genai_create_is_stored_and_get_returns_it(client, snapshot) -> None:
    created = client.interactions.create(model=MODEL, input="Say hello")
    got = client.interactions.get(created.id)
    assert created.status == got.status == "completed" and got.output_text == created.output_text
    snapshot.match("get", {"steps": [s.type for s in got.steps], "usage": sorted(got.usage.model_dump())})


@scenario("genai", "8.interactions")
def test_genai_chained_create_reads_the_stored_turn(client) -> None:
    first = client.interactions.create(model=MODEL, input="My name is Ada.")
    second = client.interactions.create(model=MODEL, input="My name?", previous_interaction_id=first.id)
    alone = client.interactions.create(model=MODEL, input="My name?", store=False)
    assert second.usage.total_input_tokens > alone.usage.total_input_tokens


@scenario("genai", "8.interactions")
def test_genai_store_false_is_not_kept(client) -> None:
    unstored = client.interactions.create(model=MODEL, input="hi", store=False)
    with pytest.raises(_errors().NotFoundError):
        client.interactions.get(unstored.id)


@scenario("genai", "8.interactions")
def test_genai_delete(client) -> None:
    created = client.interactions.create(model=MODEL, input="hi")
    client.interactions.delete(created.id)
    with pytest.raises(_errors().NotFoundError):
        client.interactions.get(created.id)


@scenario("genai", "8.interactions")
def test_genai_streamed_create(client, snapshot) -> None:
    kinds = [e.event_type for e in client.interactions.create(model=MODEL, input="Say hello", stream=True)]
    assert kinds[0] == "interaction.created" and kinds[-1] == "interaction.completed"
    snapshot.match("events", sorted(set(kinds)))


@scenario("genai", "8.interactions")
def test_genai_background_finishes_on_the_clock(client, t: Target) -> None:
    t.world.freeze_clock()
    started = client.interactions.create(model=MODEL, input="think", background=True)
    assert started.status == "in_progress"
    t.world.advance_clock(60)
    assert client.interactions.get(started.id).status == "completed"


@scenario("genai", "8.interactions")
def test_genai_cancel_a_running_background_interaction(client, t: Target) -> None:
    t.world.freeze_clock()
    started = client.interactions.create(model=MODEL, input="think", background=True)
    assert client.interactions.cancel(started.id).status == "cancelled"


# -- the routes, through plain HTTP and curl ----------------------------------------------------------------
@scenario("http", "8.interactions")
def test_http_create(plane: Plane, t: Target, snapshot) -> None:
    answer = _create(t, plane)
    assert answer.status == 200 and answer.body["status"] == "completed"
    snapshot.match("answer", answer.shape())


@scenario("http", "8.interactions")
def test_http_get_and_delete(plane: Plane, t: Target, snapshot) -> None:
    created = _create(t, plane).body["id"]
    got = _call(t, plane.key, "GET", f"interactions/{created}")
    assert got.status == 200 and [s["type"] for s in got.body["steps"]] == ["user_input", "model_output"]
    snapshot.match("get", got.shape())
    deleted = _call(t, plane.key, "DELETE", f"interactions/{created}")
    assert (deleted.status, deleted.body) == (200, {})


@scenario("http", "8.interactions")
def test_http_streamed_create_is_server_sent_events(plane: Plane, t: Target) -> None:
    answer = _create(t, plane, stream=True)
    events = [json.loads(line[5:]) for line in answer.text.splitlines() if line.startswith("data:")]
    assert answer.status == 200 and events[-1]["event_type"] == "interaction.completed"
    assert all(e["event_id"] for e in events)


@scenario("http", "8.interactions")
def test_http_cancel_of_a_finished_interaction_is_refused(plane: Plane, t: Target) -> None:
    created = _create(t, plane).body["id"]
    answer = _call(t, plane.key, "POST", f"interactions/{created}/cancel")
    assert answer.status == 400 and answer.error["code"] == "failed_precondition"


@scenario("curl", "8.interactions")
def test_curl_create(plane: Plane, t: Target) -> None:
    body = json.dumps({"model": MODEL, "input": "hi"})
    command = ["curl", "-sS", "-H", f"x-goog-api-key: {plane.key}", "-H", "Content-Type: application/json"]
    command += ["-d", body, f"{t.url}/v1beta/interactions"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout)["status"] == "completed"


# -- its errors ---------------------------------------------------------------------------------------------
@scenario("http", "8.interactions-errors")
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_http_unknown_interaction_is_not_found(plane: Plane, t: Target, method: str) -> None:
    answer = _call(t, plane.key, method, "interactions/v1_nosuchinteraction")
    assert answer.status == 404
    assert answer.body == {
        "error": {"code": "not_found", "message": "Interaction v1_nosuchinteraction not found."}
    }


@scenario("genai", "8.interactions-errors")
def test_genai_unknown_interaction_is_not_found(client) -> None:
    with pytest.raises(_errors().NotFoundError) as refused:
        client.interactions.get("v1_nosuchinteraction")
    assert refused.value.body["error"]["code"] == "not_found"


@scenario("http", "8.interactions-errors")
def test_http_wrong_key(plane: Plane, t: Target, snapshot) -> None:
    answer = _call(t, "AQ.Ab8notakey", "POST", "interactions", {"model": MODEL, "input": "hi"})
    assert answer.status == 400 and answer.reason == "API_KEY_INVALID"
    snapshot.match("answer", answer.shape())


@scenario("genai", "8.interactions-errors")
def test_genai_wrong_key(plane: Plane) -> None:
    from dataclasses import replace

    wrong = replace(plane, key="AQ.Ab8notakey").gemini()
    with pytest.raises(_errors().BadRequestError) as refused:
        wrong.interactions.create(model=MODEL, input="hi")
    assert refused.value.body["error"]["details"][0]["reason"] == "API_KEY_INVALID"


@scenario("http", "8.interactions-errors")
def test_http_unbound_standard_key(plane: Plane, t: Target, snapshot) -> None:
    from gcp_setup.emulator.apikeys.models import ApiKeysBackend
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend

    with t.world.lock:
        project = t.world.backend(ProjectsBackend).find(plane.project)
        standard = t.world.backend(ApiKeysBackend).create(project, "standard-1", {}, None)
    answer = _call(t, standard.key_string, "POST", "interactions", {"model": MODEL, "input": "hi"})
    assert answer.status == 400 and answer.reason == "API_KEY_INVALID"
    snapshot.match("answer", answer.shape())


@scenario("genai", "8.interactions-errors", "7.retired")
@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("gemini-3-pro-preview", "is no longer available."),
        ("gemini-2.5-flash", "no longer available to new users"),
    ],
)
def test_genai_retired_model(client, snapshot, model: str, words: str) -> None:
    with pytest.raises(_errors().NotFoundError) as refused:
        client.interactions.create(model=model, input="hi")
    error = refused.value.body["error"]
    assert error["code"] == "model_not_found" and words in error["message"]
    snapshot.match("answer", refused.value.body)


@scenario("http", "8.interactions-errors")
@pytest.mark.parametrize("model", ["gemini-9-ultra", "gemini-embedding-001"])
def test_http_unknown_or_unsupported_model(plane: Plane, t: Target, snapshot, model: str) -> None:
    answer = _create(t, plane, model=model)
    assert answer.status == 404 and answer.error["code"] == "model_not_found"
    snapshot.match("answer", answer.shape())


@scenario("http", "8.interactions-errors")
def test_http_free_tier_limit_0(plane: Plane, t: Target) -> None:
    from gcp_setup.emulator.billing.models import BillingBackend
    from gcp_setup.emulator.generativelanguage.models import GenerativeModels
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend

    with t.world.lock:
        t.world.backend(GenerativeModels).switches.no_free_tier_models.add(MODEL)
        project = t.world.backend(ProjectsBackend).find(plane.project)
        t.world.backend(BillingBackend).link(project, "")
    answer = _create(t, plane)
    assert answer.status == 429 and answer.error["code"] == "quota_exceeded"
    assert "generate_content_free_tier_requests, limit: 0" in answer.error["message"]


@scenario("genai", "8.interactions-errors")
def test_genai_on_agent_platform_is_an_honest_501(plane: Plane) -> None:
    vertex = plane.vertex("v1beta1")
    with pytest.raises(_errors().APIStatusError) as refused:
        vertex.interactions.create(model=MODEL, input="hi")
    assert refused.value.status_code == 501 and refused.value.body["error"]["status"] == "UNIMPLEMENTED"
