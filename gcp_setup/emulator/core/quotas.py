"""The emulator's one quota model: Google's documented limits, each a realism switch (`PATCH
/_emulator/realism`), each refused in the shape Google refuses it.

Rate quotas count requests per minute of the emulator's clock (`world.now()`, whole minutes: a test moves to
the next minute with `advance_clock` instead of sleeping) per consumer, and answer 429 RESOURCE_EXHAUSTED
with an ErrorInfo RATE_LIMIT_EXCEEDED naming the quota. Their defaults are ten times Google's, so that a
suite or a benchmark never meets them unless it sets Google's values (docs/emulator.md lists both).

Count quotas (keys or service accounts per project, projects per billing account, projects per creator) are
checked where the resource is made, by the API that makes it; their errors are in `guesses` or beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.world import Backend, World, backend

HELP_URL = "https://cloud.google.com/docs/quota#requesting_higher_quota"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"


@dataclass(frozen=True)
class RateQuota:
    switch: str
    """The realism switch holding the limit per minute."""
    service: str
    metric: str
    metric_title: str
    limit: str
    limit_title: str


# Metric and limit names follow Google's pattern (the Gemini API's documented 429); these ids are guesses.
PROJECT_CREATES = RateQuota(
    "project_creates_per_minute",
    "cloudresourcemanager.googleapis.com",
    "cloudresourcemanager.googleapis.com/project_create_requests",
    "Project create requests",
    "ProjectCreateRequestsPerMinutePerProject",
    "Project create requests per minute",
)
SERVICE_USAGE_WRITES = RateQuota(
    "service_usage_writes_per_minute",
    "serviceusage.googleapis.com",
    "serviceusage.googleapis.com/mutate_requests",
    "Mutate requests",
    "MutateRequestsPerMinutePerProject",
    "Mutate requests per minute",
)
PROJECT_POLICY_WRITES = RateQuota(
    "iam_policy_writes_per_minute",
    "cloudresourcemanager.googleapis.com",
    "cloudresourcemanager.googleapis.com/write_requests",
    "Write requests",
    "WriteRequestsPerMinutePerProject",
    "Write requests per minute",
)
SERVICE_ACCOUNT_POLICY_WRITES = RateQuota(
    "iam_policy_writes_per_minute",
    "iam.googleapis.com",
    "iam.googleapis.com/write_requests",
    "Write requests",
    "WriteRequestsPerMinutePerProject",
    "Write requests per minute",
)
BATCH_ENABLE_COST = 5
"""Service Usage counts a services:batchEnable as 5 mutate requests (service-usage/docs/quotas)."""


@backend
class RateCounters(Backend):
    """Requests counted this minute, per quota and consumer (reset with the world, never saved)."""

    name = "quota_counters"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.used: dict[tuple[str, str], tuple[int, int]] = {}
        """(metric, consumer) -> (minute, requests counted in it)"""


def charge(world: World, quota: RateQuota, consumer: str, cost: int = 1) -> None:
    """Count `cost` requests of `consumer` ("projects/NUMBER", or a caller) against `quota`, or refuse."""
    limit = getattr(world.realism, quota.switch)
    minute = int(world.now() // 60)
    counters = world.backend(RateCounters).used
    window, used = counters.get((quota.metric, consumer), (minute, 0))
    used = used if window == minute else 0
    if used + cost > limit:
        raise rate_exceeded(quota, consumer, limit)
    counters[(quota.metric, consumer)] = (minute, used + cost)


def rate_exceeded(quota: RateQuota, consumer: str, limit: int) -> errors.ResourceExhausted:
    """Google's rate-quota answer (deprecated-generative-ai-python#206 shows its form)."""
    shown = consumer.replace("projects/", "project_number:")
    return errors.ResourceExhausted(
        f"Quota exceeded for quota metric '{quota.metric_title}' and limit '{quota.limit_title}' of service "
        f"'{quota.service}' for consumer '{shown}'.",
        reason="RATE_LIMIT_EXCEEDED",
        metadata={
            "service": quota.service,
            "consumer": consumer,
            "quota_metric": quota.metric,
            "quota_limit": quota.limit,
            "quota_limit_value": str(limit),
            "quota_location": "global",
        },
        extra_details=[
            {
                "@type": errors.HELP,
                "links": [{"description": "Request a higher quota limit.", "url": HELP_URL}],
            }
        ],
    )


def consumer_of(headers: Any, fallback: str) -> str:
    """The project a request is billed to: its X-Goog-User-Project (a quota project), else `fallback`."""
    quota_project = headers.get("X-Goog-User-Project")
    return f"projects/{quota_project}" if quota_project else fallback


def quota_failure(description: str, subject: str = "") -> dict[str, Any]:
    violation = {"subject": subject, "description": description} if subject else {"description": description}
    return {"@type": QUOTA_FAILURE, "violations": [violation]}
