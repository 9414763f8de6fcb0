"""The emulated tokenizer: words and punctuation marks, close to what Gemini's tokenizer reports for
English. countTokens, computeTokens and every usageMetadata count with it, so the three agree."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

_TOKEN = re.compile(r"\w+|[^\w\s]")
VOCABULARY_SIZE = 262_144


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count(text: str) -> int:
    return len(tokens(text))


def token_id(token: str) -> int:
    return int.from_bytes(hashlib.sha256(token.encode()).digest()[:4], "big") % VOCABULARY_SIZE


def part_texts(parts: Any) -> list[str]:
    """The text of a Content's parts, and of function calls and results (they cost tokens too)."""
    texts = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        for key in ("functionCall", "functionResponse"):
            if isinstance(part.get(key), dict):
                texts.append(str(part[key].get("name", "")))
    return texts


def content_list(contents: Any) -> list[dict[str, Any]]:
    """`contents` as Google accepts it: a list of Content, one Content, or (Vertex countTokens) a string."""
    if isinstance(contents, str):
        return [{"role": "user", "parts": [{"text": contents}]}]
    if isinstance(contents, dict):
        return [contents]
    return [c for c in contents or [] if isinstance(c, dict)]


def contents_text(contents: Any) -> str:
    return "\n".join(t for c in content_list(contents) for t in part_texts(c.get("parts")))


def prompt_text(request: dict[str, Any]) -> str:
    """What a generateContent request costs in prompt tokens: its system instruction and contents."""
    system = request.get("systemInstruction") or request.get("system_instruction")
    texts = [contents_text(system)] if system else []
    return "\n".join([*texts, contents_text(request.get("contents"))])


def compute_tokens(contents: Any) -> list[dict[str, Any]]:
    """Vertex AI computeTokens' tokensInfo: one entry per content, tokens as base64 bytes, ids as int64
    strings."""
    info = []
    for content in content_list(contents):
        found = tokens("\n".join(part_texts(content.get("parts"))))
        info.append(
            {
                "tokens": [base64.b64encode(t.encode()).decode() for t in found],
                "tokenIds": [str(token_id(t)) for t in found],
                "role": content.get("role") or "user",
            }
        )
    return info
