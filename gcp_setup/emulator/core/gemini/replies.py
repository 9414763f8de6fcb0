"""The HTTP shape of a model's answer, alike on the Gemini API and on Vertex AI: a stream as server-sent
events or one JSON array, a chat completion whole or streamed."""

from __future__ import annotations

from typing import Any

from gcp_setup.emulator.core.gemini import answers
from gcp_setup.emulator.core.routes import ApiRequest, Reply


def stream_reply(req: ApiRequest, chunks: list[dict[str, Any]]) -> Reply:
    """`alt=sse` answers server-sent events (what google-genai asks for); otherwise one JSON array."""
    if req.query.get("alt") == "sse":
        return Reply(answers.sse(chunks), content_type="text/event-stream")
    return Reply(chunks)


def chat_reply(req: ApiRequest, model: str, body: dict[str, Any]) -> dict[str, Any] | Reply:
    """A chat completion, whole or (`stream: true`) as server-sent events ending in [DONE]."""
    whole = answers.chat_completion(model, body, int(req.world.now()))
    if body.get("stream"):
        return Reply(
            answers.sse(answers.chat_completion_chunks(whole), done_marker=True),
            content_type="text/event-stream",
        )
    return whole
