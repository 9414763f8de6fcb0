"""Project: select an existing project, or create it with --create (and wait for its operation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import resourcemanager
from gcp_setup.google.resourcemanager import ProjectInfo
from gcp_setup.steps.base import UNKNOWN, Action, Context, Step, StepError


@dataclass(frozen=True)
class ProjectState:
    info: ProjectInfo | None
    """None: the project does not exist, or the caller may not see it (Google does not say which)."""
    created: bool = False
    """This run created it (its create operation answered it): nothing is inside it yet."""


class ProjectStep(Step):
    name = "project"

    def observe(self, ctx: Context) -> ProjectState:
        return ProjectState(resourcemanager.get_project(ctx.session, ctx.config.project))

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
            raise StepError(
                f"project {config.project} does not exist or you may not use it",
                hint="check the ID with `gcloud projects list`, or pass --create to create it",
            )
        parent = config.parent
        where = f" in {parent}" if parent else ""
        data = {"parent": parent, "display_name": config.display_name, "labels": dict(config.labels)}
        return [
            Action("create", f"projects/{config.project}", f"create project {config.project}{where}", data)
        ]

    def apply(self, ctx: Context, action: Action) -> ProjectState:
        project_id = ctx.config.project
        try:
            info = resourcemanager.create_project(
                ctx.session, project_id, progress=ctx.progress_note, **action.data
            )
            return ProjectState(info, created=info is not None)
        except GoogleApiError as exc:
            if exc.code != 409:
                raise
            # Taken: ours if an earlier attempt's answer was lost (then we can read it), else someone else's.
            # Ours is not new then: that earlier run may have made things inside it.
            info = resourcemanager.get_project(ctx.session, project_id)
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


def project_inactive(ctx: Context) -> bool:
    """The project is gone or pending deletion: what was in it goes (or went) with it."""
    info = resourcemanager.get_project(ctx.session, ctx.config.project)
    return info is None or info.state != resourcemanager.ACTIVE
