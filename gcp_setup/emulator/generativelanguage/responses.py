"""Gemini API (Generative Language) v1beta and v1 handlers, and its OpenAI-compatible endpoints.

google-api-python-client ships no discovery document for this API, so routes are written out. Callers
authenticate with an API key: `x-goog-api-key`, `?key=`, or (OpenAI-compatible paths, as the openai
library sends it) `Authorization: Bearer KEY`.
"""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.gemini import answers
from gcp_setup.emulator.core.gemini.catalogue import model_id
from gcp_setup.emulator.core.gemini.replies import chat_reply, stream_reply
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, Reply, http_route
from gcp_setup.emulator.generativelanguage.authorization import authorize_key
from gcp_setup.emulator.generativelanguage.models import GenerativeModels

VERSIONS = "<any(v1, v1beta):version>"
OPENAI_MODEL_PREFIX = "models/"


def _models(req: ApiRequest) -> GenerativeModels:
    return req.world.backend(GenerativeModels)


def _method(req: ApiRequest, service_method: str) -> str:
    """The RPC Google names in errors, e.g. google.ai.generativelanguage.v1beta.ModelService.GetModel."""
    version = req.params.get("version", "v1beta")
    return f"google.ai.generativelanguage.{version}.{service_method}"


def _authorize(req: ApiRequest, service_method: str) -> GenerativeModels:
    authorize_key(req, _method(req, service_method))
    models = _models(req)
    models.require_supported_location()
    return models


def _generative_model(req: ApiRequest, method: str) -> str:
    """The model of a generation call, which must exist and support `method`."""
    models = _models(req)
    name = req.params["model"]
    models.get(name, req.params["version"])
    if not models.supports(name, method):
        raise errors.InvalidArgument(
            f"models/{model_id(name)} is not supported for {method}. Call ListModels to see the list of "
            "available models and their supported methods."
        )
    return model_id(name)


@http_route("GET", f"/{VERSIONS}/models", "generativelanguage.models.list", kind="read")
def list_models(req: ApiRequest) -> dict[str, Any]:
    models = _authorize(req, "ModelService.ListModels")
    items, next_token = page(list(models.models.values()), req.query, default_size=50, max_size=1000)
    return with_next_page({"models": items}, next_token)


@http_route("GET", f"/{VERSIONS}/models/<model>", "generativelanguage.models.get", kind="read")
def get_model(req: ApiRequest) -> dict[str, Any]:
    models = _authorize(req, "ModelService.GetModel")
    return models.get(req.params["model"], req.params["version"])


@http_route("POST", f"/{VERSIONS}/models/<model>:countTokens", "generativelanguage.models.countTokens")
def count_tokens(req: ApiRequest) -> dict[str, Any]:
    _authorize(req, "GenerativeService.CountTokens")
    _generative_model(req, "countTokens")
    return answers.count_tokens_answer(req.body, vertex=False)


@http_route(
    "POST", f"/{VERSIONS}/models/<model>:generateContent", "generativelanguage.models.generateContent"
)
def generate_content(req: ApiRequest) -> dict[str, Any]:
    _authorize(req, "GenerativeService.GenerateContent")
    return answers.generate_content(_generative_model(req, "generateContent"), req.body, vertex=False)


@http_route(
    "POST",
    f"/{VERSIONS}/models/<model>:streamGenerateContent",
    "generativelanguage.models.streamGenerateContent",
)
def stream_generate_content(req: ApiRequest) -> Reply:
    _authorize(req, "GenerativeService.StreamGenerateContent")
    whole = answers.generate_content(_generative_model(req, "generateContent"), req.body, vertex=False)
    return stream_reply(req, answers.stream_chunks(whole))


# -- OpenAI-compatible endpoints ---------------------------------------------------------------------
def _credentials_sent(req: ApiRequest) -> int:
    """How many credentials came: `Authorization: Bearer` (openai's), `x-goog-api-key`, `?key=`."""
    bearer = req.headers.get("Authorization", "").lower().startswith("bearer ")
    return sum((bearer, "x-goog-api-key" in req.headers, "key" in req.query))


def _openai_errors(handler):
    """The OpenAI-compatible Gemini endpoints wrap Google's error object in a one-element list. They refuse
    a request that carries its key twice (e.g. openai's Bearer plus an x-goog-api-key in default_headers)."""

    def wrapped(req: ApiRequest) -> dict[str, Any] | Reply:
        try:
            if _credentials_sent(req) > 1:
                raise guesses.multiple_credentials()
            return handler(req)
        except errors.ApiError as exc:
            return Reply([exc.to_json()], status=exc.code, headers=exc.headers)

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


@http_route(
    "POST",
    "/v1beta/openai/chat/completions",
    "generativelanguage.openai.chat.completions",
    api_key_bearer=True,
)
@_openai_errors
def openai_chat_completions(req: ApiRequest) -> dict[str, Any] | Reply:
    models = _authorize(req, "GenerativeService.GenerateContent")
    name = model_id(str(req.body.get("model") or ""))
    if not name:
        raise errors.InvalidArgument("model is required.")
    models.get(name)
    return chat_reply(req, name, req.body)


def _openai_model(model: dict[str, Any]) -> dict[str, Any]:
    return {"id": model["name"], "object": "model", "owned_by": "google"}


@http_route(
    "GET", "/v1beta/openai/models", "generativelanguage.openai.models.list", kind="read", api_key_bearer=True
)
@_openai_errors
def openai_list_models(req: ApiRequest) -> dict[str, Any] | Reply:
    models = _authorize(req, "ModelService.ListModels")
    return {"object": "list", "data": [_openai_model(m) for m in models.models.values()]}


@http_route(
    "GET",
    "/v1beta/openai/models/<path:model>",
    "generativelanguage.openai.models.get",
    kind="read",
    api_key_bearer=True,
)
@_openai_errors
def openai_get_model(req: ApiRequest) -> dict[str, Any] | Reply:
    models = _authorize(req, "ModelService.GetModel")
    return _openai_model(models.get(req.params["model"]))
