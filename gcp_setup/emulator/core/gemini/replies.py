"""The HTTP shape of a model's answer, alike on the Gemini API and on Vertex AI: a stream as server-sent
events or one JSON array, a chat completion whole or streamed, OpenAI embeddings."""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core.gemini import embeddings, gemini_wire, openai_wire, tokens
from gcp_setup.emulator.core.routes import ApiRequest, Reply
from gcp_setup.emulator.core.validation import check_fields


def stream_reply(req: ApiRequest, chunks: list[dict[str, Any]]) -> Reply:
    """`alt=sse` answers server-sent events (what google-genai asks for); otherwise one JSON array."""
    if req.query.get("alt") == "sse":
        return Reply(gemini_wire.sse(chunks), content_type="text/event-stream")
    return Reply(chunks)


def chat_reply(req: ApiRequest, model: str, body: dict[str, Any], response_id: str) -> dict[str, Any] | Reply:
    """A chat completion, whole or (`stream: true`) as server-sent events ending in [DONE]."""
    check_fields(body, openai_wire.CHAT_FIELDS)
    whole = openai_wire.chat_completion(model, body, created=int(req.world.now()), response_id=response_id)
    if body.get("stream"):
        return Reply(
            gemini_wire.sse(openai_wire.chat_completion_chunks(whole), done_marker=True),
            content_type="text/event-stream",
        )
    return whole


def openai_embedding_list(body: dict[str, Any], model: str, named: Any) -> dict[str, Any]:
    """OpenAI `embeddings.create`: `input` a string or a list of strings, `dimensions` as the output
    dimensionality. The vectors come as floats whatever `encoding_format` asks (the openai library reads
    both)."""
    check_fields(body, openai_wire.EMBEDDING_FIELDS)
    given = body.get("input")
    texts = [given] if isinstance(given, str) else given
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise guesses.openai_embedding_input_invalid()
    size = embeddings.dimensions(model, body.get("dimensions"))
    vectors = [embeddings.vector(model, t, None, size) for t in texts]
    return openai_wire.embeddings_list(str(named), vectors, sum(tokens.count(t) for t in texts))
