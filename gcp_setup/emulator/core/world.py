"""The emulator's in-memory world: one instance holds every API's state.

Each emulated API keeps its state in a *backend* (a class that knows nothing of HTTP), registered with
`@backend`. Handlers reach a backend through `world.backend(SomeBackend)`: that is how one API reads another's
state. The world also owns what all APIs share: the clock, the seeded dice, long-running operations and
issued access tokens.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from gcp_setup import defaults
from gcp_setup.emulator.core.operations import Operations
from gcp_setup.emulator.core.realism import Dice, Realism

DEFAULT_CALLER = defaults.EMULATOR_CALLER
"""Who an unauthenticated request acts as (gcloud with auth/disable_credentials, anonymous clients)."""


class Backend:
    """State of one API. Subclasses define `name`, and serialise with to_json/load_json."""

    name: ClassVar[str]

    def __init__(self, world: World) -> None:
        self.world = world

    def to_json(self) -> dict[str, Any]:
        return {}

    def load_json(self, data: dict[str, Any]) -> None:
        """Restore state written by to_json."""


B = TypeVar("B", bound=Backend)
_BACKENDS: dict[str, type[Backend]] = {}


def backend(cls: type[B]) -> type[B]:
    """Class decorator: register a backend so every World gets an instance."""
    _BACKENDS[cls.name] = cls
    return cls


@dataclass
class Token:
    principal: str
    expires_at: float
    scopes: tuple[str, ...] = ()


class Tokens:
    """OAuth2 access tokens the emulator issued, each mapped to the principal it stands for."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.by_value: dict[str, Token] = {}

    def issue(
        self, principal: str, lifetime_s: float = 3600, scopes: tuple[str, ...] = ()
    ) -> tuple[str, Token]:
        value = "ya29.emu-" + secrets.token_urlsafe(24)
        token = Token(principal, self.world.now() + lifetime_s, scopes)
        self.by_value[value] = token
        return value, token

    def principal(self, value: str) -> str | None:
        token = self.by_value.get(value)
        if token is None or token.expires_at < self.world.now():
            return None
        return token.principal

    def revoke_principal(self, principal: str) -> None:
        for value in [v for v, t in self.by_value.items() if t.principal == principal]:
            del self.by_value[value]


@dataclass
class OrgPolicies:
    """Organization policy constraints the emulator can switch on, answering as Google does."""

    disable_service_account_key_creation: bool = False
    """iam.disableServiceAccountKeyCreation, in every project."""
    disable_service_account_api_key_creation: bool = True
    """iam.managed.disableServiceAccountApiKeyCreation, in every project that has an organization (or folder)
    above it: Google enforces it by default in organizations. Projects without one are not affected; a
    project-level policy (Org Policy API v2) overrides this organization-level one."""
    policy_admins: list[str] = field(default_factory=lambda: [DEFAULT_CALLER])
    """Members holding roles/orgpolicy.policyAdmin on the organization: who may set project-level policies."""

    def update(self, changes: dict[str, Any]) -> None:
        unknown = set(changes) - set(vars(self))
        if unknown:
            raise ValueError(f"unknown org policy switch(es): {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(self, name, value)


@dataclass
class World:
    realism: Realism = field(default_factory=Realism)
    default_caller: str = DEFAULT_CALLER
    org_policies: OrgPolicies = field(default_factory=OrgPolicies)
    clock: Any = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock_offset_s: float = 0.0
    """Added to `clock`: tests move the emulator's time forward (propagation, expiry) instead of sleeping."""
    frozen_at: float | None = None
    """When set, `clock` is read no more: time moves only by `advance_clock` (per-minute quotas in tests)."""
    advance_per_request_s: float = 0.0
    """Each API request moves the clock this far forward first: a client's retries then cross a
    propagation delay in a known number of requests, however fast or slow the machine (tests)."""

    def __post_init__(self) -> None:
        self.dice = Dice(self.realism.seed)
        self.reset()

    def reset(self) -> None:
        """Forget every resource; keep the realism switches."""
        with self.lock:
            self.operations = Operations(lambda: self.realism.operation_polls)
            self.tokens = Tokens(self)
            self.org_policies = OrgPolicies()
            self._backends: dict[str, Backend] = {name: cls(self) for name, cls in _BACKENDS.items()}
            self.dice.reseed(self.realism.seed)
            self.clock_offset_s = 0.0
            self.frozen_at = None
            self.advance_per_request_s = 0.0

    def now(self) -> float:
        return (self.clock() if self.frozen_at is None else self.frozen_at) + self.clock_offset_s

    def freeze_clock(self) -> None:
        with self.lock:
            if self.frozen_at is None:
                self.frozen_at = self.clock()

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset_s += seconds

    def request_arrived(self) -> None:
        if self.advance_per_request_s:
            self.advance_clock(self.advance_per_request_s)

    def backend(self, cls: type[B]) -> B:
        return self._backends[cls.name]  # type: ignore[return-value]

    # Persistence (--state FILE): every backend's JSON under its name.
    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "backends": {name: b.to_json() for name, b in self._backends.items()},
                "org_policies": vars(self.org_policies),
            }

    def load_json(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.reset()
            self.org_policies = OrgPolicies(**data.get("org_policies", {}))
            for name, state in data.get("backends", {}).items():
                if name in self._backends:
                    self._backends[name].load_json(state)

    def save(self, path: Path) -> None:
        """Atomic write, so a killed emulator never leaves half a state file."""
        data = json.dumps(self.to_json(), indent=1, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.replace(tmp, path)

    def load(self, path: Path) -> None:
        self.load_json(json.loads(path.read_text()))
