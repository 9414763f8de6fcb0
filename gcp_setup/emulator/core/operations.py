"""Long-running operations of every API in one store (`world.operations`): their names never collide, as
each API's prefix is its own (`operations/cp.`, `operations/acf.p2-`, `operations/akmf.p7-`, or a resource
name followed by `/operations/`). An operation answers done=false for `Realism.operation_polls` GETs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gcp_setup.emulator.core import errors


@dataclass
class Operation:
    name: str
    polls_left: int
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.metadata:
            out["metadata"] = self.metadata
        if self.polls_left <= 0:
            out["done"] = True
            if self.error is not None:
                out["error"] = self.error
            elif self.response is not None:
                out["response"] = self.response
        return out


class Operations:
    def __init__(self, polls: Callable[[], int]) -> None:
        """`polls()`: how many GETs a new operation answers done=false to (the world's realism, now)."""
        self.polls = polls
        self.by_name: dict[str, Operation] = {}
        self._counter = 0

    def start(
        self,
        prefix: str,
        *,
        response: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Operation:
        """`prefix` is the API's own, e.g. "operations/cp." (Resource Manager), "operations/acf.p2-"."""
        self._counter += 1
        name = f"{prefix}{self._counter:016d}"
        op = Operation(name, self.polls(), response, error, metadata)
        self.by_name[name] = op
        return op

    def poll(self, name: str) -> Operation | None:
        op = self.by_name.get(name)
        if op is not None and op.polls_left > 0:
            op.polls_left -= 1
        return op

    def answer(self, name: str, not_found: str | None = None) -> dict[str, Any]:
        """What `operations.get` answers: the operation, one poll further, or 404 with `not_found`."""
        op = self.poll(name)
        if op is None:
            raise errors.NotFound(not_found or f"Operation '{name}' not found.")
        return op.to_json()
