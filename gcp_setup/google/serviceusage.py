"""Service Usage v1 through google-cloud-service-usage (REST): which APIs are on, and turning them on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gcp_setup.google.client import Client

MAX_BATCH = 20
"""services:batchGet and services:batchEnable take at most 20 services per call."""
ENABLED = "ENABLED"


def chunks(items: list[str], size: int = MAX_BATCH) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass
class ServiceUsageClient(Client):
    def _services(self) -> Any:
        from google.cloud import service_usage_v1

        return self.session.cloud_client(service_usage_v1.ServiceUsageClient, "serviceusage")

    def enabled_among(self, project: str, services: Iterable[str]) -> set[str]:
        """Which of `services` are enabled in `project` (ID or number): one batchGet per 20 services."""
        client = self._services()
        enabled: set[str] = set()
        for chunk in chunks(list(services)):
            request = {
                "parent": f"projects/{project}",
                "names": [f"projects/{project}/services/{s}" for s in chunk],
            }
            enabled |= _enabled_ids(self.call(client.batch_get_services, request=request).services)
        return enabled

    def enable(self, project: str, services: list[str]) -> set[str]:
        """batchEnable `services` (at most MAX_BATCH) and wait for the operation; the services its
        response reports enabled."""
        from google.cloud import service_usage_v1

        client = self._services()
        request = {"parent": f"projects/{project}", "service_ids": services}
        started = self.call(client.batch_enable_services, request=request)
        done = self.wait_cloud_operation(client, started, f"enabling {len(services)} API(s)")
        response = service_usage_v1.BatchEnableServicesResponse.deserialize(done.response.value)
        return _enabled_ids(response.services)

    def state(self, service_name: str) -> str:
        """The state of `service_name` (projects/P/services/S): ENABLED, DISABLED."""
        services = self.session.discovery("serviceusage", "v1", "services")
        state: str = self.execute(services.get(name=service_name)).get("state", "")
        return state


def _enabled_ids(services: Any) -> set[str]:
    """The IDs (aiplatform.googleapis.com) of those of `services` (Service messages, named
    projects/123/services/<ID>) that are ENABLED, as batchGet and batchEnable answer them."""
    from google.cloud import service_usage_v1

    return {s.name.rsplit("/", 1)[-1] for s in services if s.state == service_usage_v1.State.ENABLED}
