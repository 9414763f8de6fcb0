"""Step: may API keys be bound to service accounts here? Checked before anything is written.

Google's managed constraint iam.managed.disableServiceAccountApiKeyCreation forbids binding keys, and
Google enforces it by default in organizations; a project outside any organization is not affected
(nothing is read). Org Policy is client-based: with a user's credentials the read bills
--billing-project when given, else the project itself once it exists. Org Policy is not among the APIs
gcp-setup enables (a project need not serve it for the key to be made), so where neither can bill the
read (a project still to be created, or one where the API is off) the check is skipped with a warning
that names --billing-project, and the run goes on: Google refuses a forbidden key at its creation. A
key restricted to the Gemini API alone is exempt (Google's notice on auth keys,
quoted in googleapis/python-genai#2391), so the constraint stops the Vertex AI express key, never the
Gemini API key. Inside an organization, when this run must bind such a key, the effective policy is
read (on the project, or on the parent a new project will get) and, if it is enforced, `plan` fails
its precondition: the engine then writes nothing at all, rather than a project whose key cannot be made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gcp_setup import defaults
from gcp_setup.errors import GoogleApiError
from gcp_setup.google import orgpolicy
from gcp_setup.google.apikeys import ApiKeysClient
from gcp_setup.google.orgpolicy import OrgPolicyClient
from gcp_setup.steps.api_key import ApiKeyStep, ExpressKeyStep
from gcp_setup.steps.base import Action, Context, PreconditionFailed, Step

CONSTRAINT = defaults.KEY_BINDING_CONSTRAINT


@dataclass
class KeyPolicyState:
    resource: str | None
    """Where the effective policy was read; None: the project is in no organization."""
    enforced: bool = False
    to_bind: list[str] = field(default_factory=list)
    """The keys this run must create bound to the service account (what the constraint forbids)."""
    unchecked: str = ""
    """Why the policy could not be read (no project to bill the read); "" when it was."""


class KeyPolicyStep(Step):
    name = "key_policy"
    depends_on = ("project",)
    reads = {"project": ("parent", "number")}

    def enabled(self, config: Any) -> bool:
        return bool(config.binds_keys)

    def observe(self, ctx: Context) -> KeyPolicyState:
        parent = ctx.output("project", "parent") or ctx.config.parent
        if not parent or not _constrained_steps(ctx):
            return KeyPolicyState(None)
        exists = ctx.output("project", "number") is not None
        resource = f"projects/{ctx.config.project}" if exists else parent
        bills = ctx.config.project if exists else None
        if not ctx.session.can_bill("orgpolicy", bills):
            return _unchecked(ctx, resource, "the project does not exist yet")
        try:
            enforced = OrgPolicyClient(ctx.session).enforced(resource, CONSTRAINT, bills)
        except GoogleApiError as exc:
            if exc.reason != "SERVICE_DISABLED" or ctx.config.billing_project:
                raise
            return _unchecked(ctx, resource, f"the Org Policy API is off in {ctx.config.project}")
        if not enforced:
            return KeyPolicyState(resource)
        keys = ApiKeysClient(ctx.session).list(ctx.config.project) if exists else []
        return KeyPolicyState(resource, True, _keys_to_bind(ctx, keys))

    def plan(self, ctx: Context, state: KeyPolicyState) -> list[Action]:
        if state.enforced and state.to_bind and state.resource:
            project = ctx.config.project
            lift = f"`{orgpolicy.lift_command(project, CONSTRAINT)}`"
            if not state.resource.startswith("projects/"):  # the project is still to be created
                lift = f"once the project exists (apply without --vertex-express creates it): {lift}"
            raise PreconditionFailed(
                f"the organization policy constraint {CONSTRAINT} is enforced on {state.resource}: it "
                f"forbids binding API keys to service accounts, and this run must create "
                f"{' and '.join(state.to_bind)}",
                hint=f"an organization policy administrator (roles/orgpolicy.policyAdmin) can lift it for "
                f"this project {lift}; or go without the express key: drop --vertex-express, and reach "
                "Vertex AI through your ADC (--credentials impersonate) or Workload Identity Federation "
                "(--github-repo)",
            )
        return []

    def describe(self, ctx: Context, state: KeyPolicyState) -> str:
        if state.unchecked:
            return state.unchecked
        if state.resource is None:
            return "no organization policy applies to the keys this run binds"
        if not state.enforced:
            return f"{CONSTRAINT} is not enforced on {state.resource}"
        return f"{CONSTRAINT} is enforced on {state.resource}; no new bound key is needed"


def _unchecked(ctx: Context, resource: str, why: str) -> KeyPolicyState:
    """The policy is not read: `why` nothing can bill the read. Said once as a warning."""
    message = (
        f"warning: {CONSTRAINT} on {resource} not checked: {why}, and Org Policy bills the caller's "
        "project with user credentials; pass --billing-project ID (a project of yours where "
        "orgpolicy.googleapis.com is on) to check it before anything is created"
    )
    ctx.progress_note(message)
    return KeyPolicyState(resource, unchecked=message.removeprefix("warning: "))


def _constrained_steps(ctx: Context) -> list[ApiKeyStep]:
    """The enabled key steps whose keys the constraint forbids: bound, and not restricted to the Gemini
    API alone."""
    steps = [step for step in (ApiKeyStep(), ExpressKeyStep()) if step.enabled(ctx.config)]
    return [
        s for s in steps if s.bound_to(ctx.config) and s.spec.targets != (defaults.GENERATIVE_LANGUAGE_API,)
    ]


def _keys_to_bind(ctx: Context, keys: list[dict[str, Any]]) -> list[str]:
    """What those steps would create, judged from the project's `keys`."""
    needed = []
    for step in _constrained_steps(ctx):
        state = step.sort(ctx, [k for k in keys if step.spec.number(k) is not None])
        if state.key is None:
            needed.append(f"the {step.spec.what} {state.name.rsplit('/', 1)[-1]}")
    return needed
