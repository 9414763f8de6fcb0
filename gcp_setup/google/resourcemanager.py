"""Cloud Resource Manager v3 through google-cloud-resource-manager (REST): read, create and delete
projects, and which permissions the caller holds on one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google.client import Client
from gcp_setup.google.errors import NOT_A_GOOGLE_API

ACTIVE = "ACTIVE"
DELETE_REQUESTED = "DELETE_REQUESTED"
ABSENT_OR_FORBIDDEN = frozenset({"", "IAM_PERMISSION_DENIED"})
"""The reasons of the 403 Google answers alike for a project that does not exist and for one the caller
may not get."""


@dataclass(frozen=True)
class ProjectInfo:
    project_id: str
    number: str
    state: str
    """ACTIVE | DELETE_REQUESTED"""
    parent: str = ""
    display_name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


def _info(project: Any) -> ProjectInfo:
    return ProjectInfo(
        project_id=project.project_id,
        number=project.name.removeprefix("projects/"),
        state=project.state.name,
        parent=project.parent,
        display_name=project.display_name,
        labels=dict(project.labels),
    )


@dataclass
class ResourceManagerClient(Client):
    def _projects(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self.session.cloud_client(resourcemanager_v3.ProjectsClient, "cloudresourcemanager")

    def get_project(self, project_id: str) -> ProjectInfo | None:
        """The project, or None when it does not exist or the caller may not see it: Google answers 403
        for both, on purpose (project IDs are global and existence would leak). A 403 that says
        something else (the quota project refused, an API off, a token without the scope) and any 400
        are raised, each with its own hint."""
        try:
            return _info(self.call(self._projects().get_project, name=f"projects/{project_id}"))
        except GoogleApiError as exc:
            if (exc.code == 404 and exc.reason != NOT_A_GOOGLE_API) or (
                exc.code == 403 and exc.reason in ABSENT_OR_FORBIDDEN
            ):
                return None
            raise

    def create_project(
        self, project_id: str, *, parent: str | None, display_name: str | None, labels: Mapping[str, str]
    ) -> ProjectInfo | None:
        """Create the project and wait for its operation; the project as the finished operation's
        response has it (None if it has none). 409 (the ID is taken) is raised as is: the caller tells
        "ours, from a run whose answer was lost" from "someone else's" by reading it back."""
        from google.cloud import resourcemanager_v3

        client = self._projects()
        project = resourcemanager_v3.Project(
            project_id=project_id,
            parent=parent or "",
            display_name=display_name or project_id,
            labels=dict(labels),
        )
        started = self.call(client.create_project, project=project)
        done = self.wait_cloud_operation(client, started, f"creating project {project_id}")
        created = resourcemanager_v3.Project.deserialize(done.response.value)
        return _info(created) if created.project_id else None

    def search_projects(self, query: str) -> list[ProjectInfo]:
        """projects.search: the projects the caller may get that match `query` (Google's search syntax,
        e.g. `labels.env:dev state:ACTIVE`), every page."""
        pager = self.call(self._projects().search_projects, query=query)
        return [_info(project) for page in pager.pages for project in page.projects]

    def delete_project(self, name: str) -> None:
        """Request the deletion of `name` (projects/ID) and wait for its operation."""
        client = self._projects()
        self.wait_cloud_operation(client, self.call(client.delete_project, name=name), f"deleting {name}")

    def held_permissions(self, project: str, permissions: Iterable[str]) -> set[str]:
        """Those of `permissions` the caller holds on `project` (testIamPermissions)."""
        projects = self.session.discovery("cloudresourcemanager", "v3", "projects")
        request = projects.testIamPermissions(
            resource=f"projects/{project}", body={"permissions": sorted(permissions)}
        )
        return set(self.execute(request).get("permissions", []))
