"""List pagination as Google's APIs do it: `pageSize`, and an opaque `pageToken` from `nextPageToken`."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, TypeVar

from werkzeug.datastructures import MultiDict

from gcp_setup.emulator.core import errors

T = TypeVar("T")


def page(
    items: Sequence[T], query: MultiDict[str, str], *, default_size: int, max_size: int
) -> tuple[list[T], str]:
    """One page of `items` and the token of the next ("" on the last page)."""
    size = _page_size(query.get("pageSize"), default_size, max_size)
    start = _offset(query.get("pageToken") or "")
    end = start + size
    return list(items[start:end]), (_token(end) if end < len(items) else "")


def with_next_page(body: dict[str, Any], token: str) -> dict[str, Any]:
    if token:
        body["nextPageToken"] = token
    return body


def _page_size(raw: str | None, default_size: int, max_size: int) -> int:
    try:
        size = int(raw) if raw else default_size
    except ValueError:
        raise errors.InvalidArgument(f"Invalid value for page_size: {raw!r}") from None
    if size < 0:
        raise errors.InvalidArgument("page_size must not be negative.")
    return min(size or default_size, max_size)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset":
            return int(value)
    except ValueError:
        pass
    raise errors.InvalidArgument("The page token is invalid.")
