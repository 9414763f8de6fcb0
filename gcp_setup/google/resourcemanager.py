"""Cloud Resource Manager v3 through google-cloud-resource-manager (REST): read and create projects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import operations, retry
from gcp_setup.google.errors import NOT_A_GOOGLE_API
from gcp_setup.google.session import GoogleSession

ACTIVE = "ACTIVE"
DELETE_REQUESTED = "DELETE_REQUESTED"


@dataclass(frozen=True)
class ProjectInfo:
    project_id: str
    number: str
    state: str
    """ACTIVE | DELETE_REQUESTED"""
    parent: str = ""
    display_name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


def _client(session: GoogleSession):
    from google.cloud import resourcemanager_v3

    return session.cloud_client(resourcemanager_v3.ProjectsClient, "cloudresourcemanager")


def _info(project) -> ProjectInfo:
    return ProjectInfo(
        project_id=project.project_id,
        number=project.name.removeprefix("projects/"),
        state=project.state.name,
        parent=project.parent,
        display_name=project.display_name,
        labels=dict(project.labels),
    )


def get_project(session: GoogleSession, project_id: str) -> ProjectInfo | None:
    """The project, or None when it does not exist or the caller may not see it: Google answers 403
    for both, on purpose (project IDs are global and existence would leak)."""
    try:
        return _info(
            retry.call(
                _client(session).get_project, name=f"projects/{project_id}", retry=None, session=session
            )
        )
    except GoogleApiError as exc:
        if exc.code in (403, 404) and exc.reason != NOT_A_GOOGLE_API:
            return None
        raise


def create_project(
    session: GoogleSession,
    project_id: str,
    *,
    parent: str | None,
    display_name: str | None,
    labels: Mapping[str, str],
    progress: Callable[[str], None],
) -> ProjectInfo | None:
    """Create the project and wait for its operation; the project as the finished operation's response
    has it (None if it has none). 409 (the ID is taken) is raised as is: the caller tells "ours, from a
    run whose answer was lost" from "someone else's" by reading it back."""
    from google.cloud import resourcemanager_v3

    client = _client(session)
    project = resourcemanager_v3.Project(
        project_id=project_id,
        parent=parent or "",
        display_name=display_name or project_id,
        labels=dict(labels),
    )
    started = retry.call(client.create_project, project=project, retry=None, session=session)
    done = operations.wait_cloud_operation(client, started, f"creating project {project_id}", progress)
    created = resourcemanager_v3.Project.deserialize(done.response.value)
    return _info(created) if created.project_id else None
