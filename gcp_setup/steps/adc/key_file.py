"""--credentials key-file (only with --allow-key-file): a service-account key, written 0600. A key file
whose key is still listed on the account is kept: a re-run makes no second key. The key is created only
after its creation is noted beside the file (steps/secret_files.py finds what a killed run left).
Refused, with the alternatives, when the organization policy iam.disableServiceAccountKeyCreation is
enforced."""

from __future__ import annotations

from gcp_setup.google.iam import IamClient, KeyCreationBlocked, key_id_of_file
from gcp_setup.steps.adc.kind import CredentialsKind, credentials_file
from gcp_setup.steps.base import Action, Context, StepError
from gcp_setup.steps.secret_files import create_key_file
from gcp_setup.steps.service_account import account_email


class KeyFileCredentials(CredentialsKind):
    mode = "key-file"
    depends_on = (*CredentialsKind.depends_on, "secret_files")  # a killed run's key is cleaned up first

    def observe(self, ctx: Context) -> bool:
        """Whether the key file holds a key still listed on the account."""
        return self._look(ctx, account_is_new=False)

    def absent_state(self, ctx: Context) -> bool:
        """A service account that is new (or still to be made) has no key yet: nothing is read."""
        return self._look(ctx, account_is_new=True)

    def _look(self, ctx: Context, account_is_new: bool) -> bool:
        self.require_service_account(ctx)
        path = credentials_file(ctx.config)
        key_id = key_id_of_file(path.read_bytes()) if path.is_file() else None
        if not key_id or account_is_new:
            return False
        listed = IamClient(ctx.session).list_user_keys(ctx.config.project, account_email(ctx))
        return any(k.get("name", "").endswith(f"/keys/{key_id}") for k in listed)

    def plan(self, ctx: Context, state: bool) -> list[Action]:
        if state:
            return []
        path = credentials_file(ctx.config)
        return [Action("create", str(path), f"create a service-account key and write it to {path} (0600)")]

    def apply(self, ctx: Context, action: Action) -> None:
        try:
            create_key_file(
                IamClient(ctx.session), ctx.config.project, account_email(ctx), credentials_file(ctx.config)
            )
        except KeyCreationBlocked as exc:
            raise StepError(
                "the organization policy iam.disableServiceAccountKeyCreation forbids service-account keys "
                "here (Google turns it on for new organizations: long-lived keys leak)",
                hint="use --credentials impersonate on a workstation, or Workload Identity Federation in CI "
                "(see the Terraform module); an org policy admin can lift the constraint for this project",
            ) from exc

    def state_after(self, ctx: Context, state: bool, action: Action, answer: None) -> bool:
        return True  # the key file is written whole or not at all, after the key exists

    def describe(self, ctx: Context, state: bool) -> str:
        return f"service-account key in {credentials_file(ctx.config)}"
