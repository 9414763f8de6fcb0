"""The OpenAI wire format of a model's answers (chat completions, whole and streamed; embeddings), as the
Gemini API's and Vertex AI's OpenAI-compatible endpoints send them."""

from __future__ import annotations

import json
from typing import Any

from gcp_setup.emulator.core.gemini import tokens
from gcp_setup.emulator.core.gemini.behaviour import ANY, AUTO, NONE, Answer, Ask, Function, answer

_MODES = {"none": NONE, "auto": AUTO, "required": ANY}
_INT, _NUMBER = {"type": "integer", "format": "int32"}, {"type": "number", "format": "float"}
_OBJECTS = {"type": "array", "items": {"type": "object"}}
_LOOSE = {"type": "object", "properties": {}, "unknownAllowed": True}


def _loose(**properties: Any) -> dict[str, Any]:
    """An object whose named fields are typed; other fields are let through."""
    return {**_LOOSE, "properties": properties}


CHAT_FIELDS = {
    "model": {"type": "string"},
    "messages": _OBJECTS,
    "n": _INT,
    "max_tokens": _INT,
    "max_completion_tokens": _INT,
    "seed": _INT,
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "stream": {"type": "boolean"},
    "tools": {"type": "array", "items": _loose(function=_loose(name={"type": "string"}, parameters=_LOOSE))},
    "response_format": _loose(type={"type": "string"}, json_schema=_loose(schema=_LOOSE)),
}
"""The fields of a chat completions request the emulator reads, typed as Google's ChatCompletionsRequest
(ai.google.dev/api/compatibility): a wrong type answers 400 before it reaches the model."""
EMBEDDING_FIELDS = {"model": {"type": "string"}, "dimensions": _INT}


def messages_text(messages: list[dict[str, Any]]) -> str:
    """All text of chat `messages` (content as a string or as a list of text parts)."""
    texts = []
    for message in messages or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return "\n".join(texts)


def ask_from(body: dict[str, Any]) -> Ask:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    users = [m for m in messages if m.get("role") == "user"]
    choice = body.get("tool_choice")
    named = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema")
    return Ask(
        last_user_text=messages_text(users[-1:]),
        functions=tuple(
            Function(str(t["function"].get("name", "")), t["function"].get("parameters"))
            for t in body.get("tools") or []
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        ),
        mode=ANY if named else _MODES.get(str(choice or "auto"), AUTO),
        allowed=(named,) if named else (),
        after_function_result=bool(messages) and messages[-1].get("role") in ("tool", "function"),
        json=response_format.get("type") in ("json_object", "json_schema"),
        schema=schema,
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        candidates=int(body.get("n") or 1),
    )


def _message(said: Answer, call_id: str) -> dict[str, Any]:
    if said.call is None:
        return {"role": "assistant", "content": said.text}
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": said.call.name, "arguments": json.dumps(said.call.parameters)},
    }
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def _finish_reason(said: Answer) -> str:
    return "tool_calls" if said.call is not None else "length" if said.cut else "stop"


def chat_completion(model: str, body: dict[str, Any], *, created: int, response_id: str) -> dict[str, Any]:
    ask = ask_from(body)
    said = answer(ask)
    prompt_tokens = tokens.count(messages_text(body.get("messages") or []))
    output_tokens = tokens.count(said.output_text) * ask.candidates
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": i,
                "message": _message(said, f"call_{response_id}_{i}"),
                "finish_reason": _finish_reason(said),
            }
            for i in range(ask.candidates)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": prompt_tokens + output_tokens,
        },
    }


def chat_completion_chunks(whole: dict[str, Any]) -> list[dict[str, Any]]:
    """A chat completion as `chat.completion.chunk` objects: each choice's message first, then the finish
    reasons and the usage."""
    base = {
        "id": whole["id"],
        "object": "chat.completion.chunk",
        "created": whole["created"],
        "model": whole["model"],
    }
    deltas = []
    for choice in whole["choices"]:
        delta = dict(choice["message"])
        if "tool_calls" in delta:
            delta["tool_calls"] = [{"index": n, **call} for n, call in enumerate(delta["tool_calls"])]
            delta.pop("content")
        deltas.append({"index": choice["index"], "delta": delta, "finish_reason": None})
    finals = [
        {"index": c["index"], "delta": {}, "finish_reason": c["finish_reason"]} for c in whole["choices"]
    ]
    return [{**base, "choices": deltas}, {**base, "choices": finals, "usage": whole["usage"]}]


def embeddings_list(model: str, vectors: list[list[float]], prompt_tokens: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
