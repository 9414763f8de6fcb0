"""The emulator's request log: every API request it answered, in order, with what kind of call it was and
who made it, so that a test can count the calls a command made (`writes()`: what it changed)."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class LogEntry:
    method: str
    path: str
    status: int
    method_id: str
    kind: str
    """read | write | data | auth | unknown"""
    principal: str
    at: float
    arrived: float = 0.0  # time.time() on arrival, before any latency: `at` - `arrived` is its time in flight
    credential: str = ""
    """What the request authenticated with, never its value: "token" (Authorization: Bearer with an
    access token), "api-key" (x-goog-api-key, ?key= or an openai Bearer key), or "" (none)."""
    quota_project: str = ""
    """Its x-goog-user-project header, "" without one."""


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def writes(self) -> list[LogEntry]:
        """Mutating requests that the emulator answered with success."""
        return [e for e in self.entries() if e.kind == "write" and e.status < 400]

    def reads(self) -> list[LogEntry]:
        return [e for e in self.entries() if e.kind == "read"]
