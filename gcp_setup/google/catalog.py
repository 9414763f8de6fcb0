"""Does Google know these services and roles? Asked before the first write (by the plan every apply
starts with), so a mistyped --services or --role is refused before a project is created. Service
Management's services.get answers for a public service without any project; IAM's roles.get for a
predefined role, projects.roles.get for a custom one. Both answer 403 or 404 for one they do not know.
"""

from __future__ import annotations

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import retry
from gcp_setup.google.session import GoogleSession


def _unknown(request) -> bool:
    try:
        retry.execute(request)
        return False
    except GoogleApiError as exc:
        if exc.code in (403, 404):
            return True
        raise


def unknown_services(session: GoogleSession, services: list[str]) -> list[str]:
    client = session.discovery_client("servicemanagement", "v1").services()
    return [s for s in services if _unknown(client.get(serviceName=s))]


def unknown_roles(session: GoogleSession, roles: list[str]) -> list[str]:
    iam = session.discovery_client("iam", "v1")
    found = []
    for role in roles:
        request = (
            iam.roles().get(name=role) if role.startswith("roles/") else iam.projects().roles().get(name=role)
        )
        if _unknown(request):
            found.append(role)
    return found
