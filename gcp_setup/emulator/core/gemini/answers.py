"""Deterministic model answers: canned text, token counts that look real, and the wire shapes of
generateContent, countTokens and OpenAI chat completions (whole and as server-sent events).

Tokens are counted as words and punctuation marks, close to what Gemini's tokenizer reports for English.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

CANNED_REPLY = (
    "Hello from the gcp-setup emulator. This deterministic reply stands in for a Gemini answer, so that "
    "clients, token accounting and streaming can be tested offline without calling Google."
)
_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(tokens(text))


def contents_text(contents: Any) -> str:
    """All text parts of a generateContent `contents` (a list of Content, or a bare string)."""
    if isinstance(contents, str):
        return contents
    if isinstance(contents, dict):
        contents = [contents]
    texts = []
    for content in contents or []:
        for part in (content or {}).get("parts", []) if isinstance(content, dict) else []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return "\n".join(texts)


def messages_text(messages: list[dict[str, Any]]) -> str:
    """All text of OpenAI chat `messages` (content as a string or as a list of text parts)."""
    texts = []
    for message in messages or []:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return "\n".join(texts)


def reply(max_tokens: int | None) -> tuple[str, bool]:
    """The canned reply cut to `max_tokens` tokens; True when it was cut."""
    words = CANNED_REPLY.split(" ")
    if not max_tokens or count_tokens(CANNED_REPLY) <= max_tokens:
        return CANNED_REPLY, False
    kept: list[str] = []
    for word in words:
        if count_tokens(" ".join([*kept, word])) > max_tokens:
            break
        kept.append(word)
    return " ".join(kept) or words[0], True


def response_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:22]


# -- Gemini wire format ------------------------------------------------------------------------------
def usage(prompt_tokens: int, output_tokens: int, vertex: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }
    if vertex:
        meta["trafficType"] = "ON_DEMAND"
        meta["candidatesTokensDetails"] = [{"modality": "TEXT", "tokenCount": output_tokens}]
    return meta


def generate_content(
    model: str, body: dict[str, Any], *, vertex: bool, create_time: str = ""
) -> dict[str, Any]:
    prompt = contents_text(body.get("contents"))
    max_tokens = (body.get("generationConfig") or {}).get("maxOutputTokens")
    text, cut = reply(max_tokens)
    answer: dict[str, Any] = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "MAX_TOKENS" if cut else "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": usage(count_tokens(prompt), count_tokens(text), vertex),
        "modelVersion": model,
        "responseId": response_id(model, prompt),
    }
    if vertex:
        answer["createTime"] = create_time
    return answer


def stream_chunks(whole: dict[str, Any]) -> list[dict[str, Any]]:
    """A generateContent answer as the two or more chunks streamGenerateContent sends; usage comes last."""
    candidate = whole["candidates"][0]
    text = candidate["content"]["parts"][0]["text"]
    half = len(text) // 2
    pieces = [text[:half], text[half:]] if half else [text]
    chunks = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        chunk: dict[str, Any] = {
            "candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}],
            "modelVersion": whole["modelVersion"],
            "responseId": whole["responseId"],
        }
        if "createTime" in whole:
            chunk["createTime"] = whole["createTime"]
        if last:
            chunk["candidates"][0]["finishReason"] = candidate["finishReason"]
            chunk["usageMetadata"] = whole["usageMetadata"]
        chunks.append(chunk)
    return chunks


def count_tokens_answer(body: dict[str, Any], *, vertex: bool) -> dict[str, Any]:
    contents = body.get("contents")
    if contents is None and isinstance(body.get("generateContentRequest"), dict):
        contents = body["generateContentRequest"].get("contents")
    text = contents_text(contents)
    total = count_tokens(text)
    answer: dict[str, Any] = {
        "totalTokens": total,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}],
    }
    if vertex:
        answer["totalBillableCharacters"] = len(re.sub(r"\s", "", text))
    return answer


# -- OpenAI wire format -------------------------------------------------------------------------------
def chat_completion(model: str, body: dict[str, Any], created: int) -> dict[str, Any]:
    prompt = messages_text(body.get("messages", []))
    text, cut = reply(body.get("max_completion_tokens") or body.get("max_tokens"))
    prompt_tokens, output_tokens = count_tokens(prompt), count_tokens(text)
    return {
        "id": response_id(model, prompt),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "length" if cut else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": prompt_tokens + output_tokens,
        },
    }


def chat_completion_chunks(whole: dict[str, Any]) -> list[dict[str, Any]]:
    """A chat completion as `chat.completion.chunk` objects: role and text first, then the finish reason."""
    choice = whole["choices"][0]
    base = {
        "id": whole["id"],
        "object": "chat.completion.chunk",
        "created": whole["created"],
        "model": whole["model"],
    }
    return [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": choice["message"]["content"]},
                    "finish_reason": None,
                }
            ],
        },
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}],
            "usage": whole["usage"],
        },
    ]


def sse(events: Iterable[Any], done_marker: bool = False) -> str:
    """Server-sent events, one JSON object per `data:` line, as Google's `alt=sse` and OpenAI send them."""
    lines = [f"data: {json.dumps(event)}\r\n\r\n" for event in events]
    if done_marker:
        lines.append("data: [DONE]\r\n\r\n")
    return "".join(lines)
