"""Interactions API handlers on the Gemini API: create, get, delete and cancel under `/v1beta/interactions`
(and `/v1/interactions`), the routes google-genai's `client.interactions` calls.

The caller's key passes the same checks as on generateContent (authorization.authorize_key), and a
generation the same billing rule (require_generation_quota); those checks answer as on generateContent, a
google.rpc.Status (see guesses). What the Interactions API itself refuses, it answers in its own shape
(errors.InteractionsError): an unknown interaction, an unknown, retired or unsupported model, a bad field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors, routes
from gcp_setup.emulator.core.gemini import gemini_wire
from gcp_setup.emulator.core.gemini.behaviour import Ask, answer
from gcp_setup.emulator.core.gemini.catalogue import model_id
from gcp_setup.emulator.core.routes import ApiRequest, Reply, http_route
from gcp_setup.emulator.generativelanguage import interactions_wire as wire
from gcp_setup.emulator.generativelanguage.authorization import authorize_key, require_generation_quota
from gcp_setup.emulator.generativelanguage.interactions_models import Interaction, InteractionsBackend
from gcp_setup.emulator.generativelanguage.models import GenerativeModels, model_not_found
from gcp_setup.emulator.resourcemanager.models import Project

VERSIONS = ("v1beta", "v1")
CREATE = "createInteraction"
"""The method named in a "not supported for" answer (Google's wording for generateContent, by analogy)."""

Handler = Callable[[ApiRequest, Project], "dict[str, Any] | Reply"]


def _interactions(http_method: str, path: str, verb: str) -> Callable[[Handler], Handler]:
    """Route `path` under each version. The key is checked first, as on generateContent; what the
    Interactions API refuses after it comes in its own error shape."""

    def register(handler: Handler) -> Handler:
        def wrapped(req: ApiRequest) -> dict[str, Any] | Reply:
            if ":" in req.params.get("interaction", ""):
                _vertex_custom_verb(req)
            version = req.path.split("/")[1]
            project = authorize_key(
                req, f"google.ai.generativelanguage.{version}.{guesses.INTERACTIONS_SERVICE}.{verb}"
            )
            try:
                return handler(req, project)
            except errors.InteractionsError:
                raise
            except errors.ApiError as exc:
                raise errors.InteractionsError.from_status(exc) from exc

        wrapped.__name__, wrapped.__doc__ = handler.__name__, handler.__doc__
        for version in VERSIONS:
            http_route(http_method, f"/{version}/{path}", f"generativelanguage.interactions.{verb}")(wrapped)
        return handler

    return register


def _vertex_custom_verb(req: ApiRequest) -> None:
    """`/v1/interactions/ID:poll` and `:stream` are Vertex AI's (aiplatform v1), on another host at Google but
    on the emulator's one: they answer as every Vertex AI method the emulator does not model."""
    found = routes.find_not_emulated(req.method, req.path)
    raise routes.not_emulated_error(found[0].method_id if found else req.path)


def _model(req: ApiRequest, body: dict[str, Any]) -> str:
    """The model named in the body: listed, not retired, and one that generates text."""
    if not body.get("model"):
        raise guesses.model_or_agent_required()
    name, version = model_id(str(body["model"])), req.path.split("/")[1]
    models = req.world.backend(GenerativeModels)
    try:
        models.get(name, version, CREATE)
        if not models.supports(name, "generateContent"):
            raise model_not_found(name, version, CREATE)
    except errors.NotFound as exc:
        raise errors.InteractionsError.from_status(exc, "model_not_found") from exc
    return name


def _new(req: ApiRequest, project: Project, model: str, body: dict[str, Any]) -> Interaction:
    """The interaction `body` asks for, answered from the stored turns it chains on."""
    interactions = req.world.backend(InteractionsBackend)
    previous_id = body.get("previous_interaction_id")
    history = interactions.previous(project.number, previous_id).turns if previous_id else []
    text = wire.input_text(body.get("input"))
    if not text:
        raise guesses.interactions_input_required()
    said = answer(Ask(last_user_text=text, max_tokens=wire.max_output_tokens(body)))
    return Interaction(
        id=interactions.new_id(),
        project_number=project.number,
        model=model,
        created=req.world.now(),
        user_text=text,
        history=history,
        previous_interaction_id=previous_id,
        system_instruction=body.get("system_instruction"),
        background=bool(body.get("background")),
        store=body.get("store", True) is not False,
        reply=said.text or "",
    )


@_interactions("POST", "interactions", "CreateInteraction")
def create_interaction(req: ApiRequest, project: Project) -> dict[str, Any] | Reply:
    body = req.body
    wire.check_fields(body)
    model = _model(req, body)
    req.world.backend(GenerativeModels).require_supported_location()
    require_generation_quota(req, model)
    if body.get("background") and body.get("store") is False:
        raise guesses.background_needs_store()
    if body.get("background") and body.get("stream"):
        raise errors.InteractionsError(
            501, "unimplemented", "Streaming a background interaction is not emulated by gcp-setup."
        )
    interaction = req.world.backend(InteractionsBackend).create(_new(req, project, model, body))
    if body.get("stream"):
        return Reply(gemini_wire.sse(wire.stream_events(interaction)), content_type="text/event-stream")
    return wire.resource(interaction)


def _stored(req: ApiRequest, project: Project) -> Interaction:
    return req.world.backend(InteractionsBackend).get(project.number, req.params["interaction"])


@_interactions("GET", "interactions/<interaction>", "GetInteraction")
def get_interaction(req: ApiRequest, project: Project) -> dict[str, Any]:
    if req.flag("stream"):
        raise errors.InteractionsError(
            501, "unimplemented", "Streaming a stored interaction is not emulated by gcp-setup."
        )
    return wire.resource(_stored(req, project), with_input=True)


@_interactions("DELETE", "interactions/<interaction>", "DeleteInteraction")
def delete_interaction(req: ApiRequest, project: Project) -> dict[str, Any]:
    req.world.backend(InteractionsBackend).delete(project.number, req.params["interaction"])
    return {}


@_interactions("POST", "interactions/<interaction>/cancel", "CancelInteraction")
def cancel_interaction(req: ApiRequest, project: Project) -> dict[str, Any]:
    interactions = req.world.backend(InteractionsBackend)
    return wire.resource(interactions.cancel(project.number, req.params["interaction"]))
