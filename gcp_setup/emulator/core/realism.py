"""The switches that make the emulator behave like the real, imperfect service, reproducibly from a seed."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

AUTH_ONLY = "auth-only"
RESTRICTED_STANDARD = "restricted-standard"
ANY_KEY = "any"
GEMINI_KEY_POLICIES = (AUTH_ONLY, RESTRICTED_STANDARD, ANY_KEY)
GEMINI_TIERS = ("free", "tier1", "tier2", "tier3")
"""The Gemini API's usage tiers (ai.google.dev/gemini-api/docs/billing): free without billing or on a Cloud
free trial, Tier 1 once an active billing account is linked, 2 and 3 by cumulative spend and age."""
"""The Gemini API's key policy by era: since September 2026 it takes only auth keys (bound to a service
account); from 2026-06-19 it refused unrestricted standard keys; before, any key."""


@dataclass
class Realism:
    latency_ms: float = 0.0
    """Added to every API request before it is answered."""
    fault_rate: float = 0.0
    """Probability that an API request is answered with one of `fault_statuses` instead."""
    fault_statuses: tuple[int, ...] = (429, 500, 503)
    fault_apis: tuple[str, ...] = ()
    """The APIs whose requests may get faults, by the first part of the method ID (e.g. generativelanguage,
    aiplatform: the model routes); empty: every API."""
    seed: int = 0
    operation_polls: int = 0
    """A long-running operation reports done=false for this many GETs before done=true."""
    service_account_propagation_s: float = 0.0
    """For this long after creation a service account is unknown to setIamPolicy (400 'does not exist')."""
    service_enable_propagation_s: float = 0.0
    """For this long after enabling, a data-plane API still answers SERVICE_DISABLED."""
    role_grant_propagation_s: float = 0.0
    """For this long after setIamPolicy grants a role, the grant is not in effect (Google: typically 2
    minutes, sometimes 7 or more)."""
    key_propagation_s: float = 0.0
    """For this long after its creation, a service-account key's JWTs are refused ("Invalid JWT Signature.";
    Google: up to a minute and longer)."""
    workload_identity_propagation_s: float = 0.0
    """For this long after a Workload Identity pool or provider is created, STS refuses its tokens (Google:
    up to 5 minutes)."""
    drop_after_writes: int | None = None
    """Apply the N-th mutating request (1-based), then drop the connection without answering."""
    hold_after_writes: int | None = None
    """Apply the N-th mutating request (1-based), then hold its answer until /_emulator/hold/release:
    a test kills the client meanwhile, right after that write, every time."""
    hold_before_writes: int | None = None
    """Hold the mutating request that would be the N-th applied (1-based) before applying it, until
    /_emulator/hold/release, then answer 503 without applying it: a test kills the client meanwhile, after
    everything it did since its previous write (a file renamed into place) and before this one."""
    barrier: int | None = None
    """Hold API requests until this many are in flight at once, then release them and clear the switch
    (see concurrency.py)."""
    barrier_timeout_s: float = 30.0
    """How long a request waits at the barrier before it goes on alone (counted as a barrier timeout)."""
    gemini_key_policy: str = AUTH_ONLY
    """Which API keys the Gemini API (and Vertex AI express mode) accept: one of GEMINI_KEY_POLICIES."""

    # The Gemini API's billing since March 2026 (generativelanguage/paid_tiers.py; docs/emulator.md).
    gemini_tiers: dict[str, str] = field(default_factory=dict)
    """Project ID -> its Gemini API tier (GEMINI_TIERS), for a project whose tier is not the one its billing
    gives it (no billing, or a free-trial account: free; an open account: tier1)."""
    gemini_prepay_balance: dict[str, float] = field(default_factory=dict)
    """Project ID -> its prepaid Gemini API credits in dollars. A project not listed draws on its billing
    account's credits (every seeded account holds some, so a default run needs no switch)."""
    gemini_spend_rate_limits: dict[str, float] = field(default_factory=lambda: {"tier1": 10.0, "tier2": 50.0})
    """Tier -> the dollars a project may spend on the Gemini API in any 10 minutes (Google's rate-limits
    page: $10 at Tier 1, $50 at Tier 2); a tier not listed has no such limit."""
    free_trial_accounts: list[str] = field(default_factory=list)
    """Billing accounts (billingAccounts/ID) on the Cloud free trial: their credits pay for Vertex AI, not
    for the Gemini API, which stays on the free tier for their projects."""

    # Quotas (core/quotas.py; docs/emulator.md). Limits are Google's; rates are ten times Google's.
    api_keys_per_project: int = 300
    service_accounts_per_project: int = 100
    projects_per_billing_account: int = 5
    """Google's default for a billing account; `billing_account_quotas` lists accounts with a raised one."""
    billing_account_quotas: dict[str, int] = field(
        default_factory=lambda: {"billingAccounts/000000-AAAAAA-000001": 1000}
    )
    """Accounts whose quota of linked projects was raised: the seeded open account (billing.models
    OPEN_ACCOUNT), so that a fleet can be linked to it; `{}` gives it Google's default."""
    projects_per_creator: int = 1000
    """Projects a caller may have, those pending deletion included (Google's default is not published;
    12 to 30 are reported)."""
    project_creates_per_minute: int = 600
    """Google: 60 (600 Resource Manager writes a minute, a project creation costing 10)."""
    service_usage_writes_per_minute: int = 600
    """Google: 60 per project; a services:batchEnable counts as 5."""
    iam_policy_writes_per_minute: int = 6000
    """Google: 600 per project (setIamPolicy on a project or a service account)."""

    def __post_init__(self) -> None:
        _check_key_policy(self.gemini_key_policy)

    @classmethod
    def propagation(cls, preset: str) -> dict[str, float]:
        """The propagation switches of a preset: "none" (every delay 0, the default) or "google" (Google's
        documented typical delays: docs/emulator.md, "Propagation")."""
        return {
            name: (GOOGLE_PROPAGATION_S[name] if preset == "google" else 0.0) for name in GOOGLE_PROPAGATION_S
        }

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown realism switch(es): {', '.join(sorted(unknown))}")
        _check_key_policy(changes.get("gemini_key_policy", self.gemini_key_policy))
        _check_tiers(changes)
        _check_quotas(changes)
        for name, value in changes.items():
            setattr(self, name, tuple(value) if name in ("fault_statuses", "fault_apis") else value)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def faults_on(self, route_kind: str, method_id: str) -> bool:
        """Whether a request to `method_id` may be answered with a fault: never a token request (auth),
        else as fault_apis says."""
        if route_kind == "auth":
            return False
        return not self.fault_apis or method_id.split(".", 1)[0] in self.fault_apis


GOOGLE_PROPAGATION_S = {
    "service_account_propagation_s": 60.0,
    "service_enable_propagation_s": 60.0,
    "role_grant_propagation_s": 120.0,
    "key_propagation_s": 60.0,
    "workload_identity_propagation_s": 300.0,
}
"""Google's typical delays: IAM's "Access change propagation" (2 minutes for a grant, 7 or more at times),
"Create and delete service account keys" (a new key: up to a minute), Workload Identity Federation's
"up to 5 minutes" for a new pool or provider, and eventual consistency for a new service account and an
enabled API ("a few minutes"; 60 s here)."""
PROPAGATION_PRESETS = ("none", "google")

QUOTA_SWITCHES = (
    "api_keys_per_project",
    "service_accounts_per_project",
    "projects_per_billing_account",
    "projects_per_creator",
    "project_creates_per_minute",
    "service_usage_writes_per_minute",
    "iam_policy_writes_per_minute",
)


def _check_quotas(changes: dict[str, Any]) -> None:
    raised = changes.get("billing_account_quotas", {})
    limits = [changes[n] for n in QUOTA_SWITCHES if n in changes]
    limits += list(raised.values()) if isinstance(raised, dict) else [None]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in limits):
        raise ValueError(
            "quotas are whole numbers of at least 0; billing_account_quotas maps accounts to them"
        )


def _check_tiers(changes: dict[str, Any]) -> None:
    named = [*changes.get("gemini_tiers", {}).values(), *changes.get("gemini_spend_rate_limits", {})]
    if not all(tier in GEMINI_TIERS for tier in named):
        raise ValueError(f"Gemini API tiers are {', '.join(GEMINI_TIERS)}")


def _check_key_policy(value: str) -> None:
    if value not in GEMINI_KEY_POLICIES:
        raise ValueError(f"gemini_key_policy must be one of {', '.join(GEMINI_KEY_POLICIES)}, not {value!r}")


@dataclass
class Dice:
    """A seeded random source shared by the request threads."""

    seed: int = 0
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def chance(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self._lock:
            return self._rng.random() < probability

    def choice(self, options: tuple[int, ...]) -> int:
        with self._lock:
            return self._rng.choice(options)
