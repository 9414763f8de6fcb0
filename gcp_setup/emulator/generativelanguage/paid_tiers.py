"""The Gemini API's billing as Google runs it since March 2026 (ai.google.dev/gemini-api/docs/billing): a
project's usage tier, its prepaid credits and its spend-based rate limit. No HTTP here.

A project without billing, or linked to a Cloud free-trial account, is on the free tier: models with a free
tier answer, the others answer "limit: 0". A project linked to an open account is at Tier 1 (or the tier
realism.gemini_tiers gives it), and each generation draws on prepaid credits: none left answers "Your
prepayment credits are depleted", and more than the tier's spend in any 10 minutes answers 429 too.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque

from gcp_setup.emulator import guesses
from gcp_setup.emulator.billing.models import BillingBackend
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.world import Backend, World, backend
from gcp_setup.emulator.resourcemanager.models import Project

FREE = "free"
TIER_1 = "tier1"
SPEND_WINDOW_S = 600.0
"""Google's spend-based rate limits are "per 10 minutes, rolling"."""


def prepay_depleted() -> errors.ResourceExhausted:
    """Google's answer when the prepaid balance is spent, to every generation on every key of the
    account, with no details (the body quoted in discuss.ai.google.dev threads 169215 and 170539, 2026-06)."""
    return errors.ResourceExhausted(
        "Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to "
        "manage your project and billing. Learn more at "
        "https://ai.google.dev/gemini-api/docs/billing#prepay. "
    )


@backend
class GeminiBilling(Backend):
    name = "gemini_billing"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self._lock = threading.Lock()
        self.spent: dict[str, float] = defaultdict(float)
        """Whose credits ("project:ID" for a project given its own balance, else the account) -> spent."""
        self.recent: dict[str, deque[tuple[float, float]]] = defaultdict(deque)
        """Project ID -> (when, dollars) of its generations in the last SPEND_WINDOW_S."""

    def tier(self, project: Project) -> str:
        realism = self.world.realism
        if project.project_id in realism.gemini_tiers:
            return realism.gemini_tiers[project.project_id]
        billing = self.world.backend(BillingBackend)
        if not billing.billing_enabled(project) or billing.account_of(project) in realism.free_trial_accounts:
            return FREE
        return TIER_1

    def charge(self, project: Project) -> None:
        """One paid generation: refused without credits, or past the tier's spend in 10 minutes."""
        cost = guesses.GEMINI_PRICE_PER_GENERATION_USD
        pool, balance = self._credits(project)
        with self._lock:
            if balance - self.spent[pool] <= 0:
                raise prepay_depleted()
            self._check_spend_rate(project, cost)
            self.spent[pool] += cost
            self.recent[project.project_id].append((self.world.now(), cost))

    def _credits(self, project: Project) -> tuple[str, float]:
        own = self.world.realism.gemini_prepay_balance
        if project.project_id in own:
            return f"project:{project.project_id}", float(own[project.project_id])
        billing = self.world.backend(BillingBackend)
        account = billing.accounts.get(billing.account_of(project))
        return billing.account_of(project), account.gemini_credits_usd if account else 0.0

    def _check_spend_rate(self, project: Project, cost: float) -> None:
        limit = self.world.realism.gemini_spend_rate_limits.get(self.tier(project))
        if limit is None:
            return
        now, recent = self.world.now(), self.recent[project.project_id]
        while recent and recent[0][0] <= now - SPEND_WINDOW_S:
            recent.popleft()
        if sum(c for _, c in recent) + cost > limit:
            retry_s = recent[0][0] + SPEND_WINDOW_S - now if recent else SPEND_WINDOW_S
            raise guesses.spend_rate_limited(self.tier(project), limit, retry_s)
