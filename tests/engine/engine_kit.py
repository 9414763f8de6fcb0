"""The steps and contexts the engine's tests drive: a store of resources, steps that observe and write it
(counted, answering, failing, announcing their first request), and the engine as a fleet has it."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.engine import Engine
from gcp_setup.engine.speculation import Schedule
from gcp_setup.google.session import GoogleSession
from gcp_setup.settings.config import Config
from gcp_setup.steps.base import Action, Context, Step, StepError


@dataclass
class Store:
    """A pretend API: a set of resource names, and the writes it received."""

    existing: set[str] = field(default_factory=set)
    writes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Resource(Step):
    """Desires one resource named after the step; `after` runs inside apply (for concurrency checks)."""

    def __init__(self, name: str, store: Store, depends_on: tuple[str, ...] = (), after=None, sticky=False):
        self.name = name  # type: ignore[misc]
        self.depends_on = depends_on  # type: ignore[misc]
        self.store, self.after, self.sticky = store, after, sticky

    def observe(self, ctx: Context) -> bool:
        missing_upstream = [d for d in self.depends_on if d not in self.store.existing]
        if missing_upstream:
            raise StepError(f"{missing_upstream[0]} does not exist")
        return self.name in self.store.existing

    def absent_state(self, ctx: Context) -> bool:
        return False

    def plan(self, ctx: Context, state: bool) -> list[Action]:
        return [] if state else [Action("create", self.name, f"create {self.name}")]

    def apply(self, ctx: Context, action: Action) -> None:
        if self.after:
            self.after()
        with self.store.lock:
            self.store.writes.append(self.name)
            if not self.sticky:  # a sticky resource never shows up: apply does not converge
                self.store.existing.add(self.name)

    def describe(self, ctx: Context, state: bool) -> str:
        return "exists" if state else "missing"

    def outputs(self, ctx: Context, state: Any) -> dict[str, Any]:
        return {"exists": state}


class Broken(Resource):
    def __init__(self, *args, blocks: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocks = blocks

    def plan(self, ctx: Context, state: bool) -> list[Action]:
        raise StepError("cannot", hint="fix it", blocks_dependents=self.blocks)


def context() -> Context:
    return Context(Config(project="engine-test"), GoogleSession())


def run(steps: list[Step], mode: str = "apply"):
    return Engine().run(steps, context(), mode)  # type: ignore[arg-type]


class Counted(Resource):
    """Counts its observes; `reads` are (step, key) outputs observe reads into its state (and outputs);
    `during_observe` runs inside every observe (a barrier, a failure)."""

    def __init__(self, *args, reads=(), during_observe=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_pairs, self.during_observe = list(reads), during_observe
        self.reads = {step: tuple(k for s, k in reads if s == step) for step, _ in reads}  # type: ignore[misc]
        self.observed = Counter[str]()

    def observe(self, ctx: Context) -> Any:
        with self.store.lock:
            self.observed[self.name] += 1
        if self.during_observe:
            self.during_observe()
        seen = {f"{step}.{key}": ctx.output(step, key) for step, key in self.read_pairs}
        return {"exists": super().observe(ctx), "seen": seen}

    def plan(self, ctx: Context, state: dict) -> list[Action]:
        return super().plan(ctx, state["exists"])

    def outputs(self, ctx: Context, state: dict) -> dict[str, Any]:
        return state


class Answering(Counted):
    """apply answers the resource as it now is, and state_after takes the state from that answer."""

    def apply(self, ctx: Context, action: Action) -> bool:
        super().apply(ctx, action)
        return self.name in self.store.existing  # what the write's answer says

    def state_after(self, ctx: Context, state: dict, action: Action, answer: bool) -> Any:
        return {**state, "exists": answer}


class Container(Answering):
    """Holds every later step: when this run creates it, nothing inside can exist yet."""

    def created_anew(self, ctx: Context, state: dict) -> bool:
        return state.get("created", False) or (ctx.dry_run and not state["exists"])

    def state_after(self, ctx: Context, state: dict, action: Action, answer: bool) -> Any:
        return {**super().state_after(ctx, state, action, answer), "created": True}


class Inside(Answering):
    def absent_state(self, ctx: Context) -> dict:
        return {"exists": False, "seen": {}}


class Announcing(Resource):
    """Its observe, once started (`started`), says its request is going out (as Client.execute does,
    ctx.session.about_to_send()) when `go` is set, then waits for `answer` before it returns."""

    def __init__(self, *args, go: threading.Event, answer: threading.Event, **kwargs):
        super().__init__(*args, **kwargs)
        self.go, self.answer, self.started = go, answer, threading.Event()

    def observe(self, ctx: Context) -> bool:
        self.started.set()
        assert self.go.wait(5)
        ctx.session.about_to_send()
        assert self.answer.wait(5)
        return super().observe(ctx)


FLEET = Engine(Schedule(after_roots=True))
"""The engine as a fleet's runs have it: speculating below the roots once they have foreseen."""
