"""How many API requests the emulator holds at once: the proof, by structure rather than by the clock,
that a client sends requests together.

    InFlight.max              the most requests held at the same moment since the log was last cleared
    Realism.barrier = N       hold the next requests until N are in flight, then let them all go (once)
    Realism.hold_after_writes = N   hold the answer of the N-th write until released (`Hold`), so a test
                              can kill its client right after that write

A client that sends N requests together reaches a barrier of N however busy the machine is; one that
sends them one after another never does: its first request is held for `barrier_timeout_s`, counted in
`barrier_timeouts`, and the barrier is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from gcp_setup.emulator.core.realism import Realism


@dataclass
class InFlight:
    current: int = 0
    max: int = 0
    barrier_timeouts: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @contextmanager
    def held(self, realism: Realism) -> Iterator[None]:
        """One API request, from its arrival to its answer; waits at the barrier when one is set."""
        with self._cond:
            self.current += 1
            self.max = max(self.max, self.current)
            self._cond.notify_all()
            if realism.barrier is not None:
                if not self._cond.wait_for(lambda: self._reached(realism), realism.barrier_timeout_s):
                    self.barrier_timeouts += 1
                realism.barrier = None  # released (or given up on): later requests pass freely
        try:
            yield
        finally:
            with self._cond:
                self.current -= 1

    def _reached(self, realism: Realism) -> bool:
        return realism.barrier is None or self.current >= realism.barrier

    def clear(self) -> None:
        with self._cond:
            self.max, self.barrier_timeouts = self.current, 0

    def to_json(self) -> dict[str, int]:
        with self._cond:
            return {
                "in_flight": self.current,
                "max_in_flight": self.max,
                "barrier_timeouts": self.barrier_timeouts,
            }


class Hold:
    """The answer of one write, held until released (Realism.hold_after_writes / hold_before_writes)."""

    def __init__(self) -> None:
        self._released = threading.Event()
        self.held = False

    def catch(self) -> None:
        self._released.clear()
        self.held = True

    def wait(self) -> None:
        self._released.wait()

    def release(self) -> None:
        self.held = False
        self._released.set()
