"""Google's timestamp format (RFC 3339, UTC, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(seconds: float, *, whole_seconds: bool = False) -> str:
    """Millisecond precision, e.g. 2026-01-02T03:04:05.678Z, or without the fraction (2026-01-02T03:04:05Z)
    where Google sends none and clients parse exactly that."""
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (stamp[:-7] if whole_seconds else stamp[:-3]) + "Z"
