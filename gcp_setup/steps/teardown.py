"""The steps of `gcp-setup destroy`: remove what gcp-setup created, through the same engine as `apply`
(observe -> plan -> apply -> observe again: these steps take no state from their answers), so a second
destroy plans nothing and sends no mutating request.

What goes:
- gcp-setup's API keys, found by their IDs (gemini-key-N, vertex-express-key-N, and the standard
  gemini-api-key of older versions; soft-deleted: Google keeps them restorable for 30 days);
- Workload Identity Federation: the repository's (GitLab project's) binding on the account, and the pool
  and provider if gcp-setup created them (steps/workload_identity.py, RemoveWorkloadIdentity);
- the service account, if gcp-setup created it (its description says so), after its project role
  bindings are removed (a deleted account would otherwise linger as `deleted:serviceAccount:...`);
  an account that existed before gcp-setup only loses the configured roles, and is kept;
- the credentials file gcp-setup wrote (impersonation ADC or key file), whose account is gone;
- the project itself only with --delete-project (Google keeps it restorable for 30 days).
The .env is left alone: it is the user's file, merged into, not owned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import resourcemanager
from gcp_setup.google.apikeys import ApiKeysClient, is_deleted, key_id
from gcp_setup.google.iam import IamClient, service_account_member
from gcp_setup.google.iam_policy import Binding, revoke, unconditional_members
from gcp_setup.google.resourcemanager import ResourceManagerClient
from gcp_setup.settings.config import Config
from gcp_setup.steps.api_key import EXPRESS_KEY, GEMINI_KEY
from gcp_setup.steps.base import Action, Context, Step, StepInputError
from gcp_setup.steps.project import CREATED_BY, created_by_gcp_setup, project_inactive, visible_project
from gcp_setup.steps.secret_files import credentials_files
from gcp_setup.steps.service_account import MANAGED_DESCRIPTION, account_email


@dataclass
class KeyState:
    keys: list[dict[str, Any]]
    """gcp-setup's live keys (every purpose: the Gemini API key, the express key, a replaced one)."""


class DeleteApiKey(Step):
    name = "api_key"

    def observe(self, ctx: Context) -> KeyState:
        try:
            keys = ApiKeysClient(ctx.session, ctx.progress_note).list(ctx.config.project)
        except GoogleApiError as exc:
            if exc.reason == "SERVICE_DISABLED" or project_inactive(ctx):
                return KeyState([])
            raise
        return self.sort(keys)

    @staticmethod
    def sort(keys: list[dict[str, Any]]) -> KeyState:
        """gcp-setup's live keys among the project's `keys` (keys.list's answer)."""
        ours = [k for k in keys if any(spec.number(k) is not None for spec in (GEMINI_KEY, EXPRESS_KEY))]
        return KeyState([k for k in ours if not is_deleted(k)])

    def plan(self, ctx: Context, state: KeyState) -> list[Action]:
        return [Action("delete", k["name"], f"delete API key {key_id(k)}") for k in state.keys]

    def apply(self, ctx: Context, action: Action) -> None:
        ApiKeysClient(ctx.session, ctx.progress_note).delete({"name": action.resource})

    def describe(self, ctx: Context, state: KeyState) -> str:
        return (
            f"API keys {', '.join(key_id(k) for k in state.keys)}"
            if state.keys
            else "no API key of gcp-setup"
        )


@dataclass
class AccountState:
    email: str
    account: dict[str, Any] | None
    bindings: list[Binding] = field(default_factory=list)
    """Project bindings to remove."""

    @property
    def managed(self) -> bool:
        return (
            self.account is not None
            and bool(self.account)
            and self.account.get("description") == MANAGED_DESCRIPTION
        )


class DeleteServiceAccount(Step):
    name = "service_account"
    depends_on = ("api_key", "workload_identity", "gitlab_identity")

    def enabled(self, config: Config) -> bool:
        return config.service_account is not None

    def observe(self, ctx: Context) -> AccountState:
        client = IamClient(ctx.session)
        email = account_email(ctx)
        try:
            state = AccountState(email, client.get_service_account(ctx.config.project, email))
        except GoogleApiError as exc:
            if exc.reason == "SERVICE_DISABLED" or project_inactive(ctx):
                return AccountState(email, None)
            raise
        if state.account is None:
            return state
        member = service_account_member(email)
        policy = client.project_policy(ctx.config.project).get()
        # Grants to an account gcp-setup made are all its own; to an adopted one, only the configured roles.
        roles = (
            {b.get("role") for b in policy.get("bindings", [])} if state.managed else set(ctx.config.roles)
        )
        state.bindings = [
            Binding(r, member) for r in sorted(roles) if member in unconditional_members(policy, r)
        ]
        return state

    def plan(self, ctx: Context, state: AccountState) -> list[Action]:
        actions = []
        if state.bindings:
            roles = ", ".join(b.role for b in state.bindings)
            actions.append(
                Action(
                    "update",
                    f"projects/{ctx.config.project}",
                    f"remove {roles} from {state.email}",
                    {"bindings": [(b.role, b.member) for b in state.bindings]},
                )
            )
        if state.managed:
            name = f"projects/{ctx.config.project}/serviceAccounts/{state.email}"
            actions.append(Action("delete", name, f"delete service account {state.email}"))
        return actions

    def apply(self, ctx: Context, action: Action) -> None:
        client = IamClient(ctx.session)
        if action.kind == "update":
            revoke(client.project_policy(ctx.config.project), [Binding(*b) for b in action.data["bindings"]])
        else:
            client.delete_service_account(ctx.config.project, account_email(ctx))

    def describe(self, ctx: Context, state: AccountState) -> str:
        if state.account is None:
            return f"no service account {state.email}"
        return f"{state.email} kept: gcp-setup did not create it" if not state.managed else state.email


@dataclass
class FilesState:
    files: list[Path]


class DeleteCredentialsFile(Step):
    """The impersonation ADC or key file gcp-setup wrote; local, but a secret worth not leaving behind."""

    name = "credentials"
    depends_on = ("service_account",)

    def observe(self, ctx: Context) -> FilesState:
        return FilesState(sorted(p for p in credentials_files(ctx) if p.is_file()))

    def plan(self, ctx: Context, state: FilesState) -> list[Action]:
        return [Action("delete", str(p), f"delete {p}") for p in state.files]

    def apply(self, ctx: Context, action: Action) -> None:
        Path(action.resource).unlink(missing_ok=True)

    def describe(self, ctx: Context, state: FilesState) -> str:
        return "no credentials file of gcp-setup"


@dataclass
class ProjectState:
    state: str
    """ACTIVE or DELETE_REQUESTED."""
    ours: bool
    """gcp-setup created it (project.CREATED_BY)."""


class DeleteProject(Step):
    """The project, only if gcp-setup created it (its label says so); DeleteAnyProject (--force) deletes
    one made elsewhere too."""

    name = "project"
    depends_on = ("api_key", "service_account", "credentials")
    force: ClassVar[bool] = False

    def observe(self, ctx: Context) -> ProjectState:
        info = visible_project(ctx)
        return ProjectState(info.state, created_by_gcp_setup(info))

    def plan(self, ctx: Context, state: ProjectState) -> list[Action]:
        if state.state != resourcemanager.ACTIVE:
            return []
        project = ctx.config.project
        label = "=".join(CREATED_BY)
        if not (state.ours or self.force):
            raise StepInputError(
                f"project {project} was not created by gcp-setup (it has no label {label}), so "
                "--delete-project keeps it; nothing was deleted",
                hint="pass --force to delete it anyway, or drop --delete-project",
            )
        why = "created by gcp-setup" if state.ours else f"no label {label}; --force"
        return [
            Action(
                "delete", f"projects/{project}", f"delete project {project} ({why}; restorable for 30 days)"
            )
        ]

    def apply(self, ctx: Context, action: Action) -> None:
        ResourceManagerClient(ctx.session, ctx.progress_note).delete_project(action.resource)

    def describe(self, ctx: Context, state: ProjectState) -> str:
        made = "created by gcp-setup" if state.ours else "not created by gcp-setup"
        return f"project {ctx.config.project}: {state.state} ({made})"


class DeleteAnyProject(DeleteProject):
    force = True
