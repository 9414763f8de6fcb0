"""Project: select an existing project, or create it with --create (and wait for its operation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import resourcemanager
from gcp_setup.google.resourcemanager import ProjectInfo, ResourceManagerClient
from gcp_setup.steps.base import UNKNOWN, Action, Context, Step, StepError, StepInputError


@dataclass(frozen=True)
class ProjectState:
    info: ProjectInfo | None
    """None: the project does not exist, or the caller may not see it (Google does not say which)."""
    created: bool = False
    """This run created it (its create operation answered it): nothing is inside it yet."""


CREATED_BY = ("created-by", "gcp-setup")
"""The label a project gcp-setup creates carries, so that `destroy --delete-project` deletes only those."""


class ProjectStep(Step):
    name = "project"

    def observe(self, ctx: Context) -> ProjectState:
        return ProjectState(ResourceManagerClient(ctx.session).get_project(ctx.config.project))

    def plan(self, ctx: Context, state: ProjectState) -> list[Action]:
        config = ctx.config
        if state.info is not None:
            if state.info.state == resourcemanager.DELETE_REQUESTED:
                raise StepError(
                    f"project {config.project} is pending deletion (DELETE_REQUESTED)",
                    hint=f"restore it with `gcloud projects undelete {config.project}`, or choose another ID",
                )
            return []
        if not config.create:
            raise StepInputError(
                f"project {config.project} does not exist or you may not use it",
                hint="check the ID with `gcloud projects list`, or pass --create to create it",
            )
        parent = config.parent
        where = f" in {parent}" if parent else ""
        labels = {**config.labels, CREATED_BY[0]: CREATED_BY[1]}
        data = {"parent": parent, "display_name": config.display_name, "labels": labels}
        return [
            Action("create", f"projects/{config.project}", f"create project {config.project}{where}", data)
        ]

    def apply(self, ctx: Context, action: Action) -> ProjectState:
        project_id = ctx.config.project
        try:
            info = ResourceManagerClient(ctx.session, ctx.progress_note).create_project(
                project_id, **action.data
            )
            return ProjectState(info, created=info is not None)
        except GoogleApiError as exc:
            if exc.code != 409:
                raise
            # Taken: ours if an earlier attempt's answer was lost (then we can read it), else someone else's.
            # Ours is not new then: that earlier run may have made things inside it.
            info = ResourceManagerClient(ctx.session).get_project(project_id)
            if info is None:
                raise StepError(
                    f"project ID {project_id} is already taken (project IDs are global; it may belong to "
                    "someone else or have been deleted in the last 30 days)",
                    hint="choose another --project ID",
                ) from exc
            return ProjectState(info)

    def state_after(self, ctx: Context, state: ProjectState, action: Action, answer: ProjectState) -> Any:
        return answer if answer.info is not None else UNKNOWN

    def created_anew(self, ctx: Context, state: ProjectState) -> bool:
        """Everything the later steps make lives in the project: created by this run (or, in a dry run,
        still to be created), it holds none of it yet."""
        return state.created or (ctx.dry_run and state.info is None)

    def describe(self, ctx: Context, state: ProjectState) -> str:
        if state.info is None:
            return f"project {ctx.config.project} does not exist"
        return f"project {state.info.project_id} (number {state.info.number}) is {state.info.state}"

    def outputs(self, ctx: Context, state: ProjectState) -> dict[str, Any]:
        if state.info is None:
            return {"project_id": ctx.config.project}
        return {"project_id": state.info.project_id, "number": state.info.number, "parent": state.info.parent}


def visible_project(ctx: Context) -> ProjectInfo:
    """The project; one the caller cannot see fails the step. Google answers 403 alike for a project that
    does not exist and for one the caller may not use, so "not visible" never means "gone"."""
    info = ResourceManagerClient(ctx.session).get_project(ctx.config.project)
    if info is None:
        raise StepInputError(
            f"cannot see project {ctx.config.project}: it does not exist or your account may not use it, "
            "so nothing in it can be told apart, and nothing was deleted",
            hint="check --project and the account you use (`gcloud auth list`)",
        )
    return info


def project_inactive(ctx: Context) -> bool:
    """The project is pending deletion: what was in it goes with it."""
    return visible_project(ctx).state != resourcemanager.ACTIVE


def created_by_gcp_setup(info: ProjectInfo) -> bool:
    return info.labels.get(CREATED_BY[0]) == CREATED_BY[1]
