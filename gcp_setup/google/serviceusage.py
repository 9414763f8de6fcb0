"""Service Usage v1 through google-cloud-service-usage (REST): which APIs are on, and turning them on."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gcp_setup.google import operations, retry
from gcp_setup.google.session import GoogleSession

MAX_BATCH = 20
"""services:batchGet and services:batchEnable take at most 20 services per call."""


def _client(session: GoogleSession):
    from google.cloud import service_usage_v1

    return session.cloud_client(service_usage_v1.ServiceUsageClient, "serviceusage")


def chunks(items: list[str], size: int = MAX_BATCH) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def enabled_among(session: GoogleSession, project: str, services: Iterable[str]) -> set[str]:
    """Which of `services` are enabled in `project` (ID or number): one batchGet per 20 services."""
    client = _client(session)
    enabled: set[str] = set()
    for chunk in chunks(list(services)):
        request = {
            "parent": f"projects/{project}",
            "names": [f"projects/{project}/services/{s}" for s in chunk],
        }
        response = retry.call(client.batch_get_services, request=request, retry=None, session=session)
        enabled |= _enabled_ids(response.services)
    return enabled


def enable(
    session: GoogleSession, project: str, services: list[str], progress: Callable[[str], None]
) -> set[str]:
    """batchEnable `services` (at most MAX_BATCH) and wait for the operation; the services its response
    reports enabled."""
    from google.cloud import service_usage_v1

    client = _client(session)
    request = {"parent": f"projects/{project}", "service_ids": services}
    started = retry.call(client.batch_enable_services, request=request, retry=None, session=session)
    done = operations.wait_cloud_operation(client, started, f"enabling {len(services)} API(s)", progress)
    response = service_usage_v1.BatchEnableServicesResponse.deserialize(done.response.value)
    return _enabled_ids(response.services)


def _enabled_ids(services) -> set[str]:
    """The IDs (aiplatform.googleapis.com) of those of `services` (Service messages, named
    projects/123/services/<ID>) that are ENABLED, as batchGet and batchEnable answer them."""
    from google.cloud import service_usage_v1

    return {s.name.rsplit("/", 1)[-1] for s in services if s.state == service_usage_v1.State.ENABLED}
