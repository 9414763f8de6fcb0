"""The emulator's data plane (Gemini API, Vertex AI, their OpenAI-compatible endpoints) driven by the real
google-genai and openai libraries and plain HTTP, with the checks Google makes."""

from __future__ import annotations

import os

import openai
import pytest
import requests
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from schema_check import method_response_problems

MODEL = "gemini-3.8-flash"
RETRY_ONCE = types.HttpRetryOptions(attempts=1)


def gemini_client(url: str, key: str, api_version: str = "v1beta") -> genai.Client:
    options = types.HttpOptions(base_url=url, api_version=api_version, retry_options=RETRY_ONCE)
    return genai.Client(api_key=key, http_options=options)


def vertex_client(url: str, token: str, project: str, location: str = "global", api_version: str = "v1"):
    from google.oauth2.credentials import Credentials

    options = types.HttpOptions(base_url=url, api_version=api_version, retry_options=RETRY_ONCE)
    return genai.Client(
        vertexai=True,
        project=project,
        location=location,
        credentials=Credentials(token=token),
        http_options=options,
    )


@pytest.fixture
def key(gemini_project) -> str:
    return gemini_project.api_key.key_string


@pytest.fixture
def token(gemini_project, world) -> str:
    return world.tokens.issue(gemini_project.account.member)[0]


# -- Gemini API ----------------------------------------------------------------------------------
@pytest.mark.parametrize("api_version", ["v1beta", "v1"])
def test_gemini_api_through_google_genai(gemini_project, key, api_version) -> None:
    client = gemini_client(gemini_project.emu.url, key, api_version)
    names = [m.name for m in client.models.list(config={"page_size": 10})]
    assert len(names) == len(set(names)) == 28
    assert "generateContent" in client.models.get(model=MODEL).supported_actions
    assert client.models.count_tokens(model=MODEL, contents="Say hello in one word").total_tokens == 5
    answer = client.models.generate_content(
        model=MODEL, contents="hi", config=types.GenerateContentConfig(max_output_tokens=4)
    )
    assert answer.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    usage = answer.usage_metadata
    assert usage.prompt_token_count == 1 and 0 < usage.candidates_token_count <= 4
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    streamed = "".join(c.text for c in client.models.generate_content_stream(model=MODEL, contents="hi"))
    assert streamed == client.models.generate_content(model=MODEL, contents="hi").text


def test_answers_are_deterministic_and_each_has_its_own_id(gemini_project, key) -> None:
    client = gemini_client(gemini_project.emu.url, key)
    first, second = (client.models.generate_content(model=MODEL, contents="same prompt") for _ in range(2))
    assert first.text == second.text and first.response_id != second.response_id


def test_models_list_pages_as_google_does(gemini_project, key) -> None:
    url = f"{gemini_project.emu.url}/v1beta/models"
    page = requests.get(url, params={"pageSize": 20}, headers={"x-goog-api-key": key}).json()
    assert len(page["models"]) == 20 and page["nextPageToken"]
    rest = requests.get(url, params={"pageSize": 20, "pageToken": page["nextPageToken"], "key": key}).json()
    assert len(rest["models"]) == 8 and "nextPageToken" not in rest
    assert requests.get(url, params={"pageToken": "garbage!", "key": key}).status_code == 400


def test_a_call_without_a_key_is_an_unregistered_caller(gemini_project) -> None:
    response = requests.get(f"{gemini_project.emu.url}/v1beta/models")
    assert response.status_code == 403
    assert "unregistered callers" in response.json()["error"]["message"]


def test_unknown_model_is_not_found(gemini_project, key) -> None:
    client = gemini_client(gemini_project.emu.url, key)
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-0-nope", contents="hi")
    assert caught.value.code == 404


def test_a_model_that_cannot_generate_is_refused(gemini_project, key) -> None:
    client = gemini_client(gemini_project.emu.url, key)
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-embedding-001", contents="x")
    assert caught.value.code == 404
    assert "is not supported for generateContent" in caught.value.message


# -- the Gemini API's OpenAI-compatible endpoints -------------------------------------------------
def test_openai_library_against_the_gemini_api(gemini_project, key) -> None:
    client = openai.OpenAI(base_url=f"{gemini_project.emu.url}/v1beta/openai/", api_key=key, max_retries=0)
    listed = client.models.list()
    assert f"models/{MODEL}" in [m.id for m in listed.data]
    answer = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hello there"}]
    )
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.prompt_tokens == 2
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    chunks = list(
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == answer.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_openai_errors_come_as_google_errors_in_a_list(gemini_project) -> None:
    client = openai.OpenAI(
        base_url=f"{gemini_project.emu.url}/v1beta/openai/", api_key="AIza-not-a-key", max_retries=0
    )
    with pytest.raises(openai.BadRequestError) as caught:
        client.models.list()
    assert caught.value.body[0]["error"]["details"][0]["reason"] == "API_KEY_INVALID"


# -- Vertex AI -------------------------------------------------------------------------------------
@pytest.mark.parametrize("api_version", ["v1", "v1beta1"])
def test_vertex_through_google_genai(gemini_project, token, api_version) -> None:
    client = vertex_client(
        gemini_project.emu.url, token, gemini_project.project.project_id, "us-central1", api_version
    )
    assert client.models.count_tokens(model=MODEL, contents="hello there").total_tokens == 2
    answer = client.models.generate_content(model=MODEL, contents="hi")
    assert answer.usage_metadata.traffic_type == types.TrafficType.ON_DEMAND
    streamed = "".join(c.text for c in client.models.generate_content_stream(model=MODEL, contents="hi"))
    assert streamed == answer.text


@pytest.mark.parametrize("api_version", ["aiplatform.v1", "aiplatform.v1beta1"])
def test_vertex_answers_match_the_discovery_schemas(gemini_project, token, api_version) -> None:
    version = api_version.split(".")[1]
    base = (
        f"{gemini_project.emu.url}/{version}/projects/{gemini_project.project.project_id}/locations/global"
        f"/publishers/google/models/{MODEL}"
    )
    headers = {"Authorization": f"Bearer {token}"}
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    prefix = "aiplatform.projects.locations.publishers.models."
    for verb in ("generateContent", "countTokens"):
        answer = requests.post(f"{base}:{verb}", json=body, headers=headers).json()
        assert method_response_problems(api_version, prefix + verb, answer) == []
    chunks = requests.post(f"{base}:streamGenerateContent", json=body, headers=headers).json()
    for chunk in chunks:
        assert method_response_problems(api_version, prefix + "streamGenerateContent", chunk) == []


def test_api_key_on_the_vertex_project_path_is_refused_as_google_does(gemini_project, key) -> None:
    url = (
        f"{gemini_project.emu.url}/v1/projects/{gemini_project.project.project_id}/locations/global"
        f"/publishers/google/models/{MODEL}:generateContent"
    )
    response = requests.post(url, params={"key": key}, json={"contents": []})
    assert response.status_code == 401
    info = response.json()["error"]["details"][0]
    assert info["reason"] == "CREDENTIALS_MISSING"
    assert info["metadata"]["method"] == "google.cloud.aiplatform.v1.PredictionService.GenerateContent"


def test_vertex_unknown_model_is_not_found(gemini_project, token) -> None:
    client = vertex_client(gemini_project.emu.url, token, gemini_project.project.project_id)
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-0-nope", contents="hi")
    assert caught.value.code == 404
    assert "Publisher Model" in caught.value.message


def test_express_mode_takes_only_keys_made_for_vertex(gemini_project, key) -> None:
    """The Gemini API key (an auth key restricted to the Gemini API) is refused there; the express key
    (restricted to Vertex AI, on an account holding the express role) works."""
    options = types.HttpOptions(base_url=gemini_project.emu.url, retry_options=RETRY_ONCE)
    gemini_key_client = genai.Client(vertexai=True, api_key=key, http_options=options)
    with pytest.raises(genai_errors.ClientError) as caught:
        gemini_key_client.models.generate_content(model=MODEL, contents="hi")
    assert caught.value.code == 403 and "API_KEY_SERVICE_BLOCKED" in str(caught.value)
    express_key = os.environ["VERTEX_EXPRESS_API_KEY"]
    client = genai.Client(vertexai=True, api_key=express_key, http_options=options)
    assert client.models.generate_content(model=MODEL, contents="hi").text


@pytest.mark.parametrize("api_version", ["v1", "v1beta1"])
def test_openai_library_against_vertex(gemini_project, token, api_version) -> None:
    base_url = (
        f"{gemini_project.emu.url}/{api_version}/projects/{gemini_project.project.project_id}"
        "/locations/us-central1/endpoints/openapi"
    )
    client = openai.OpenAI(base_url=base_url, api_key=token, max_retries=0)
    answer = client.chat.completions.create(
        model=f"google/{MODEL}", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.model == f"google/{MODEL}"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.AuthenticationError):
        client.with_options(api_key="ya29.expired").chat.completions.create(
            model=f"google/{MODEL}", messages=[{"role": "user", "content": "hi"}]
        )


def test_model_calls_are_logged_as_data(gemini_project, key) -> None:
    gemini_project.emu.clear_requests()
    client = gemini_client(gemini_project.emu.url, key)
    client.models.get(model=MODEL)
    client.models.generate_content(model=MODEL, contents="hi")
    assert [r["kind"] for r in gemini_project.emu.requests()] == ["read", "data"]
