"""The data plane's behaviours (issue 15, done before this suite; here as scenarios): model features on every
path, embeddings, token counts, honest 501s, today's catalogue, retired models and Vertex AI locations."""

from __future__ import annotations

import json
import subprocess

import pytest
from dataplane import EMBEDDING_MODEL, MODEL, Plane, make_plane

from fidelity.kit import from_genai, from_openai, scenario
from fidelity.target import Target

SCHEMA = {
    "type": "OBJECT",
    "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
    "required": ["city", "days"],
}
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
}
OPENAI_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def plane(t: Target) -> Plane:
    t.emulator_only()  # the project, account and key are made in the emulator's state
    t.project_ids.append("data-plane-1")
    return make_plane(t.world, t.url)


def _genai_client(plane: Plane, path: str):
    return {
        "gemini": plane.gemini,
        "gemini-v1": lambda: plane.gemini("v1"),
        "vertex": plane.vertex,
        "express": plane.express,
    }[path]()


# -- JSON mode -------------------------------------------------------------------------------------------
@scenario("genai", "1.json-mode")
@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
def test_genai_json_mode(plane: Plane, snapshot, path: str) -> None:
    from google.genai import types

    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=SCHEMA)
    client = _genai_client(plane, path)
    answer = client.models.generate_content(model=MODEL, contents="weather?", config=config)
    parsed = json.loads(answer.text)
    assert set(parsed) == {"city", "days"} and isinstance(parsed["days"], int)
    assert answer.parsed == parsed
    snapshot.match("json", {"keys": sorted(parsed)})


@scenario("openai", "1.json-mode")
@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
@pytest.mark.parametrize("kind", ["json_object", "json_schema"])
def test_openai_json_mode(plane: Plane, path: str, kind: str) -> None:
    schema = {
        "name": "w",
        "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    response_format = {"type": kind, **({"json_schema": schema} if kind == "json_schema" else {})}
    model = MODEL if path == "gemini" else f"google/{MODEL}"
    answer = plane.openai(path).chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "weather as JSON"}],
        response_format=response_format,
    )
    parsed = json.loads(answer.choices[0].message.content)
    assert isinstance(parsed, dict) and (kind == "json_object" or "city" in parsed)


# -- function calling ------------------------------------------------------------------------------------
@scenario("genai", "1.function-calling")
@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
def test_genai_function_calling(plane: Plane, path: str) -> None:
    from google.genai import types

    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(**WEATHER)])],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    client = _genai_client(plane, path)
    answer = client.models.generate_content(model=MODEL, contents="Paris?", config=config)
    call = answer.function_calls[0]
    assert call.name == "get_weather" and isinstance(call.args["city"], str)


@scenario("openai", "1.function-calling")
@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
@pytest.mark.parametrize("choice", ["required", "named"])
def test_openai_tool_choice(plane: Plane, path: str, choice: str) -> None:
    tool_choice = (
        "required" if choice == "required" else {"type": "function", "function": {"name": "get_weather"}}
    )
    model = MODEL if path == "gemini" else f"google/{MODEL}"
    answer = plane.openai(path).chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Paris?"}],
        tools=[OPENAI_WEATHER],
        tool_choice=tool_choice,
    )
    call = answer.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and "city" in json.loads(call.function.arguments)
    assert answer.choices[0].finish_reason == "tool_calls"


@scenario("openai", "1.function-calling")
def test_openai_tool_choice_none_answers_text(plane: Plane) -> None:
    answer = plane.openai().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Paris?"}],
        tools=[OPENAI_WEATHER],
        tool_choice="none",
    )
    assert answer.choices[0].message.tool_calls is None and answer.choices[0].message.content


# -- candidates and response IDs ---------------------------------------------------------------------------
@scenario("genai", "1.candidates")
@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
def test_genai_candidate_count(plane: Plane, path: str) -> None:
    from google.genai import types

    config = types.GenerateContentConfig(candidate_count=2)
    client = _genai_client(plane, path)
    answer = client.models.generate_content(model=MODEL, contents="hi", config=config)
    assert [c.index or 0 for c in answer.candidates] == [0, 1]


@scenario("openai", "1.candidates")
@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
def test_openai_n(plane: Plane, path: str) -> None:
    model = MODEL if path == "gemini" else f"google/{MODEL}"
    answer = plane.openai(path).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], n=2
    )
    assert [c.index for c in answer.choices] == [0, 1]


@scenario("genai", "1.response-id")
@pytest.mark.parametrize("path", ["gemini", "vertex"])
def test_genai_response_ids_differ(plane: Plane, path: str) -> None:
    client = _genai_client(plane, path)
    first, second = (client.models.generate_content(model=MODEL, contents="same") for _ in range(2))
    assert first.response_id and first.response_id != second.response_id


@scenario("openai", "1.response-id")
def test_openai_ids_differ(plane: Plane) -> None:
    client = plane.openai()
    ids = {
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "same"}]).id
        for _ in range(2)
    }
    assert len(ids) == 2


# -- embeddings -------------------------------------------------------------------------------------------
@scenario("genai", "2.embeddings")
@pytest.mark.parametrize("path", ["gemini", "vertex"])
def test_genai_embed_content(plane: Plane, path: str) -> None:
    from google.genai import types

    config = types.EmbedContentConfig(output_dimensionality=768)
    client = _genai_client(plane, path)
    answer = client.models.embed_content(model=EMBEDDING_MODEL, contents=["a", "b"], config=config)
    assert [len(e.values) for e in answer.embeddings] == [768, 768]


@scenario("genai", "2.embeddings")
def test_models_list_advertises_embed_content(plane: Plane) -> None:
    client = plane.gemini()
    models = {m.name: m for m in client.models.list()}
    assert "embedContent" in models[f"models/{EMBEDDING_MODEL}"].supported_actions


@scenario("openai", "2.embeddings")
@pytest.mark.parametrize("path", ["gemini", "vertex"])
def test_openai_embeddings(plane: Plane, path: str) -> None:
    model = EMBEDDING_MODEL if path == "gemini" else f"google/{EMBEDDING_MODEL}"
    answer = plane.openai(path).embeddings.create(model=model, input=["a", "b"], dimensions=256)
    assert [len(d.embedding) for d in answer.data] == [256, 256]


@scenario("http", "2.embeddings")
def test_http_embed_content_default_dimensions(plane: Plane, t: Target, snapshot) -> None:
    body = {"content": {"parts": [{"text": "hello"}]}}
    answer = t.call(
        "POST",
        "generativelanguage",
        f"v1beta/models/{EMBEDDING_MODEL}:embedContent",
        body,
        auth=False,
        headers={"x-goog-api-key": plane.key},
    )
    assert len(answer.body["embedding"]["values"]) == 3072
    snapshot.match("answer", {"status": answer.status, "fields": sorted(answer.body["embedding"])})


# -- Vertex AI models, tokens and OpenAI-compatible endpoints ----------------------------------------------
@scenario("genai", "2.vertex-models")
@pytest.mark.parametrize("path", ["vertex", "express"])
def test_vertex_publisher_model_get(plane: Plane, path: str) -> None:
    client = _genai_client(plane, path)
    model = client.models.get(model=MODEL)
    assert model.name.endswith(MODEL)


@scenario("http", "2.vertex-models")
def test_vertex_publisher_models_list(plane: Plane, t: Target, snapshot) -> None:
    answer = t.call(
        "GET",
        "aiplatform",
        "v1beta1/publishers/google/models",
        auth=False,
        headers={"x-goog-api-key": plane.key},
    )
    assert answer.status == 200 and answer.body["publisherModels"]
    snapshot.match("answer", answer.shape())


@scenario("genai", "2.vertex-models")
@pytest.mark.parametrize("path", ["vertex", "express"])
def test_vertex_compute_tokens_matches_count_tokens(plane: Plane, path: str) -> None:
    client = _genai_client(plane, path)
    computed = client.models.compute_tokens(model=MODEL, contents="one two three")
    counted = client.models.count_tokens(model=MODEL, contents="one two three")
    assert sum(len(i.token_ids) for i in computed.tokens_info) == counted.total_tokens == 3


@scenario("openai", "2.vertex-models")
def test_vertex_openai_models_is_googles_404(plane: Plane, snapshot) -> None:
    import openai

    with pytest.raises(openai.NotFoundError) as missing:
        plane.openai("vertex").models.list()
    answer = from_openai(missing.value)
    assert answer.error["status"] == "NOT_FOUND"
    snapshot.match("answer", answer.shape())


@scenario("openai", "2.vertex-models")
def test_gemini_openai_models_list(plane: Plane) -> None:
    ids = [m.id for m in plane.openai().models.list()]
    assert f"models/{MODEL}" in ids


@scenario("openai", "2.vertex-models")
@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
def test_openai_streamed_chat_matches_the_answer(plane: Plane, path: str) -> None:
    model = MODEL if path == "gemini" else f"google/{MODEL}"
    client = plane.openai(path)
    messages = [{"role": "user", "content": "hi"}]
    whole = client.chat.completions.create(model=model, messages=messages).choices[0].message.content
    streamed = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(model=model, messages=messages, stream=True)
        if c.choices
    )
    assert streamed == whole


# -- honest 501s -----------------------------------------------------------------------------------------
@scenario("http", "2.not-emulated")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "v1beta/files"),
        ("GET", "v1beta/cachedContents"),
        ("GET", "v1beta/batches"),
        ("POST", "v1beta/cachedContents"),
        ("GET", "v1beta/tunedModels"),
    ],
)
def test_unmodelled_gemini_methods_answer_501(
    plane: Plane, t: Target, snapshot, method: str, path: str
) -> None:
    answer = t.call(
        method,
        "generativelanguage",
        path,
        {} if method == "POST" else None,
        auth=False,
        headers={"x-goog-api-key": plane.key},
    )
    assert (
        answer.status == 501
        and answer.error["status"] == "UNIMPLEMENTED"
        and "not emulated" in answer.error["message"]
    )
    snapshot.match("answer", answer.shape())


@scenario("genai", "2.not-emulated")
def test_genai_files_list_is_an_honest_501(plane: Plane) -> None:
    from google.genai import errors

    with pytest.raises(errors.APIError) as refused:
        client = plane.gemini()
        list(client.files.list())
    assert refused.value.code == 501


def _curl(plane: Plane, url: str) -> dict:
    command = ["curl", "-sS", "-H", f"x-goog-api-key: {plane.key}", url]
    return json.loads(subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout)


@scenario("curl", "2.not-emulated")
def test_curl_cached_contents_is_json_not_html(plane: Plane, t: Target) -> None:
    assert _curl(plane, f"{t.url}/v1beta/cachedContents")["error"]["code"] == 501


# -- today's catalogue, retired models, locations --------------------------------------------------------
@scenario("genai", "7.catalogue")
def test_the_catalogue_lists_todays_models(plane: Plane) -> None:
    client = plane.gemini()
    names = {m.name for m in client.models.list()}
    assert {"models/gemini-3.8-flash", "models/gemini-embedding-001"} <= names
    assert "models/gemini-2.0-flash-exp" not in names


@scenario("curl", "7.catalogue")
def test_curl_models_get(plane: Plane, t: Target) -> None:
    assert _curl(plane, f"{t.url}/v1beta/models/{MODEL}")["name"] == f"models/{MODEL}"


@scenario("genai", "7.retired")
@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("gemini-3-pro-preview", "is no longer available."),
        ("gemini-2.5-flash", "no longer available to new users"),
    ],
)
def test_retired_models_answer_as_google(plane: Plane, snapshot, model: str, words: str) -> None:
    from google.genai import errors

    client = plane.gemini()
    with pytest.raises(errors.APIError) as refused:
        client.models.generate_content(model=model, contents="hi")
    answer = from_genai(refused.value)
    assert answer.status == 404 and words in answer.error["message"]
    snapshot.match("answer", answer.shape())


@scenario("openai", "7.retired")
def test_openai_retired_model_is_a_404_in_a_list(plane: Plane, snapshot) -> None:
    import openai

    with pytest.raises(openai.NotFoundError) as refused:
        plane.openai().chat.completions.create(
            model="gemini-3-pro-preview", messages=[{"role": "user", "content": "hi"}]
        )
    answer = from_openai(refused.value)
    assert isinstance(answer.body, list)
    snapshot.match("answer", answer.shape())


@scenario("genai", "7.locations")
@pytest.mark.parametrize(
    ("location", "served"), [("mars-central1", False), ("europe-west4", True), ("global", True)]
)
def test_vertex_locations(plane: Plane, location: str, served: bool) -> None:
    from google.genai import errors

    client = plane.vertex(location=location)
    if served:
        assert client.models.generate_content(model=MODEL, contents="hi").text
        return
    with pytest.raises(errors.APIError) as refused:
        client.models.generate_content(model=MODEL, contents="hi")
    assert refused.value.code == 404


@scenario("http", "7.locations")
def test_http_unknown_location(plane: Plane, t: Target, snapshot) -> None:
    model = f"publishers/google/models/{MODEL}"
    path = f"v1/projects/{plane.project}/locations/mars-central1/{model}:generateContent"
    answer = t.call(
        "POST",
        "aiplatform",
        path,
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        auth=False,
        headers={"Authorization": f"Bearer {plane.token}"},
    )
    assert answer.status == 404
    snapshot.match("answer", answer.shape())


# -- streaming and counting agree -----------------------------------------------------------------------
@scenario("genai", "1.json-mode")
@pytest.mark.parametrize("path", ["gemini", "vertex"])
def test_streamed_json_is_the_same_json(plane: Plane, path: str) -> None:
    from google.genai import types

    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=SCHEMA)
    client = _genai_client(plane, path)
    whole = client.models.generate_content(model=MODEL, contents="w", config=config).text
    streamed = "".join(
        c.text or "" for c in client.models.generate_content_stream(model=MODEL, contents="w", config=config)
    )
    assert json.loads(streamed) == json.loads(whole)


@scenario("http", "1.json-mode")
def test_v1_has_no_json_mode(plane: Plane, t: Target, snapshot) -> None:
    body = {"contents": [{"parts": [{"text": "hi"}]}], "systemInstruction": {"parts": [{"text": "x"}]}}
    answer = t.call(
        "POST",
        "generativelanguage",
        f"v1/models/{MODEL}:generateContent",
        body,
        auth=False,
        headers={"x-goog-api-key": plane.key},
    )
    assert answer.status == 400 and 'Unknown name "systemInstruction"' in answer.error["message"]
    snapshot.match("answer", answer.shape())
