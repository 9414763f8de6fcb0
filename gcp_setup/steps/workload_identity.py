"""Workload Identity Federation for CI (opt-in: --github-repo OWNER/REPO, --gitlab-project GROUP/PROJECT):
CI without keys. One step per CI system (gcp_setup/google/federations.py says its pool, provider, mapping and
condition), the same code for each.

Observed (three reads when all is in place): the pool, its OIDC provider, and the service account's own
IAM policy. Planned, each only when needed:
- create the pool, or adopt one that exists (made with gcloud, by Terraform), or undelete it;
- create the provider for the CI system's issuer (or adopt / undelete it), with its attribute mapping and
  the condition that the token comes from that repository or project (the issuers are shared by every
  customer; Google refuses such a provider without one), and for a self-managed GitLab the issuer's keys
  inline (oidc.jwksJson); a provider with another issuer, keys, mapping or condition is patched;
- grant roles/iam.workloadIdentityUser on the service account to
  principalSet://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/
  attribute.ATTRIBUTE/SUBJECT (etag-guarded read-modify-write of the account's policy).
A job then authenticates with the provider and the account, no secret involved. Same IDs, mapping and
condition as the Terraform module's WIF resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google.federations import GITHUB, GITLAB, Federation
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
from gcp_setup.steps.service_account import MANAGED_DESCRIPTION, account_email

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


def wanted_provider(federation: Federation, config: Any) -> Resource:
    subject = federation.subject(config)
    assert subject is not None  # a provider is wanted only for a subject
    oidc = {"issuerUri": federation.issuer(config)}
    if jwks := federation.jwks(config):
        oidc["jwksJson"] = jwks
    return {
        "displayName": federation.provider_display_name,
        "description": MANAGED_DESCRIPTION,
        "oidc": oidc,
        "attributeMapping": dict(federation.mapping),
        "attributeCondition": federation.condition(subject),
    }


def provider_drift(federation: Federation, config: Any, provider: Resource) -> list[str]:
    """The provider fields that differ from ours (other attributes in the mapping may stay)."""
    wanted = wanted_provider(federation, config)
    drift = ["disabled"] if provider.get("disabled") else []
    oidc = provider.get("oidc") or {}
    if any(oidc.get(k) != wanted["oidc"].get(k) for k in ("issuerUri", "jwksJson")):
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


def project_number(ctx: Context) -> str:
    """The project step's answer (in destroy, which runs no such step: one read)."""
    number = ctx.output("project", "number") if "project" in ctx.reads else None
    if number:
        return str(number)
    info = ResourceManagerClient(ctx.session).get_project(ctx.config.project)
    return info.number if info else "NUMBER"


@dataclass
class WorkloadIdentityState:
    pool: Resource | None
    provider: Resource | None
    member: str
    binding_missing: bool
    number: str


class WorkloadIdentityStep(Step):
    """GitHub Actions (--github-repo); GitlabIdentityStep below is the same for GitLab CI."""

    federation = GITHUB
    name = GITHUB.step
    depends_on = ("project", "services", "service_account")
    reads = {"project": ("number",), "services": ("enabled_now",)}

    def enabled(self, config: Any) -> bool:
        return self.federation.subject(config) is not None

    def _subject(self, ctx: Context) -> str:
        subject = self.federation.subject(ctx.config)
        assert subject is not None  # the step is enabled only with one
        return subject

    def observe(self, ctx: Context) -> WorkloadIdentityState:
        client = WorkloadIdentityClient(ctx.session, ctx.progress_note)
        project = ctx.config.project
        number = project_number(ctx)
        fed = self.federation
        pool = client.get_pool(project, fed.pool_id)
        provider = client.get_provider(project, fed.pool_id, fed.provider_id) if pool else None
        member = fed.member(number, self._subject(ctx))
        policy = IamClient(ctx.session).service_account_policy(project, account_email(ctx)).get()
        binding_missing = bool(missing(policy, [Binding(WORKLOAD_IDENTITY_USER, member)]))
        return WorkloadIdentityState(pool, provider, member, binding_missing, number)

    def absent_state(self, ctx: Context) -> WorkloadIdentityState:
        number = str(ctx.output("project", "number") or "NUMBER")
        return WorkloadIdentityState(
            None, None, self.federation.member(number, self._subject(ctx)), True, number
        )

    def plan(self, ctx: Context, state: WorkloadIdentityState) -> list[Action]:
        pool_id, provider_id = self.federation.pool_id, self.federation.provider_id
        pool_resource = f"projects/{state.number}/locations/global/workloadIdentityPools/{pool_id}"
        provider_resource = provider_name(state.number, pool_id, provider_id)
        actions = []
        if state.pool is None:
            actions.append(Action("create", pool_resource, f"create workload identity pool {pool_id}"))
        elif pool_fixes(state.pool):
            summary = f"{' and '.join(pool_fixes(state.pool))} workload identity pool {pool_id}"
            actions.append(Action("update", pool_resource, summary))
        fixes = self._provider_fixes(ctx, state.provider)
        if state.provider is None:
            summary = (
                f"create OIDC provider {provider_id} for {self._subject(ctx)} ({self._issuer_note(ctx)})"
            )
            actions.append(Action("create", provider_resource, summary))
        elif fixes:
            actions.append(
                Action("update", provider_resource, f"{' and '.join(fixes)} provider {provider_id}")
            )
        if state.binding_missing:
            summary = f"grant {WORKLOAD_IDENTITY_USER} on {account_email(ctx)} to {state.member}"
            actions.append(
                Action(
                    "update",
                    f"projects/{ctx.config.project}/serviceAccounts/{account_email(ctx)}",
                    summary,
                    {"member": state.member},
                )
            )
        return actions

    def _issuer_note(self, ctx: Context) -> str:
        keys = ", its keys inline" if self.federation.jwks(ctx.config) else ""
        return f"issuer {self.federation.issuer(ctx.config)}{keys}"

    def _provider_fixes(self, ctx: Context, provider: Resource | None) -> list[str]:
        if provider is None:
            return []
        fixes = ["undelete"] if is_deleted(provider) else []
        drift = provider_drift(self.federation, ctx.config, provider)
        if "disabled" in drift:
            fixes.append("enable")
            drift.remove("disabled")
        return fixes + ([f"set {', '.join(drift)} of"] if drift else [])

    def apply(self, ctx: Context, action: Action) -> None:
        """Each fix is checked again against what the API answers: a create may meet a pool or provider
        that a lost answer, a concurrent run or an earlier delete left in any state."""
        client = WorkloadIdentityClient(ctx.session, ctx.progress_note)
        project = ctx.config.project
        if "member" in action.data:
            target = IamClient(ctx.session).service_account_policy(project, account_email(ctx))
            grant(target, [Binding(WORKLOAD_IDENTITY_USER, action.data["member"])])
        elif "/providers/" in action.resource:
            self._converge_provider(ctx, client, project)
        else:
            self._converge_pool(client, project)

    def _converge_pool(self, client: WorkloadIdentityClient, project: str) -> None:
        pool_id = self.federation.pool_id
        body = {"displayName": self.federation.pool_display_name, "description": MANAGED_DESCRIPTION}
        pool = client.get_pool(project, pool_id) or client.create_pool(project, pool_id, body)
        if is_deleted(pool):
            client.set_pool_deleted(pool["name"], False)
        if pool.get("disabled"):
            client.update_pool(pool["name"], {"disabled": False}, ["disabled"])

    def _converge_provider(self, ctx: Context, client: WorkloadIdentityClient, project: str) -> None:
        fed = self.federation
        wanted = wanted_provider(fed, ctx.config)
        provider = client.get_provider(project, fed.pool_id, fed.provider_id) or client.create_provider(
            project, fed.pool_id, fed.provider_id, wanted
        )
        if is_deleted(provider):
            client.set_provider_deleted(provider["name"], False)
        drift = provider_drift(fed, ctx.config, provider)
        if drift:
            body = {
                **wanted,
                "disabled": False,
                "attributeMapping": {**(provider.get("attributeMapping") or {}), **fed.mapping},
            }
            client.update_provider(provider["name"], {k: body[k] for k in drift}, drift)

    def describe(self, ctx: Context, state: WorkloadIdentityState) -> str:
        fed, subject = self.federation, self._subject(ctx)
        if state.pool is None or pool_fixes(state.pool):
            return f"workload identity pool {fed.pool_id} " + (
                "missing" if state.pool is None else "deleted or disabled"
            )
        if state.provider is None or self._provider_fixes(ctx, state.provider):
            return f"provider {fed.provider_id} missing or not set up for {subject}"
        if state.binding_missing:
            return f"{subject} may not impersonate {account_email(ctx)} yet"
        return f"{fed.label} of {subject} can act as {account_email(ctx)} (no key)"

    def outputs(self, ctx: Context, state: WorkloadIdentityState) -> dict[str, Any]:
        return {
            "workload_identity_provider": provider_name(
                state.number, self.federation.pool_id, self.federation.provider_id
            ),
            "service_account": account_email(ctx),
            "project_id": ctx.config.project,
            self.federation.attribute: self._subject(ctx),
            "member": state.member,
            "pool_exists": state.pool is not None and not is_deleted(state.pool),
            "provider_exists": state.provider is not None and not is_deleted(state.provider),
            "bound": not state.binding_missing,
        }


class GitlabIdentityStep(WorkloadIdentityStep):
    """GitLab CI (--gitlab-project, --gitlab-issuer, --gitlab-jwks)."""

    federation = GITLAB
    name = GITLAB.step


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
    too, so that a plain `destroy` removes what an earlier `apply --github-repo` made. RemoveGitlabIdentity
    does the same for GitLab CI."""

    federation = GITHUB
    name = GITHUB.step

    def observe(self, ctx: Context) -> TeardownState:
        client = WorkloadIdentityClient(ctx.session, ctx.progress_note)
        project = ctx.config.project
        fed = self.federation
        try:
            pool = client.get_pool(project, fed.pool_id)
        except GoogleApiError as exc:
            if exc.reason == "SERVICE_DISABLED" or project_inactive(ctx):
                return TeardownState(None, None, [])  # no IAM API, or no project: nothing of ours is left
            raise
        subject = fed.subject(ctx.config)
        if pool is None and subject is None:
            return TeardownState(None, None, [])
        provider = client.get_provider(project, fed.pool_id, fed.provider_id) if pool else None
        number = pool["name"].split("/")[1] if pool else project_number(ctx)
        pool_set = pool_principal_set(number, fed.pool_id)
        ours = _managed(pool)
        members = [m for m in self._members(ctx) if m.startswith(pool_set + "/")]
        if not ours:
            members = [m for m in members if subject and m == fed.member(number, subject)]
        return TeardownState(pool if ours else None, provider if _managed(provider) else None, members)

    @staticmethod
    def _members(ctx: Context) -> list[str]:
        target = IamClient(ctx.session).service_account_policy(ctx.config.project, account_email(ctx))
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
            resource = f"projects/{ctx.config.project}/serviceAccounts/{email}"
            actions.append(Action("update", resource, summary, {"members": state.members}))
        if state.provider:
            summary = f"delete provider {self.federation.provider_id}"
            actions.append(Action("delete", state.provider["name"], summary))
        if state.pool:
            summary = f"delete workload identity pool {self.federation.pool_id}"
            actions.append(Action("delete", state.pool["name"], summary))
        return actions

    def apply(self, ctx: Context, action: Action) -> None:
        client = WorkloadIdentityClient(ctx.session, ctx.progress_note)
        if action.kind == "update":
            target = IamClient(ctx.session).service_account_policy(ctx.config.project, account_email(ctx))
            revoke(target, [Binding(WORKLOAD_IDENTITY_USER, m) for m in action.data["members"]])
        elif "/providers/" in action.resource:
            client.set_provider_deleted(action.resource, True)
        else:
            client.set_pool_deleted(action.resource, True)

    def describe(self, ctx: Context, state: TeardownState) -> str:
        return f"no workload identity federation of gcp-setup for {self.federation.label}"


class RemoveGitlabIdentity(RemoveWorkloadIdentity):
    federation = GITLAB
    name = GITLAB.step


def _managed(resource: Resource | None) -> bool:
    return (
        resource is not None
        and bool(resource)
        and not is_deleted(resource)
        and resource.get("description") == MANAGED_DESCRIPTION
    )
