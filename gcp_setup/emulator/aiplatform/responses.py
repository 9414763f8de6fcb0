"""Vertex AI handlers for Gemini, v1 and v1beta1, routed from the discovery documents: generateContent,
streamGenerateContent, countTokens, computeTokens, embedContent, batchEmbedContents and predict (embedding
models) on the project path (`projects/P/locations/L/publishers/google/models/M`, global and regional hosts
alike) and, where the API has them, in express mode (`publishers/google/models/M`); publisher models get and
(v1beta1) list; the OpenAI-compatible `endpoints/openapi` chat completions and embeddings. Every other method
answers 501 UNIMPLEMENTED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.aiplatform import authorization as vertex
from gcp_setup.emulator.core import discovery, errors, routes
from gcp_setup.emulator.core.gemini import catalogue, embeddings, gemini_wire, tokens
from gcp_setup.emulator.core.gemini.replies import chat_reply, openai_embedding_list, stream_reply
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, Reply, api_method, http_route, not_emulated
from gcp_setup.emulator.core.times import rfc3339
from gcp_setup.emulator.generativelanguage.models import GenerativeModels

VERSIONS = ("aiplatform.v1", "aiplatform.v1beta1")
PROJECT, EXPRESS = "aiplatform.projects.locations.publishers.models.", "aiplatform.publishers.models."


def _routes(
    verb: str, *prefixes: str, kind: str = "data", api_key_bearer: bool = False
) -> Callable[[routes.Handler], routes.Handler]:
    """Route `verb` under each of `prefixes`, in v1 and v1beta1 where the discovery document has it."""

    def register(handler: routes.Handler) -> routes.Handler:
        for version in VERSIONS:
            ids = [p + verb for p in prefixes if p + verb in discovery.methods(version)]
            api_method(version, *ids, kind=kind, api_key_bearer=api_key_bearer)(handler)
        return handler

    return register


def _version(req: ApiRequest) -> str:
    return req.api_version.split(".", 1)[1]


def _model(req: ApiRequest, verb: str) -> str:
    """Authorise the call, on the project path or in express mode, check its body, and return the model."""
    p = req.params
    method = vertex.rpc_method(_version(req), verb)
    if "projectsId" in p:
        resource = (
            f"projects/{p['projectsId']}/locations/{p['locationsId']}/publishers/{p['publishersId']}"
            f"/models/{p['modelsId']}"
        )
        vertex.authorize_project_call(req, p["projectsId"], resource, method)
        vertex.check_location(p["locationsId"], resource)
        model = vertex.publisher_model(p["publishersId"], p["modelsId"], resource, verb)
        vertex.check_capacity(req, p["locationsId"])
    else:
        vertex.authorize_express_call(req, method, p["modelsId"])
        resource = f"publishers/{p['publishersId']}/models/{p['modelsId']}"
        model = vertex.publisher_model(p["publishersId"], p["modelsId"], resource, verb)
    req.check_body()
    return model


def _generate(req: ApiRequest, verb: str) -> dict[str, Any]:
    model = _model(req, verb)
    if not tokens.content_list(req.body.get("contents")):
        raise guesses.vertex_empty_contents()
    models = req.world.backend(GenerativeModels)
    return gemini_wire.generate_content(
        model, req.body, vertex=True, response_id=models.response_id(), create_time=rfc3339(req.world.now())
    )


@_routes("generateContent", PROJECT, EXPRESS)
def generate_content(req: ApiRequest) -> dict[str, Any]:
    return _generate(req, "generateContent")


@_routes("streamGenerateContent", PROJECT, EXPRESS)
def stream_generate_content(req: ApiRequest) -> Reply:
    return stream_reply(req, gemini_wire.stream_chunks(_generate(req, "streamGenerateContent")))


@_routes("countTokens", PROJECT, EXPRESS)
def count_tokens(req: ApiRequest) -> dict[str, Any]:
    _model(req, "countTokens")
    return gemini_wire.count_tokens_answer(req.body, vertex=True)


@_routes("computeTokens", PROJECT, EXPRESS)
def compute_tokens(req: ApiRequest) -> dict[str, Any]:
    _model(req, "computeTokens")
    contents = req.body.get("contents")
    if contents is None:
        prompts = [i.get("prompt", "") if isinstance(i, dict) else i for i in req.body.get("instances") or []]
        contents = [{"role": "user", "parts": [{"text": str(p)}]} for p in prompts]
    return {"tokensInfo": tokens.compute_tokens(contents)}


def _embedding(model: str, request: dict[str, Any]) -> tuple[list[float], int]:
    text = tokens.contents_text(gemini_wire.field(request, "content"))
    size = embeddings.dimensions(model, _embedding_setting(request, "outputDimensionality"))
    return embeddings.vector(model, text, _embedding_setting(request, "taskType"), size), tokens.count(text)


def _embedding_setting(request: dict[str, Any], name: str) -> Any:
    """From embedContentConfig, or from the request itself (the older, flat form)."""
    config = gemini_wire.field(request, "embedContentConfig") or {}
    return gemini_wire.field(config, name) or gemini_wire.field(request, name)


@_routes("embedContent", PROJECT)
def embed_content(req: ApiRequest) -> dict[str, Any]:
    values, used = _embedding(_model(req, "embedContent"), req.body)
    return {"embedding": {"values": values}, "truncated": False, "usageMetadata": {"promptTokenCount": used}}


@_routes("batchEmbedContents", PROJECT)
def batch_embed_contents(req: ApiRequest) -> dict[str, Any]:
    model = _model(req, "batchEmbedContents")
    done = [_embedding(model, r) for r in gemini_wire.field(req.body, "requests") or []]
    return {
        "embeddings": [{"values": values} for values, _ in done],
        "usageMetadata": {"promptTokenCount": sum(used for _, used in done)},
    }


@_routes("predict", PROJECT, EXPRESS)
def predict(req: ApiRequest) -> dict[str, Any]:
    """Text embeddings, the `:predict` way (text-embedding-005 and the Gemini embedding models)."""
    model = _model(req, "predict")
    parameters = req.body.get("parameters") or {}
    size = embeddings.dimensions(model, parameters.get("outputDimensionality"))
    predictions = []
    for instance in req.body.get("instances") or []:
        text = str(instance.get("content", "")) if isinstance(instance, dict) else str(instance)
        task = instance.get("task_type") if isinstance(instance, dict) else None
        statistics = {"token_count": tokens.count(text), "truncated": False}
        predictions.append(
            {"embeddings": {"values": embeddings.vector(model, text, task, size), "statistics": statistics}}
        )
    return {"predictions": predictions}


@_routes("get", EXPRESS, kind="read")
def get_publisher_model(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    vertex.authorize_reader(
        req, f"google.cloud.aiplatform.{_version(req)}.ModelGardenService.GetPublisherModel", p["modelsId"]
    )
    resource = f"publishers/{p['publishersId']}/models/{p['modelsId']}"
    if p["publishersId"] != "google" or not catalogue.vertex_methods(p["modelsId"]):
        raise vertex.publisher_model_not_found(resource)
    return catalogue.publisher_model(p["modelsId"])


@_routes("list", EXPRESS, kind="read")
def list_publisher_models(req: ApiRequest) -> dict[str, Any]:
    vertex.authorize_reader(req, "google.cloud.aiplatform.v1beta1.ModelGardenService.ListPublisherModels", "")
    listed = catalogue.vertex_models() if req.params["publishersId"] == "google" else []
    items, token = page(listed, req.query, default_size=100, max_size=1000)
    return with_next_page({"publisherModels": [catalogue.publisher_model(m) for m in items]}, token)


# -- the OpenAI-compatible endpoint: endpoints/openapi, model "google/<model>" -------------------------------
def _openai_model(req: ApiRequest, verb: str) -> str:
    p = req.params
    if p.get("endpointsId", "openapi") != "openapi":
        raise errors.NotFound(f"Endpoint `{p['endpointsId']}` not found.")
    requested = str(req.body.get("model") or "")
    publisher, _, model = requested.partition("/")
    if not model:
        raise errors.InvalidArgument(
            f"Invalid model: {requested!r}. Use the form <publisher>/<model>, e.g. google/gemini-3.8-flash."
        )
    method = vertex.rpc_method(_version(req), verb)
    if "projectsId" not in p:
        vertex.authorize_express_call(req, method, model)
        return vertex.publisher_model(
            publisher, model, f"publishers/{publisher}/models/{model}", "generateContent"
        )
    resource = (
        f"projects/{p['projectsId']}/locations/{p['locationsId']}/publishers/{publisher}/models/{model}"
    )
    vertex.authorize_project_call(req, p["projectsId"], resource, method)
    vertex.check_location(p["locationsId"], resource)
    found = vertex.publisher_model(
        publisher, model, resource, "embedContent" if verb == "Embeddings" else "generateContent"
    )
    vertex.check_capacity(req, p["locationsId"])
    return found


@_routes("chat.completions", "aiplatform.projects.locations.endpoints.")
def openapi_chat_completions(req: ApiRequest) -> dict[str, Any] | Reply:
    _openai_model(req, "ChatCompletions")
    return chat_reply(
        req, str(req.body.get("model")), req.body, req.world.backend(GenerativeModels).response_id()
    )


@_routes("chat.completions", "aiplatform.endpoints.", api_key_bearer=True)
def express_chat_completions(req: ApiRequest) -> dict[str, Any] | Reply:
    """Express mode: the openai library sends the API key as `Authorization: Bearer KEY`."""
    return openapi_chat_completions(req)


@_routes("openapi.embeddings", "aiplatform.projects.locations.endpoints.")
def openapi_embeddings(req: ApiRequest) -> dict[str, Any]:
    return openai_embedding_list(req.body, _openai_model(req, "Embeddings"), req.body.get("model"))


def _openapi_models(req: ApiRequest) -> dict[str, Any]:
    raise guesses.vertex_openai_models_not_found(req.path)


for _version_path in ("v1", "v1beta1"):
    _models_rule = f"/{_version_path}/projects/<projectsId>/locations/<locationsId>/endpoints/openapi/models"
    http_route("GET", _models_rule, "aiplatform.projects.locations.endpoints.openapi.models.list", "read")(
        _openapi_models
    )
    http_route(
        "GET",
        _models_rule + "/<path:model>",
        "aiplatform.projects.locations.endpoints.openapi.models.get",
        "read",
    )(_openapi_models)


def _interactions_not_emulated(req: ApiRequest) -> dict[str, Any]:
    raise routes.not_emulated_error(req.method_id)


# The Interactions API on Agent Platform, where google-genai (vertexai=True) sends it: Google serves it there
# (projects.locations.interactions, IAM aiplatform.interactions.*), the emulator does not (docs/emulator.md).
_INTERACTIONS = "/<version>/projects/<projectsId>/locations/<locationsId>/interactions"
for _method, _rule, _verb in (
    ("POST", _INTERACTIONS, "create"),
    ("GET", _INTERACTIONS + "/<interactionsId>", "get"),
    ("DELETE", _INTERACTIONS + "/<interactionsId>", "delete"),
    ("POST", _INTERACTIONS + "/<interactionsId>/cancel", "cancel"),
):
    http_route(_method, _rule, f"aiplatform.projects.locations.interactions.{_verb}")(
        _interactions_not_emulated
    )

for _api_version in VERSIONS:
    not_emulated(_api_version)
