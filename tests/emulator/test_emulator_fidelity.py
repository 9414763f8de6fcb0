"""The data plane's rules: no wrongly shaped success. Every method of the Gemini API (its protos) and of
Vertex AI (the aiplatform discovery documents) is modelled or answers 501 UNIMPLEMENTED; answers conform to
the schemas; bodies are checked as Google checks them; retired models and unknown locations answer as
Google's."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from dataplane import EMBEDDING_MODEL, MODEL, Plane, make_plane
from schema_check import method_response_problems
from werkzeug.test import Client

from gcp_setup.emulator.core import discovery
from gcp_setup.emulator.core.routes import ROUTES

ROOT = Path(__file__).resolve().parent.parent.parent
GEMINI_VERSIONS = ("generativelanguage.v1", "generativelanguage.v1beta")
VERTEX_VERSIONS = ("aiplatform.v1", "aiplatform.v1beta1")
GEMINI_MODELLED = {
    f"generativelanguage.models.{verb}"
    for verb in ("list", "get", "countTokens", "generateContent", "streamGenerateContent", "embedContent")
} | {"generativelanguage.models.batchEmbedContents"}
_PROJECT_VERBS = ("generateContent", "streamGenerateContent", "countTokens", "computeTokens", "predict")
VERTEX_MODELLED = (
    {f"aiplatform.projects.locations.publishers.models.{v}" for v in _PROJECT_VERBS}
    | {f"aiplatform.publishers.models.{v}" for v in (*_PROJECT_VERBS, "get", "list")}
    | {
        "aiplatform.projects.locations.publishers.models.embedContent",
        "aiplatform.projects.locations.publishers.models.batchEmbedContents",
        "aiplatform.projects.locations.endpoints.chat.completions",
        "aiplatform.endpoints.chat.completions",
        "aiplatform.projects.locations.endpoints.openapi.embeddings",
    }
)
HI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.fixture
def plane(world, emu) -> Plane:
    return make_plane(world, emu.url)


def gemini_post(plane: Plane, path: str, body: Any) -> requests.Response:
    return requests.post(f"{plane.url}/{path}", json=body, headers={"x-goog-api-key": plane.key}, timeout=30)


def vertex_post(plane: Plane, path: str, body: Any, location: str = "global") -> requests.Response:
    url = f"{plane.url}/{path.format(project=plane.project, location=location)}"
    return requests.post(url, json=body, headers={"Authorization": f"Bearer {plane.token}"}, timeout=30)


def error(response: Any) -> dict[str, Any]:
    """The google.rpc.Status of a requests or werkzeug response (in a list on OpenAI-compatible paths)."""
    body = response.json() if isinstance(response, requests.Response) else response.get_json()
    return (body[0] if isinstance(body, list) else body)["error"]


# -- the Gemini API's discovery documents -------------------------------------------------------------
def test_the_gemini_discovery_documents_match_the_protos() -> None:
    spec = importlib.util.spec_from_file_location("gemini_discovery", ROOT / "tools" / "gemini_discovery.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for version in ("v1", "v1beta"):
        shipped = (
            ROOT / "gcp_setup" / "emulator" / "data" / f"generativelanguage.{version}.json"
        ).read_text()
        assert shipped == tool.document_text(version), f"run tools/gemini_discovery.py ({version})"


# -- honest errors for every method -------------------------------------------------------------------
def _sample_path(rule: str, method_id: str, plane: Plane) -> str:
    embedding = any(v in method_id for v in ("mbed", "predict", "openapi.embeddings"))
    values = {
        "modelsId": EMBEDDING_MODEL if embedding else MODEL,
        "publishersId": "google",
        "projectsId": plane.project,
        "locationsId": "global",
        "endpointsId": "openapi",
    }
    return re.sub(r"<(?:path:)?(\w+)>", lambda m: values.get(m.group(1), "x"), rule)


def walk(app: Any, plane: Plane, versions: tuple[str, ...], modelled: set[str]) -> list[str]:
    """Send every method of `versions` to the emulator's WSGI app (no sockets: thousands of calls); list what
    is neither modelled nor Google's 501."""
    client = Client(app)
    wrong = []
    headers = (
        {"x-goog-api-key": plane.key}
        if versions == GEMINI_VERSIONS
        else {"Authorization": f"Bearer {plane.token}"}
    )
    family = versions[0].split(".")[0]
    elsewhere = {(r.http_method, r.rule) for r in ROUTES if not r.method_id.startswith(family)}
    for version in versions:
        for method in discovery.methods(version).values():
            if (method.http_method, method.rule) in elsewhere:
                continue  # one host for every API: another API serves this path (/v1/operations/X)
            path = _sample_path(method.rule, method.id, plane)
            body = {} if method.http_method in ("POST", "PATCH", "PUT") else None
            answer = client.open(path, method=method.http_method, json=body, headers=headers)
            failure = error(answer) if answer.status_code >= 400 else {}
            if method.id in modelled:
                unrouted = answer.status_code == 404 and "requested URL" in failure.get("message", "")
                if answer.status_code == 501 or unrouted:
                    wrong.append(f"{version} {method.id}: modelled, but {answer.status_code}")
            elif answer.status_code != 501 or failure.get("status") != "UNIMPLEMENTED":
                wrong.append(f"{version} {method.id}: {answer.status_code} {failure}")
            # Without its own host, a path two APIs share (v1/models/M/operations/O) names the first's method.
            elif (
                "not emulated" not in failure["message"]
                or method.id.split(".", 1)[1] not in failure["message"]
            ):
                wrong.append(f"{version} {method.id}: 501 without naming it: {failure['message']}")
    return wrong


@pytest.fixture
def app(_emulator_server, world) -> Any:
    return _emulator_server.app


def test_every_gemini_api_method_is_modelled_or_answers_501(app, plane) -> None:
    assert walk(app, plane, GEMINI_VERSIONS, GEMINI_MODELLED) == []


def test_every_vertex_ai_method_is_modelled_or_answers_501(app, plane) -> None:
    assert walk(app, plane, VERTEX_VERSIONS, VERTEX_MODELLED) == []


def test_openai_endpoints_not_modelled_answer_501_in_a_list(plane) -> None:
    for path in ("v1beta/openai/images/generations", "v1beta/openai/files", "v1beta/chat/completions"):
        answer = requests.post(
            f"{plane.url}/{path}", json={}, headers={"Authorization": f"Bearer {plane.key}"}
        )
        assert answer.status_code == 501 and error(answer)["status"] == "UNIMPLEMENTED", path
        assert isinstance(answer.json(), list)


def test_vertex_openai_models_is_not_found_in_googles_shape(plane) -> None:
    url = f"{plane.url}/v1/projects/{plane.project}/locations/global/endpoints/openapi/models"
    answer = requests.get(url, headers={"Authorization": f"Bearer {plane.token}"})
    assert answer.status_code == 404 and error(answer)["status"] == "NOT_FOUND"


def test_a_wrong_http_method_is_googles_404_not_405(plane) -> None:
    answer = requests.get(f"{plane.url}/v1beta/models/{MODEL}:generateContent", params={"key": plane.key})
    assert answer.status_code == 404 and error(answer)["status"] == "NOT_FOUND"


# -- answers conform to the schemas ---------------------------------------------------------------------
TOOLS = [
    {
        "functionDeclarations": [
            {"name": "f", "parameters": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}}}
        ]
    }
]
JSON_MODE = {
    "generationConfig": {"responseMimeType": "application/json", "responseSchema": {"type": "STRING"}}
}


def test_gemini_answers_conform_to_the_protos(plane) -> None:
    version = "generativelanguage.v1beta"
    checks = {
        "models.get": requests.get(f"{plane.url}/v1beta/models/{MODEL}", params={"key": plane.key}).json(),
        "models.list": requests.get(f"{plane.url}/v1beta/models", params={"key": plane.key}).json(),
        "models.countTokens": gemini_post(plane, f"v1beta/models/{MODEL}:countTokens", HI).json(),
        "models.embedContent": gemini_post(
            plane, f"v1beta/models/{EMBEDDING_MODEL}:embedContent", {"content": HI["contents"][0]}
        ).json(),
        "models.batchEmbedContents": gemini_post(
            plane,
            f"v1beta/models/{EMBEDDING_MODEL}:batchEmbedContents",
            {"requests": [{"content": HI["contents"][0]}]},
        ).json(),
    }
    for body in (HI, {**HI, "tools": TOOLS}, {**HI, **JSON_MODE, "generationConfig": {"candidateCount": 2}}):
        checks["models.generateContent"] = gemini_post(
            plane, f"v1beta/models/{MODEL}:generateContent", body
        ).json()
        for method, answer in checks.items():
            assert method_response_problems(version, f"generativelanguage.{method}", answer) == [], method


@pytest.mark.parametrize("version", VERTEX_VERSIONS)
def test_vertex_answers_conform_to_the_discovery_schemas(plane, version) -> None:
    short = version.split(".")[1]
    base = f"{short}/projects/{{project}}/locations/{{location}}/publishers/google/models"
    embed = {"content": HI["contents"][0], "embedContentConfig": {"outputDimensionality": 256}}
    checks = {
        "computeTokens": vertex_post(plane, f"{base}/{MODEL}:computeTokens", HI).json(),
        "generateContent": vertex_post(
            plane, f"{base}/{MODEL}:generateContent", {**HI, "tools": TOOLS}
        ).json(),
        "embedContent": vertex_post(plane, f"{base}/{EMBEDDING_MODEL}:embedContent", embed).json(),
        "batchEmbedContents": vertex_post(
            plane, f"{base}/{EMBEDDING_MODEL}:batchEmbedContents", {"requests": [embed]}
        ).json(),
        "predict": vertex_post(
            plane, f"{base}/text-embedding-005:predict", {"instances": [{"content": "hi"}]}
        ).json(),
    }
    for verb, answer in checks.items():
        assert (
            method_response_problems(
                version, f"aiplatform.projects.locations.publishers.models.{verb}", answer
            )
            == []
        ), verb
    publisher = requests.get(
        f"{plane.url}/{short}/publishers/google/models/{MODEL}", headers={"x-goog-api-key": plane.key}
    )
    assert method_response_problems(version, "aiplatform.publishers.models.get", publisher.json()) == []


# -- bodies are checked as Google checks them ----------------------------------------------------------
def test_unknown_fields_and_wrong_types_answer_400_as_google_does(plane) -> None:
    unknown = gemini_post(
        plane, f"v1beta/models/{MODEL}:generateContent", {**HI, "generationConfig": {"temprature": 1}}
    )
    assert unknown.status_code == 400
    assert error(unknown)["message"] == (
        'Invalid JSON payload received. Unknown name "temprature" at '
        "'generation_config': Cannot find field."
    )
    violation = error(unknown)["details"][0]["fieldViolations"][0]
    assert violation["field"] == "generation_config"
    wrong = gemini_post(
        plane, f"v1beta/models/{MODEL}:generateContent", {**HI, "generationConfig": {"temperature": "hot"}}
    )
    assert error(wrong)["message"] == "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\""
    nested = {
        **HI,
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT", "const": 1}}]}],
    }
    deep = gemini_post(plane, f"v1beta/models/{MODEL}:generateContent", nested)
    assert "at 'tools[0].function_declarations[0].parameters'" in error(deep)["message"]
    top = gemini_post(
        plane, f"v1/models/{MODEL}:generateContent", {**HI, "systemInstruction": HI["contents"][0]}
    )
    assert (
        error(top)["message"]
        == 'Invalid JSON payload received. Unknown name "systemInstruction": Cannot find field.'
    )
    snake = gemini_post(
        plane, f"v1beta/models/{MODEL}:generateContent", {**HI, "generation_config": {"max_output_tokens": 5}}
    )
    assert snake.status_code == 200
    path = "v1/projects/{project}/locations/{location}/publishers/google/models/" + MODEL + ":generateContent"
    vertex = vertex_post(plane, path, {**HI, "generationConfig": {"candidateCount": "two"}})
    assert (
        error(vertex)["message"]
        == "Invalid value at 'generation_config.candidate_count' (TYPE_INT32), \"two\""
    )


# -- retired models and Vertex AI locations -----------------------------------------------------------
def test_retired_models_answer_as_google_does(plane) -> None:
    closed = gemini_post(plane, "v1beta/models/gemini-2.5-flash:generateContent", HI)
    assert closed.status_code == 404
    assert error(closed)["message"].startswith(
        "This model models/gemini-2.5-flash is no longer available to new users."
    )
    gone = gemini_post(plane, "v1beta/models/text-embedding-004:embedContent", {"content": HI["contents"][0]})
    assert error(gone)["message"].startswith(
        "This model models/text-embedding-004 is no longer available. Please"
    )
    chat = requests.post(
        f"{plane.url}/v1beta/openai/chat/completions",
        json={"model": "gemini-2.0-flash", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {plane.key}"},
    )
    assert chat.status_code == 404 and "no longer available" in error(chat)["message"]
    path = (
        "v1/projects/{project}/locations/{location}/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    closed_on_vertex = vertex_post(plane, path, HI)  # 2.5 in Extended Lifecycle Access since 2026-10-20
    assert closed_on_vertex.status_code == 404
    assert "is no longer available to new users" in error(closed_on_vertex)["message"]
    shut = path.replace("gemini-2.5-flash", "gemini-3-pro-preview")
    assert "Publisher Model" in error(vertex_post(plane, shut, HI))["message"]


def test_vertex_locations_are_googles(plane) -> None:
    path = "v1/projects/{project}/locations/{location}/publishers/google/models/" + MODEL + ":generateContent"
    for location in ("global", "us", "eu", "europe-west4", "us-central1"):
        assert vertex_post(plane, path, HI, location).status_code == 200, location
    mars = vertex_post(plane, path, HI, "mars-central1")
    assert mars.status_code == 404 and "mars-central1" in error(mars)["message"]


def test_openai_bodies_of_the_wrong_type_answer_400_in_a_list(plane) -> None:
    bodies = [
        {"model": MODEL, "messages": "hi"},
        {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "n": "two"},
        {"model": MODEL, "messages": [], "response_format": {"type": "json_schema", "json_schema": "x"}},
    ]
    for body in bodies:
        answer = requests.post(
            f"{plane.url}/v1beta/openai/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {plane.key}"},
        )
        assert answer.status_code == 400 and isinstance(answer.json(), list), body
        assert error(answer)["message"].startswith("Invalid value at "), body
