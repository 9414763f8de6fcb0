"""Gemini API (Generative Language) v1 and v1beta handlers, routed from the discovery documents built from
its protos; every method not modelled here answers 501 UNIMPLEMENTED. Callers authenticate with an API key:
`x-goog-api-key` or `?key=`; on the OpenAI-compatible endpoints (`/v1beta/openai/`), as the openai library
sends it, `Authorization: Bearer KEY`. Those answer errors as Google's error object in a one-element list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.gemini import embeddings, gemini_wire, tokens
from gcp_setup.emulator.core.gemini.catalogue import model_id
from gcp_setup.emulator.core.gemini.replies import chat_reply, openai_embedding_list, stream_reply
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import (
    ApiRequest,
    Handler,
    Reply,
    api_method,
    http_route,
    not_emulated,
    not_emulated_error,
)
from gcp_setup.emulator.generativelanguage import interactions_responses  # noqa: F401 (its routes)
from gcp_setup.emulator.generativelanguage.authorization import authorize_key, require_generation_quota
from gcp_setup.emulator.generativelanguage.models import GenerativeModels, model_not_found

VERSIONS = ("generativelanguage.v1", "generativelanguage.v1beta")
M = "generativelanguage.models."


def _routes(*verbs: str, kind: str = "data") -> Callable[[Handler], Handler]:
    """Route models.`verb` in v1 and v1beta."""

    def register(handler: Handler) -> Handler:
        for version in VERSIONS:
            api_method(version, *(M + v for v in verbs), kind=kind)(handler)
        return handler

    return register


def _api_version(req: ApiRequest) -> str:
    return req.api_version.split(".", 1)[1]


def _authorize(req: ApiRequest, service_method: str) -> GenerativeModels:
    """The key's checks, the caller's location, then the body (Google's front end parses it after the key)."""
    authorize_key(req, f"google.ai.generativelanguage.{_api_version(req)}.{service_method}")
    models = req.world.backend(GenerativeModels)
    models.require_supported_location()
    req.check_body()
    return models


def _model(req: ApiRequest, method: str) -> str:
    """The model named in the path, which must exist and support `method`."""
    models = req.world.backend(GenerativeModels)
    name = req.params["modelsId"]
    models.get(name, _api_version(req), method)
    if not models.supports(name, method):
        raise model_not_found(name, _api_version(req), method)
    return model_id(name)


@_routes("list", kind="read")
def list_models(req: ApiRequest) -> dict[str, Any]:
    models = _authorize(req, "ModelService.ListModels")
    items, next_token = page(list(models.models.values()), req.query, default_size=50, max_size=1000)
    return with_next_page({"models": items}, next_token)


@_routes("get", kind="read")
def get_model(req: ApiRequest) -> dict[str, Any]:
    models = _authorize(req, "ModelService.GetModel")
    return models.get(req.params["modelsId"], _api_version(req))


@_routes("countTokens")
def count_tokens(req: ApiRequest) -> dict[str, Any]:
    _authorize(req, "GenerativeService.CountTokens")
    _model(req, "countTokens")
    return gemini_wire.count_tokens_answer(req.body, vertex=False)


def _generate(req: ApiRequest, method: str) -> dict[str, Any]:
    models = _authorize(req, f"GenerativeService.{method}")
    model = _model(req, "generateContent")
    require_generation_quota(req, model)
    if not tokens.content_list(req.body.get("contents")):
        raise errors.InvalidArgument("* GenerateContentRequest.contents: contents is not specified\n")
    return gemini_wire.generate_content(model, req.body, vertex=False, response_id=models.response_id())


@_routes("generateContent")
def generate_content(req: ApiRequest) -> dict[str, Any]:
    return _generate(req, "GenerateContent")


@_routes("streamGenerateContent")
def stream_generate_content(req: ApiRequest) -> Reply:
    return stream_reply(req, gemini_wire.stream_chunks(_generate(req, "StreamGenerateContent")))


def _embedding(model: str, request: dict[str, Any]) -> dict[str, Any]:
    text = tokens.contents_text(gemini_wire.field(request, "content"))
    size = embeddings.dimensions(model, gemini_wire.field(request, "outputDimensionality"))
    return {"values": embeddings.vector(model, text, gemini_wire.field(request, "taskType"), size)}


@_routes("embedContent")
def embed_content(req: ApiRequest) -> dict[str, Any]:
    _authorize(req, "GenerativeService.EmbedContent")
    return {"embedding": _embedding(_model(req, "embedContent"), req.body)}


@_routes("batchEmbedContents")
def batch_embed_contents(req: ApiRequest) -> dict[str, Any]:
    _authorize(req, "GenerativeService.BatchEmbedContents")
    model = _model(req, "embedContent")
    return {"embeddings": [_embedding(model, r) for r in gemini_wire.field(req.body, "requests") or []]}


for _version in VERSIONS:
    not_emulated(_version)


# -- OpenAI-compatible endpoints ---------------------------------------------------------------------
OPENAI = "/v1beta/openai"


def _credentials_sent(req: ApiRequest) -> int:
    """How many credentials came: `Authorization: Bearer` (openai's), `x-goog-api-key`, `?key=`."""
    bearer = req.headers.get("Authorization", "").lower().startswith("bearer ")
    return sum((bearer, "x-goog-api-key" in req.headers, "key" in req.query))


def _openai(http_method: str, path: str, method_id: str, kind: str = "data") -> Callable[[Handler], Handler]:
    """Route an OpenAI-compatible endpoint. They wrap Google's error object in a one-element list, and refuse
    a request that carries its key twice (e.g. openai's Bearer plus an x-goog-api-key in default_headers)."""

    def register(handler: Handler) -> Handler:
        def wrapped(req: ApiRequest) -> dict[str, Any] | Reply:
            try:
                if _credentials_sent(req) > 1:
                    raise guesses.multiple_credentials()
                return handler(req)
            except errors.ApiError as exc:
                return Reply([exc.to_json()], status=exc.code, headers=exc.headers)

        wrapped.__name__, wrapped.__doc__ = handler.__name__, handler.__doc__
        return http_route(http_method, path, method_id, kind=kind, api_key_bearer=True)(wrapped)

    return register


def _openai_authorize(req: ApiRequest, service_method: str) -> GenerativeModels:
    authorize_key(req, f"google.ai.generativelanguage.v1beta.{service_method}")
    models = req.world.backend(GenerativeModels)
    models.require_supported_location()
    return models


def _openai_model(req: ApiRequest, models: GenerativeModels, method: str) -> str:
    name = model_id(str(req.body.get("model") or ""))
    if not name:
        raise errors.InvalidArgument("model is required.")
    models.get(name, "v1beta", method)
    if not models.supports(name, method):
        raise model_not_found(name, "v1beta", method)
    return name


@_openai("POST", f"{OPENAI}/chat/completions", "generativelanguage.openai.chat.completions")
def openai_chat_completions(req: ApiRequest) -> dict[str, Any] | Reply:
    models = _openai_authorize(req, "GenerativeService.GenerateContent")
    model = _openai_model(req, models, "generateContent")
    require_generation_quota(req, model)
    return chat_reply(req, model, req.body, models.response_id())


@_openai("POST", f"{OPENAI}/embeddings", "generativelanguage.openai.embeddings")
def openai_embeddings(req: ApiRequest) -> dict[str, Any] | Reply:
    models = _openai_authorize(req, "GenerativeService.BatchEmbedContents")
    model = _openai_model(req, models, "embedContent")
    return openai_embedding_list(req.body, model, req.body.get("model"))


def _listed(model: dict[str, Any]) -> dict[str, Any]:
    return {"id": model["name"], "object": "model", "owned_by": "google"}


@_openai("GET", f"{OPENAI}/models", "generativelanguage.openai.models.list", kind="read")
def openai_list_models(req: ApiRequest) -> dict[str, Any] | Reply:
    models = _openai_authorize(req, "ModelService.ListModels")
    return {"object": "list", "data": [_listed(m) for m in models.models.values()]}


@_openai("GET", f"{OPENAI}/models/<path:model>", "generativelanguage.openai.models.get", kind="read")
def openai_get_model(req: ApiRequest) -> dict[str, Any] | Reply:
    models = _openai_authorize(req, "ModelService.GetModel")
    return _listed(models.get(req.params["model"], "v1beta"))


def _openai_not_emulated(req: ApiRequest) -> dict[str, Any]:
    raise not_emulated_error(req.method_id)


# The OpenAI-compatible endpoints Google lists that the emulator does not model, and the path without
# /openai that Google answers 501 (deprecated-generative-ai-python#625).
for _method, _path, _id in (
    ("POST", f"{OPENAI}/images/generations", "generativelanguage.openai.images.generations"),
    ("POST", f"{OPENAI}/videos", "generativelanguage.openai.videos.create"),
    ("GET", f"{OPENAI}/videos/<path:video>", "generativelanguage.openai.videos.get"),
    ("POST", f"{OPENAI}/batches", "generativelanguage.openai.batches.create"),
    ("GET", f"{OPENAI}/batches/<path:batch>", "generativelanguage.openai.batches.get"),
    ("POST", f"{OPENAI}/files", "generativelanguage.openai.files.create"),
    ("GET", f"{OPENAI}/files/<path:file>", "generativelanguage.openai.files.get"),
    ("POST", "/v1beta/chat/completions", "generativelanguage.chat.completions"),
):
    _openai(_method, _path, _id)(_openai_not_emulated)
