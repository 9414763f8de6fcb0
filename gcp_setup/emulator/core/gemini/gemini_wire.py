"""The Gemini wire format of a model's answers (generateContent, its stream, countTokens), alike on the
Gemini API and on Vertex AI but for Vertex's extra fields (createTime, trafficType, billable characters)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from gcp_setup.emulator.core.gemini import tokens
from gcp_setup.emulator.core.gemini.behaviour import AUTO, Answer, Ask, Function, answer


def field(message: Any, name: str) -> Any:
    """A field by its JSON name or its proto name (Google's JSON parser takes both)."""
    if not isinstance(message, dict):
        return None
    if name in message:
        return message[name]
    return message.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name))


def ask_from(request: dict[str, Any]) -> Ask:
    contents = tokens.content_list(field(request, "contents"))
    users = [c for c in contents if (c.get("role") or "user") == "user"]
    last_parts = (contents[-1].get("parts") or []) if contents else []
    config = field(request, "generationConfig") or {}
    calling = field(field(request, "toolConfig"), "functionCallingConfig") or {}
    mime = field(config, "responseMimeType") or ""
    return Ask(
        last_user_text="\n".join(tokens.part_texts(users[-1].get("parts"))) if users else "",
        functions=tuple(
            Function(str(field(d, "name") or ""), field(d, "parametersJsonSchema") or field(d, "parameters"))
            for tool in field(request, "tools") or []
            for d in field(tool, "functionDeclarations") or []
        ),
        mode=str(field(calling, "mode") or AUTO).upper(),
        allowed=tuple(field(calling, "allowedFunctionNames") or ()),
        after_function_result=any(isinstance(p, dict) and field(p, "functionResponse") for p in last_parts),
        json=mime == "application/json",
        schema=field(config, "responseJsonSchema") or field(config, "responseSchema"),
        enum=mime == "text/x.enum",
        max_tokens=field(config, "maxOutputTokens"),
        candidates=int(field(config, "candidateCount") or 1),
    )


def thought_signature(model: str, name: str) -> str:
    """Gemini 3 models sign their function calls (clients send the signature back with the next turn)."""
    return base64.b64encode(hashlib.sha256(f"{model}|{name}".encode()).digest()).decode()


def _parts(model: str, said: Answer) -> list[dict[str, Any]]:
    if said.call is None:
        return [{"text": said.text or ""}]
    part: dict[str, Any] = {"functionCall": {"name": said.call.name, "args": said.call.parameters}}
    if model.startswith("gemini-3"):
        part["thoughtSignature"] = thought_signature(model, said.call.name)
    return [part]


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
    model: str, request: dict[str, Any], *, vertex: bool, response_id: str, create_time: str = ""
) -> dict[str, Any]:
    ask = ask_from(request)
    said = answer(ask)
    candidates = [
        {
            "content": {"role": "model", "parts": _parts(model, said)},
            "finishReason": "MAX_TOKENS" if said.cut else "STOP",
            "index": i,
        }
        for i in range(ask.candidates)
    ]
    output = tokens.count(said.output_text) * ask.candidates
    reply: dict[str, Any] = {
        "candidates": candidates,
        "usageMetadata": usage(tokens.count(tokens.prompt_text(request)), output, vertex),
        "modelVersion": model,
        "responseId": response_id,
    }
    if vertex:
        reply["createTime"] = create_time
    return reply


def stream_chunks(whole: dict[str, Any]) -> list[dict[str, Any]]:
    """A generateContent answer as the chunks streamGenerateContent sends: each candidate's text in two
    pieces (a function call whole, in the first chunk); finish reasons and usage come with the last."""
    pieces = [_pieces(c["content"]["parts"]) for c in whole["candidates"]]
    chunks = []
    for n in range(max(len(p) for p in pieces)):
        last = n == max(len(p) for p in pieces) - 1
        candidates = []
        for candidate, parts in zip(whole["candidates"], pieces, strict=True):
            streamed: dict[str, Any] = {
                "content": {"role": "model", "parts": parts[n] if n < len(parts) else [{"text": ""}]},
                "index": candidate["index"],
            }
            if last:
                streamed["finishReason"] = candidate["finishReason"]
            candidates.append(streamed)
        chunk: dict[str, Any] = {
            "candidates": candidates,
            "modelVersion": whole["modelVersion"],
            "responseId": whole["responseId"],
        }
        if "createTime" in whole:
            chunk["createTime"] = whole["createTime"]
        if last:
            chunk["usageMetadata"] = whole["usageMetadata"]
        chunks.append(chunk)
    return chunks


def _pieces(parts: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    text = "".join(p.get("text", "") for p in parts)
    if any("text" not in p for p in parts) or len(text) < 2:
        return [parts]
    half = len(text) // 2
    return [[{"text": text[:half]}], [{"text": text[half:]}]]


def count_tokens_answer(body: dict[str, Any], *, vertex: bool) -> dict[str, Any]:
    """countTokens of `contents`, or of a whole `generateContentRequest` (its system instruction too), which
    is then what generateContent reports as promptTokenCount."""
    request = field(body, "generateContentRequest")
    text = tokens.prompt_text(request if isinstance(request, dict) else body)
    total = tokens.count(text)
    reply: dict[str, Any] = {
        "totalTokens": total,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}],
    }
    if vertex:
        reply["totalBillableCharacters"] = len(re.sub(r"\s", "", text))
    return reply


def sse(events: Iterable[Any], done_marker: bool = False) -> str:
    """Server-sent events, one JSON object per `data:` line, as Google's `alt=sse` and OpenAI send them."""
    lines = [f"data: {json.dumps(event)}\r\n\r\n" for event in events]
    if done_marker:
        lines.append("data: [DONE]\r\n\r\n")
    return "".join(lines)
