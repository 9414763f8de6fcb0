"""The emulated model's features on every path, through the real google-genai and openai libraries: JSON mode,
function calling with each mode, several candidates, a responseId per call, embeddings with their dimensions,
token counts that agree, streams that carry the non-streamed answer, models list and get."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from dataplane import EMBEDDING_MODEL, MODEL, Plane, make_plane
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["city", "days"],
}
NOTE = {"type": "object", "properties": {"title": {"type": "string"}, "score": {"type": "number"}}}


class Recipe(BaseModel):
    name: str
    steps: list[str]
    minutes: int


@pytest.fixture
def plane(world, emu) -> Plane:
    return make_plane(world, emu.url)


def genai_clients(plane: Plane, *, gemini_v1: bool = True) -> dict[str, Any]:
    """Every google-genai path: the Gemini API v1beta and v1, Vertex AI project paths v1 and v1beta1, express.
    The Gemini API's v1 has no tools, JSON mode or system instruction (its protos, tested below)."""
    clients = {
        "gemini v1beta": plane.gemini("v1beta"),
        "gemini v1": plane.gemini("v1"),
        "vertex v1": plane.vertex("v1"),
        "vertex v1beta1": plane.vertex("v1beta1"),
        "express v1beta1": plane.express("v1beta1"),
    }
    if not gemini_v1:
        del clients["gemini v1"]
    return clients


def declare(*names: str) -> types.Tool:
    parameters = types.Schema(
        type="OBJECT",
        properties={"city": types.Schema(type="STRING"), "days": types.Schema(type="INTEGER", minimum=1)},
        required=["city"],
    )
    return types.Tool(
        function_declarations=[types.FunctionDeclaration(name=n, parameters=parameters) for n in names]
    )


def calling(mode: str, *allowed: str, tools: tuple[types.Tool, ...] = ()) -> types.GenerateContentConfig:
    config = types.FunctionCallingConfig(mode=mode, allowed_function_names=list(allowed) or None)
    return types.GenerateContentConfig(
        tools=list(tools) or [declare("get_weather", "get_time")],
        tool_config=types.ToolConfig(function_calling_config=config),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )


def test_json_mode_answers_json_that_fits_the_schema_on_every_path(plane) -> None:
    for name, client in genai_clients(plane, gemini_v1=False).items():
        typed = client.models.generate_content(
            model=MODEL,
            contents="a recipe",
            config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=Recipe),
        )
        assert isinstance(typed.parsed, Recipe), name
        plain = client.models.generate_content(
            model=MODEL,
            contents="the weather",
            config=types.GenerateContentConfig(
                response_mime_type="application/json", response_json_schema=WEATHER_SCHEMA
            ),
        )
        jsonschema.validate(json.loads(plain.text), WEATHER_SCHEMA)
        assert len(json.loads(plain.text)["tags"]) >= 2, name


def test_function_calling_follows_the_mode_on_every_path(plane) -> None:
    for name, client in genai_clients(plane, gemini_v1=False).items():
        call = client.models.generate_content(model=MODEL, contents="call get_time", config=calling("ANY"))
        assert call.function_calls[0].name == "get_time", name  # the prompt names it
        assert call.function_calls[0].args["city"], name
        only = client.models.generate_content(
            model=MODEL, contents="time?", config=calling("ANY", "get_weather")
        )
        assert [c.name for c in only.function_calls] == ["get_weather"], name
        text = client.models.generate_content(model=MODEL, contents="hi", config=calling("NONE"))
        assert text.function_calls is None and text.text, name


def test_auto_mode_calls_then_answers_the_function_result(plane) -> None:
    client = plane.gemini()
    asked = types.Content(role="user", parts=[types.Part(text="weather in Paris?")])
    first = client.models.generate_content(model=MODEL, contents=[asked], config=calling("AUTO"))
    call = first.function_calls[0]
    result = types.Part.from_function_response(name=call.name, response={"forecast": "sunny"})
    turns = [asked, first.candidates[0].content, types.Content(role="user", parts=[result])]
    second = client.models.generate_content(model=MODEL, contents=turns, config=calling("AUTO"))
    assert second.function_calls is None and second.text


def test_google_genai_automatic_function_calling_runs_the_python_function(plane) -> None:
    called = []

    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return "sunny"

    client = plane.gemini()
    answer = client.models.generate_content(
        model=MODEL, contents="weather?", config=types.GenerateContentConfig(tools=[get_weather])
    )
    assert called and answer.text


def test_candidate_count_and_response_ids(plane) -> None:
    for name, client in genai_clients(plane).items():
        config = types.GenerateContentConfig(candidate_count=3)
        first = client.models.generate_content(model=MODEL, contents="hi", config=config)
        second = client.models.generate_content(model=MODEL, contents="hi", config=config)
        assert [c.index or 0 for c in first.candidates] == [0, 1, 2], name
        assert first.response_id and first.response_id != second.response_id, name


def test_stream_carries_the_same_answer(plane) -> None:
    configs = [
        None,
        types.GenerateContentConfig(response_mime_type="application/json", response_json_schema=NOTE),
        calling("ANY"),
    ]
    for name, client in genai_clients(plane, gemini_v1=False).items():
        for config in configs:
            whole = client.models.generate_content(model=MODEL, contents="stream me", config=config)
            chunks = list(
                client.models.generate_content_stream(model=MODEL, contents="stream me", config=config)
            )
            assert "".join(c.text or "" for c in chunks) == (whole.text or ""), name
            streamed_calls = [f for c in chunks for f in c.function_calls or []]
            assert [f.name for f in streamed_calls] == [f.name for f in whole.function_calls or []], name
            assert chunks[-1].usage_metadata.total_token_count == whole.usage_metadata.total_token_count


def test_token_counts_agree(plane) -> None:
    system = "You are terse."
    config = types.GenerateContentConfig(system_instruction=system)
    for name, client in genai_clients(plane).items():
        counted = client.models.count_tokens(model=MODEL, contents="How many tokens is this?")
        answer = client.models.generate_content(model=MODEL, contents="How many tokens is this?")
        assert counted.total_tokens == answer.usage_metadata.prompt_token_count == 6, name
        usage = answer.usage_metadata
        assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count, name
        if name != "gemini v1":
            with_system = client.models.generate_content(
                model=MODEL, contents="How many tokens is this?", config=config
            )
            assert with_system.usage_metadata.prompt_token_count == 6 + 4, name
    for client in (plane.vertex("v1"), plane.vertex("v1beta1"), plane.express("v1")):
        computed = client.models.compute_tokens(model=MODEL, contents="How many tokens is this?")
        assert sum(len(info.tokens) for info in computed.tokens_info) == 6
        assert computed.tokens_info[0].tokens[0] == b"How"


def test_embeddings_have_the_documented_dimensions_and_are_deterministic(plane) -> None:
    for client in (plane.gemini("v1beta"), plane.gemini("v1"), plane.vertex("v1"), plane.vertex("v1beta1")):
        full = client.models.embed_content(model=EMBEDDING_MODEL, contents=["alpha", "beta"])
        assert [len(e.values) for e in full.embeddings] == [3072, 3072]
        assert full.embeddings[0].values != full.embeddings[1].values
        short = client.models.embed_content(
            model=EMBEDDING_MODEL,
            contents="alpha",
            config=types.EmbedContentConfig(output_dimensionality=768),
        )
        assert short.embeddings[0].values == full.embeddings[0].values[:768]
        assert abs(sum(v * v for v in full.embeddings[0].values) - 1) < 1e-4
    vertex, gemini = plane.vertex(), plane.gemini()
    predicted = vertex.models.embed_content(model="text-embedding-005", contents="alpha")
    assert len(predicted.embeddings[0].values) == 768
    with pytest.raises(genai_errors.ClientError) as caught:
        gemini.models.embed_content(
            model=EMBEDDING_MODEL, contents="a", config=types.EmbedContentConfig(output_dimensionality=64)
        )
    assert caught.value.code == 400


def test_models_list_and_get_on_every_path(plane) -> None:
    gemini = plane.gemini()
    listed = [m.name for m in gemini.models.list()]
    assert f"models/{MODEL}" in listed and f"models/{EMBEDDING_MODEL}" in listed
    assert gemini.models.get(model=MODEL).input_token_limit == 1_048_576
    for client in (plane.vertex("v1"), plane.vertex("v1beta1"), plane.express("v1")):
        assert client.models.get(model=MODEL).name == f"publishers/google/models/{MODEL}"
    express = plane.express("v1beta1")
    publishers = [m.name for m in express.models.list()]
    assert f"publishers/google/models/{MODEL}" in publishers


# -- openai ------------------------------------------------------------------------------------------
def openai_paths(plane: Plane) -> dict[str, tuple[Any, str]]:
    """The openai library on the Gemini API's endpoint and on Vertex AI's (v1 and v1beta1, and express), with
    the model name each takes."""
    return {
        "gemini": (plane.openai("gemini"), MODEL),
        "vertex v1": (plane.openai("vertex", "v1"), f"google/{MODEL}"),
        "vertex v1beta1": (plane.openai("vertex", "v1beta1"), f"google/{MODEL}"),
        "express v1": (plane.openai("express", "v1"), f"google/{MODEL}"),
    }


WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA},
}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": NOTE}}
HI = [{"role": "user", "content": "hi"}]


def test_openai_json_modes(plane) -> None:
    for name, (client, model) in openai_paths(plane).items():
        loose = client.chat.completions.create(
            model=model, messages=HI, response_format={"type": "json_object"}
        )
        assert isinstance(json.loads(loose.choices[0].message.content), dict), name
        strict = client.chat.completions.create(
            model=model,
            messages=HI,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA},
            },
        )
        jsonschema.validate(json.loads(strict.choices[0].message.content), WEATHER_SCHEMA)


def test_openai_tool_choice(plane) -> None:
    for name, (client, model) in openai_paths(plane).items():
        required = client.chat.completions.create(
            model=model, messages=HI, tools=[WEATHER_TOOL, TIME_TOOL], tool_choice="required"
        )
        call = required.choices[0].message.tool_calls[0]
        assert required.choices[0].finish_reason == "tool_calls", name
        jsonschema.validate(json.loads(call.function.arguments), WEATHER_SCHEMA)
        named = client.chat.completions.create(
            model=model,
            messages=HI,
            tools=[WEATHER_TOOL, TIME_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_time"}},
        )
        assert named.choices[0].message.tool_calls[0].function.name == "get_time", name
        none = client.chat.completions.create(
            model=model, messages=HI, tools=[WEATHER_TOOL], tool_choice="none"
        )
        assert none.choices[0].message.tool_calls is None and none.choices[0].message.content
        answered = [
            *HI,
            {"role": "assistant", "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ]
        final = client.chat.completions.create(model=model, messages=answered, tools=[WEATHER_TOOL])
        assert final.choices[0].finish_reason == "stop", name


def test_openai_n_ids_and_streams(plane) -> None:
    for name, (client, model) in openai_paths(plane).items():
        first = client.chat.completions.create(model=model, messages=HI, n=2)
        second = client.chat.completions.create(model=model, messages=HI, n=2)
        assert [c.index for c in first.choices] == [0, 1] and first.id != second.id, name
        chunks = list(client.chat.completions.create(model=model, messages=HI, n=2, stream=True))
        for index in (0, 1):
            text = "".join(
                c.delta.content or "" for chunk in chunks for c in chunk.choices if c.index == index
            )
            assert text == first.choices[index].message.content, name
        streamed_call = list(
            client.chat.completions.create(
                model=model, messages=HI, tools=[WEATHER_TOOL], stream=True, tool_choice="required"
            )
        )
        assert streamed_call[0].choices[0].delta.tool_calls[0].function.name == "get_weather", name


def test_openai_embeddings_and_models(plane) -> None:
    gemini = plane.openai("gemini")
    vectors = gemini.embeddings.create(model=EMBEDDING_MODEL, input=["alpha", "beta"])
    assert [len(d.embedding) for d in vectors.data] == [3072, 3072]
    short = gemini.embeddings.create(model=EMBEDDING_MODEL, input="alpha", dimensions=768)
    assert short.data[0].embedding == vectors.data[0].embedding[:768]
    vertex_client = plane.openai("vertex")
    vertex = vertex_client.embeddings.create(model=f"google/{EMBEDDING_MODEL}", input="alpha")
    assert vertex.data[0].embedding == vectors.data[0].embedding
    assert f"models/{MODEL}" in [m.id for m in gemini.models.list().data]
    assert gemini.models.retrieve(MODEL).id == f"models/{MODEL}"
