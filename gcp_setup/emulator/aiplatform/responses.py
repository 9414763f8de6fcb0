"""Vertex AI handlers for Gemini: generateContent, countTokens and streamGenerateContent on the project
path (global and regional hosts look alike here) and in express mode, and the OpenAI-compatible
`endpoints/openapi/chat/completions`, for v1 and v1beta1. Routes come from the discovery documents.
"""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator.aiplatform import authorization as vertex
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.gemini import answers
from gcp_setup.emulator.core.gemini.replies import chat_reply, stream_reply
from gcp_setup.emulator.core.routes import ApiRequest, Reply, api_method
from gcp_setup.emulator.core.times import rfc3339

V1, V1BETA1 = "aiplatform.v1", "aiplatform.v1beta1"


def _version(req: ApiRequest) -> str:
    return req.path.lstrip("/").split("/", 1)[0]


def _project_model(req: ApiRequest, verb: str) -> str:
    """Authorise a project-path call and return the model it names."""
    p = req.params
    resource = (
        f"projects/{p['projectsId']}/locations/{p['locationsId']}/publishers/{p['publishersId']}"
        f"/models/{p['modelsId']}"
    )
    vertex.authorize_project_call(req, p["projectsId"], resource, vertex.rpc_method(_version(req), verb))
    model = vertex.publisher_model(req, p["publishersId"], p["modelsId"], resource)
    vertex.check_capacity(req, p["locationsId"])
    return model


def _express_model(req: ApiRequest, verb: str) -> str:
    p = req.params
    vertex.authorize_express_call(req, vertex.rpc_method(_version(req), verb), p["modelsId"])
    return vertex.publisher_model(
        req, p["publishersId"], p["modelsId"], f"publishers/{p['publishersId']}/models/{p['modelsId']}"
    )


def _model(req: ApiRequest, verb: str) -> str:
    """Authorise the call, on the project path or in express mode, and return the model it names."""
    return _project_model(req, verb) if "projectsId" in req.params else _express_model(req, verb)


def _generate(req: ApiRequest, model: str) -> dict[str, Any]:
    return answers.generate_content(model, req.body, vertex=True, create_time=rfc3339(req.world.now()))


def _routes(verb: str):
    """Route `verb` on the project path and in express mode, in v1 and v1beta1."""
    ids = (f"aiplatform.projects.locations.publishers.models.{verb}", f"aiplatform.publishers.models.{verb}")

    def register(handler):
        return api_method(V1, *ids, kind="data")(api_method(V1BETA1, *ids, kind="data")(handler))

    return register


@_routes("generateContent")
def generate_content(req: ApiRequest) -> dict[str, Any]:
    return _generate(req, _model(req, "generateContent"))


@_routes("streamGenerateContent")
def stream_generate_content(req: ApiRequest) -> Reply:
    whole = _generate(req, _model(req, "streamGenerateContent"))
    return stream_reply(req, answers.stream_chunks(whole))


@_routes("countTokens")
def count_tokens(req: ApiRequest) -> dict[str, Any]:
    _model(req, "countTokens")
    return answers.count_tokens_answer(req.body, vertex=True)


@api_method(V1, "aiplatform.projects.locations.endpoints.chat.completions", kind="data")
@api_method(V1BETA1, "aiplatform.projects.locations.endpoints.chat.completions", kind="data")
def openapi_chat_completions(req: ApiRequest) -> dict[str, Any] | Reply:
    """The OpenAI-compatible endpoint: `endpoints/openapi`, model `google/<model>`."""
    p = req.params
    if p["endpointsId"] != "openapi":
        raise errors.NotFound(f"Endpoint `{p['endpointsId']}` not found.")
    requested = str(req.body.get("model") or "")
    publisher, _, model = requested.partition("/")
    if not model:
        raise errors.InvalidArgument(
            f"Invalid model: {requested!r}. Use the form <publisher>/<model>, e.g. google/gemini-2.5-flash."
        )
    location = f"projects/{p['projectsId']}/locations/{p['locationsId']}"
    resource = f"{location}/publishers/{publisher}/models/{model}"
    verb = "ChatCompletions"
    vertex.authorize_project_call(req, p["projectsId"], resource, vertex.rpc_method(_version(req), verb))
    vertex.publisher_model(req, publisher, model, resource)
    vertex.check_capacity(req, p["locationsId"])
    return chat_reply(req, requested, req.body)
