"""--credentials impersonate: the impersonator gets roles/iam.serviceAccountTokenCreator on the service
account (its own policy, not the project's), and an `impersonated_service_account` ADC file is written
whose source is the person's own ADC: no long-lived secret of the service account exists anywhere.

The impersonator is --impersonator, else the identity behind the person's ADC, else gcloud's
core/account. `gcloud auth application-default login` leaves the ADC file's `account` empty, so the
identity is asked of Google's tokeninfo (google/tokeninfo.py). The file's source credentials carry no
quota project: an old one would bill a project the run may know nothing of (quota_projects.py)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import Any

from gcp_setup import defaults
from gcp_setup.google.credentials import ADC_LOGIN, adc_file
from gcp_setup.google.iam import IamClient
from gcp_setup.google.iam_policy import Binding, grant, missing
from gcp_setup.google.tokeninfo import TokenInfoClient
from gcp_setup.secrets.files import write_secret_file
from gcp_setup.settings.config import gcloud_property
from gcp_setup.steps.adc.kind import CredentialsKind, credentials_file, gcloud_adc_path, read_json
from gcp_setup.steps.base import Action, Context, StepInputError
from gcp_setup.steps.service_account import account_email

IMPERSONATION_URL = "{base}/v1/projects/-/serviceAccounts/{email}:generateAccessToken"
SOURCE_TYPES = ("authorized_user", "service_account", "external_account_authorized_user")
"""Source credentials google-auth accepts in an impersonated_service_account file."""


@dataclass(frozen=True)
class ImpersonationState:
    missing_grant: str | None
    """The member still lacking roles/iam.serviceAccountTokenCreator on the account."""
    file_current: bool


class ImpersonatedCredentials(CredentialsKind):
    mode = "impersonate"

    def observe(self, ctx: Context) -> ImpersonationState:
        return self._look(ctx, account_is_new=False)

    def absent_state(self, ctx: Context) -> ImpersonationState:
        """A service account that is new (or still to be made) has no grant yet: nothing is read."""
        return self._look(ctx, account_is_new=True)

    def _look(self, ctx: Context, account_is_new: bool) -> ImpersonationState:
        self.require_service_account(ctx)
        source = user_adc(ctx.config.project)  # checked first: without it nothing here is worth changing
        member, _ = impersonator(ctx)
        target = IamClient(ctx.session).service_account_policy(ctx.config.project, account_email(ctx))
        policy = {} if account_is_new else target.get()
        missing_grant = member if missing(policy, [Binding(defaults.TOKEN_CREATOR, member)]) else None
        file_current = read_json(credentials_file(ctx.config)) == impersonated_adc(ctx, source)
        return ImpersonationState(missing_grant, file_current)

    def plan(self, ctx: Context, state: ImpersonationState) -> list[Action]:
        email, actions = account_email(ctx), []
        if state.missing_grant:
            _, why = impersonator(ctx)
            summary = f"grant {defaults.TOKEN_CREATOR} on {email} to {state.missing_grant} ({why})"
            resource = f"projects/{ctx.config.project}/serviceAccounts/{email}"
            actions.append(Action("update", resource, summary, {"member": state.missing_grant}))
        if not state.file_current:
            path = credentials_file(ctx.config)
            actions.append(Action("create", str(path), f"write impersonated ADC file {path} (0600)"))
        return actions

    def apply(self, ctx: Context, action: Action) -> None:
        if action.kind == "update":
            target = IamClient(ctx.session).service_account_policy(ctx.config.project, account_email(ctx))
            grant(target, [Binding(defaults.TOKEN_CREATOR, action.data["member"])])
        else:
            document = impersonated_adc(ctx, user_adc(ctx.config.project))
            write_secret_file(credentials_file(ctx.config), json.dumps(document, indent=2) + "\n")

    def state_after(
        self, ctx: Context, state: ImpersonationState, action: Action, answer: None
    ) -> ImpersonationState:
        """grant() returns once the policy holds the binding; the file is written whole or not at all."""
        if action.kind == "update":
            return replace(state, missing_grant=None)
        return replace(state, file_current=True)

    def describe(self, ctx: Context, state: ImpersonationState) -> str:
        return f"impersonating {account_email(ctx)} via {credentials_file(ctx.config)}"


def impersonator(ctx: Context) -> tuple[str, str]:
    """(the member who may impersonate the account, where that choice came from): --impersonator, else
    the identity behind the person's ADC, else gcloud's core/account. Asked once per run."""
    if ctx.config.impersonator:
        return as_member(ctx.config.impersonator), "--impersonator"
    email = ctx.session.read_once("tokeninfo.email", TokenInfoClient(ctx.session).email)
    if email:
        return as_member(email), "the identity behind your ADC"
    account = gcloud_property(os.environ, "core", "account")[0]
    if account:
        return as_member(account), "gcloud's core/account"
    raise StepInputError(
        "cannot tell who should impersonate the service account: your ADC token names no email",
        hint="pass --impersonator user:you@example.com",
    )


def as_member(who: str) -> str:
    if ":" in who:
        return who
    kind = "serviceAccount" if who.endswith(".gserviceaccount.com") else "user"
    return f"{kind}:{who}"


def impersonated_adc(ctx: Context, source: dict[str, Any]) -> dict[str, Any]:
    """The ADC file `gcloud auth application-default login --impersonate-service-account` would write."""
    base = ctx.session.endpoint("iamcredentials")
    return {
        "type": "impersonated_service_account",
        "service_account_impersonation_url": IMPERSONATION_URL.format(base=base, email=account_email(ctx)),
        "source_credentials": source,
        "delegates": [],
    }


def user_adc(project: str) -> dict[str, Any]:
    """The person's own ADC (the file google-auth would load), the source credential of an impersonation,
    without the quota project it may name. The hint's apply is the one to run again, for `project`."""
    path = adc_file()
    source = read_json(path) if path else None
    if source is None or source.get("type") not in SOURCE_TYPES:
        raise StepInputError(
            f"impersonation needs your own Application Default Credentials ({path or gcloud_adc_path()} "
            "is missing or not a user credential)",
            hint=f"run `{ADC_LOGIN}`, then `gcp-setup apply --project {project} --credentials impersonate` "
            "again",
        )
    return {name: value for name, value in source.items() if name != "quota_project_id"}
