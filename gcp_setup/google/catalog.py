"""Does Google know these services and roles? Asked before the first write (by the plan every apply
starts with), so a mistyped --services or --role is refused before a project is created. Service
Management's services.get answers for a public service without any project; IAM's roles.get for a
predefined role, projects.roles.get for a custom one. Both answer 403 or 404 for one they do not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google.client import Client


@dataclass
class CatalogClient(Client):
    def unknown_services(self, services: list[str]) -> list[str]:
        client = self.session.discovery("servicemanagement", "v1", "services")
        return [s for s in services if self._unknown(client.get(serviceName=s))]

    def unknown_roles(self, roles: list[str]) -> list[str]:
        return [
            role
            for role in roles
            if self._unknown(
                self.session.discovery("iam", "v1", "roles").get(name=role)
                if role.startswith("roles/")
                else self.session.discovery("iam", "v1", "projects.roles").get(name=role)
            )
        ]

    def _unknown(self, request: Any) -> bool:
        try:
            self.execute(request)
            return False
        except GoogleApiError as exc:
            if exc.code in (403, 404):
                return True
            raise
