"""Workload Identity Federation for GitHub Actions (opt-in: --github-repo OWNER/REPO): CI without keys.

Observed (three reads when all is in place): the pool `github`, its OIDC provider `github-actions`, and
the service account's own IAM policy. Planned, each only when needed:
- create the pool, or adopt one that exists (made with gcloud, by Terraform), or undelete it;
- create the provider for https://token.actions.githubusercontent.com (or adopt / undelete it), mapping
  google.subject, attribute.repository, attribute.repository_owner and attribute.ref, with the condition
  that the token comes from that repository (GitHub's issuer is shared by every repository; Google
  refuses such a provider without one); a provider with another issuer, mapping or condition is patched;
- grant roles/iam.workloadIdentityUser on the service account to
  principalSet://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/github/
  attribute.repository/OWNER/REPO (etag-guarded read-modify-write of the account's policy).
A workflow then authenticates with google-github-actions/auth and the two outputs, no secret involved.
Same IDs, mapping and condition as the Terraform module's WIF resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup import defaults
from gcp_setup.errors import GoogleApiError
from gcp_setup.google.iam import IamClient
from gcp_setup.google.iam_policy import Binding, grant, missing, revoke, unconditional_members
from gcp_setup.google.resourcemanager import ResourceManagerClient
from gcp_setup.google.workload_identity import (
    Resource,
    WorkloadIdentityClient,
    is_deleted,
    pool_principal_set,
    provider_name,
)
from gcp_setup.steps.base import Action, Context, Step
from gcp_setup.steps.project import project_inactive
from gcp_setup.steps.service_account import MANAGED_DESCRIPTION, account_email, project_id

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
POOL_ID = defaults.WORKLOAD_IDENTITY_POOL_ID
PROVIDER_ID = defaults.WORKLOAD_IDENTITY_PROVIDER_ID


def wanted_provider(repository: str) -> Resource:
    return {
        "displayName": defaults.WORKLOAD_IDENTITY_PROVIDER_DISPLAY_NAME,
        "description": MANAGED_DESCRIPTION,
        "oidc": {"issuerUri": defaults.GITHUB_OIDC_ISSUER},
        "attributeMapping": dict(defaults.GITHUB_ATTRIBUTE_MAPPING),
        "attributeCondition": defaults.github_attribute_condition(repository),
    }


def provider_drift(provider: Resource, repository: str) -> list[str]:
    """The provider fields that differ from ours (other attributes in the mapping may stay)."""
    wanted = wanted_provider(repository)
    drift = ["disabled"] if provider.get("disabled") else []
    if (provider.get("oidc") or {}).get("issuerUri") != defaults.GITHUB_OIDC_ISSUER:
        drift.append("oidc")
    mapping = provider.get("attributeMapping") or {}
    if any(mapping.get(k) != v for k, v in wanted["attributeMapping"].items()):
        drift.append("attributeMapping")
    if provider.get("attributeCondition") != wanted["attributeCondition"]:
        drift.append("attributeCondition")
    return drift


def pool_fixes(pool: Resource) -> list[str]:
    """What an existing pool needs before it can exchange tokens."""
    return (["undelete"] if is_deleted(pool) else []) + (["enable"] if pool.get("disabled") else [])


def repository_member(project_number: str, repository: str) -> str:
    return f"{pool_principal_set(project_number, POOL_ID)}/attribute.repository/{repository}"


def project_number(ctx: Context) -> str:
    """The project step's answer (in destroy, which runs no such step: one read)."""
    number = ctx.output("project", "number") if "project" in ctx.reads else None
    if number:
        return str(number)
    info = ResourceManagerClient(ctx.session).get_project(project_id(ctx))
    return info.number if info else "NUMBER"


@dataclass
class WorkloadIdentityState:
    pool: Resource | None
    provider: Resource | None
    member: str
    binding_missing: bool
    number: str


class WorkloadIdentityStep(Step):
    name = "workload_identity"
    depends_on = ("project", "services", "service_account")
    reads = {"project": ("number",), "services": ("enabled_now",)}

    def enabled(self, config: Any) -> bool:
        return config.github_repo is not None

    def observe(self, ctx: Context) -> WorkloadIdentityState:
        client = WorkloadIdentityClient(ctx.session, ctx.progress_note)
        project = project_id(ctx)
        number = project_number(ctx)
        pool = client.get_pool(project, POOL_ID)
        provider = client.get_provider(project, POOL_ID, PROVIDER_ID) if pool else None
        member = repository_member(number, ctx.config.github_repo)
        policy = IamClient(ctx.session).service_account_policy(project, account_email(ctx)).get()
        binding_missing = bool(missing(policy, [Binding(WORKLOAD_IDENTITY_USER, member)]))
        return WorkloadIdentityState(pool, provider, member, binding_missing, number)

    def absent_state(self, ctx: Context) -> WorkloadIdentityState:
        number = str(ctx.output("project", "number") or "NUMBER")
        return WorkloadIdentityState(
            None, None, repository_member(number, ctx.config.github_repo), True, number
        )

    def plan(self, ctx: Context, state: WorkloadIdentityState) -> list[Action]:
        pool_resource = f"projects/{state.number}/locations/global/workloadIdentityPools/{POOL_ID}"
        provider_resource = provider_name(state.number, POOL_ID, PROVIDER_ID)
        actions = []
        if state.pool is None:
            actions.append(Action("create", pool_resource, f"create workload identity pool {POOL_ID}"))
        elif pool_fixes(state.pool):
            summary = f"{' and '.join(pool_fixes(state.pool))} workload identity pool {POOL_ID}"
            actions.append(Action("update", pool_resource, summary))
        fixes = self._provider_fixes(ctx, state.provider)
        if state.provider is None:
            summary = f"create OIDC provider {PROVIDER_ID} for {ctx.config.github_repo}"
            actions.append(Action("create", provider_resource, summary))
        elif fixes:
            actions.append(
                Action("update", provider_resource, f"{' and '.join(fixes)} provider {PROVIDER_ID}")
            )
        if state.binding_missing:
            summary = f"grant {WORKLOAD_IDENTITY_USER} on {account_email(ctx)} to {state.member}"
            actions.append(
                Action(
                    "update",
                    f"projects/{project_id(ctx)}/serviceAccounts/{account_email(ctx)}",
                    summary,
                    {"member": state.member},
                )
            )
        return actions

    @staticmethod
    def _provider_fixes(ctx: Context, provider: Resource | None) -> list[str]:
        if provider is None:
            return []
        fixes = ["undelete"] if is_deleted(provider) else []
        drift = provider_drift(provider, ctx.config.github_repo)
        if "disabled" in drift:
            fixes.append("enable")
            drift.remove("disabled")
        return fixes + ([f"set {', '.join(drift)} of"] if drift else [])

    def apply(self, ctx: Context, action: Action) -> None:
        """Each fix is checked again against what the API answers: a create may meet a pool or provider
        that a lost answer, a concurrent run or an earlier delete left in any state."""
        client = WorkloadIdentityClient(ctx.session, ctx.progress_note)
        project = project_id(ctx)
        if "member" in action.data:
            target = IamClient(ctx.session).service_account_policy(project, account_email(ctx))
            grant(target, [Binding(WORKLOAD_IDENTITY_USER, action.data["member"])])
        elif "/providers/" in action.resource:
            self._converge_provider(ctx, client, project)
        else:
            self._converge_pool(client, project)

    @staticmethod
    def _converge_pool(client: WorkloadIdentityClient, project: str) -> None:
        body = {
            "displayName": defaults.WORKLOAD_IDENTITY_POOL_DISPLAY_NAME,
            "description": MANAGED_DESCRIPTION,
        }
        pool = client.get_pool(project, POOL_ID) or client.create_pool(project, POOL_ID, body)
        if is_deleted(pool):
            client.set_pool_deleted(pool["name"], False)
        if pool.get("disabled"):
            client.update_pool(pool["name"], {"disabled": False}, ["disabled"])

    @staticmethod
    def _converge_provider(ctx: Context, client: WorkloadIdentityClient, project: str) -> None:
        repository = ctx.config.github_repo
        provider = client.get_provider(project, POOL_ID, PROVIDER_ID) or client.create_provider(
            project, POOL_ID, PROVIDER_ID, wanted_provider(repository)
        )
        if is_deleted(provider):
            client.set_provider_deleted(provider["name"], False)
        drift = provider_drift(provider, repository)
        if drift:
            body = {
                **wanted_provider(repository),
                "disabled": False,
                "attributeMapping": {
                    **(provider.get("attributeMapping") or {}),
                    **defaults.GITHUB_ATTRIBUTE_MAPPING,
                },
            }
            client.update_provider(provider["name"], {k: body[k] for k in drift}, drift)

    def describe(self, ctx: Context, state: WorkloadIdentityState) -> str:
        if state.pool is None or pool_fixes(state.pool):
            return f"workload identity pool {POOL_ID} " + (
                "missing" if state.pool is None else "deleted or disabled"
            )
        if state.provider is None or self._provider_fixes(ctx, state.provider):
            return f"provider {PROVIDER_ID} missing or not set up for {ctx.config.github_repo}"
        if state.binding_missing:
            return f"{ctx.config.github_repo} may not impersonate {account_email(ctx)} yet"
        return f"GitHub Actions of {ctx.config.github_repo} can act as {account_email(ctx)} (no key)"

    def outputs(self, ctx: Context, state: WorkloadIdentityState) -> dict[str, Any]:
        return {
            "workload_identity_provider": provider_name(state.number, POOL_ID, PROVIDER_ID),
            "service_account": account_email(ctx),
            "repository": ctx.config.github_repo,
            "member": state.member,
            "pool_exists": state.pool is not None and not is_deleted(state.pool),
            "provider_exists": state.provider is not None and not is_deleted(state.provider),
            "bound": not state.binding_missing,
        }


@dataclass
class TeardownState:
    pool: Resource | None
    """The pool, when gcp-setup made it (its description says so) and it is not deleted yet."""
    provider: Resource | None
    """Likewise the provider."""
    members: list[str]
    """roles/iam.workloadIdentityUser members on the service account to remove."""


class RemoveWorkloadIdentity(Step):
    """`destroy`: the repository's binding on the account (every binding to the pool, when gcp-setup made
    the pool), then the provider and the pool, if gcp-setup created them (soft-deleted: restorable for
    30 days, and `apply` restores them). A pool made by someone else is kept. Runs without --github-repo
    too, so that a plain `destroy` removes what an earlier `apply --github-repo` made."""

    name = "workload_identity"

    def observe(self, ctx: Context) -> TeardownState:
        client = WorkloadIdentityClient(ctx.session, ctx.progress_note)
        project = project_id(ctx)
        try:
            pool = client.get_pool(project, POOL_ID)
        except GoogleApiError as exc:
            if exc.reason == "SERVICE_DISABLED" or project_inactive(ctx):
                return TeardownState(None, None, [])  # no IAM API, or no project: nothing of ours is left
            raise
        if pool is None and ctx.config.github_repo is None:
            return TeardownState(None, None, [])
        provider = client.get_provider(project, POOL_ID, PROVIDER_ID) if pool else None
        pool_set = pool_principal_set(pool["name"].split("/")[1] if pool else project_number(ctx), POOL_ID)
        ours = _managed(pool)
        members = [m for m in self._members(ctx) if m.startswith(pool_set + "/")]
        if not ours:
            repo = ctx.config.github_repo
            members = [m for m in members if repo and m == f"{pool_set}/attribute.repository/{repo}"]
        return TeardownState(pool if ours else None, provider if _managed(provider) else None, members)

    @staticmethod
    def _members(ctx: Context) -> list[str]:
        target = IamClient(ctx.session).service_account_policy(project_id(ctx), account_email(ctx))
        try:
            policy = target.get()
        except GoogleApiError as exc:
            if exc.code in (403, 404):
                return []  # no account: no binding
            raise
        return sorted(unconditional_members(policy, WORKLOAD_IDENTITY_USER))

    def plan(self, ctx: Context, state: TeardownState) -> list[Action]:
        actions = []
        if state.members:
            email = account_email(ctx)
            summary = f"remove {WORKLOAD_IDENTITY_USER} on {email} from {', '.join(state.members)}"
            resource = f"projects/{project_id(ctx)}/serviceAccounts/{email}"
            actions.append(Action("update", resource, summary, {"members": state.members}))
        if state.provider:
            actions.append(Action("delete", state.provider["name"], f"delete provider {PROVIDER_ID}"))
        if state.pool:
            actions.append(Action("delete", state.pool["name"], f"delete workload identity pool {POOL_ID}"))
        return actions

    def apply(self, ctx: Context, action: Action) -> None:
        client = WorkloadIdentityClient(ctx.session, ctx.progress_note)
        if action.kind == "update":
            target = IamClient(ctx.session).service_account_policy(project_id(ctx), account_email(ctx))
            revoke(target, [Binding(WORKLOAD_IDENTITY_USER, m) for m in action.data["members"]])
        elif "/providers/" in action.resource:
            client.set_provider_deleted(action.resource, True)
        else:
            client.set_pool_deleted(action.resource, True)

    def describe(self, ctx: Context, state: TeardownState) -> str:
        return "no workload identity federation of gcp-setup"


def _managed(resource: Resource | None) -> bool:
    return bool(resource) and not is_deleted(resource) and resource.get("description") == MANAGED_DESCRIPTION


def github_actions_snippet(outputs: dict[str, Any]) -> str:
    """The workflow step that authenticates as the service account (what `apply` prints in human mode)."""
    return (
        "GitHub Actions: authenticate with no key (the job needs `permissions: id-token: write`):\n"
        "  - uses: google-github-actions/auth@v2\n"
        "    with:\n"
        f"      workload_identity_provider: {outputs['workload_identity_provider']}\n"
        f"      service_account: {outputs['service_account']}"
    )
