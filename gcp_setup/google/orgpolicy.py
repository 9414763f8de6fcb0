"""Organization Policy v2 (google-api-python-client discovery client "orgpolicy" v2): the effective
policy of a constraint on a project, folder or organization, as Google computes it from the policies
set on the resource and its ancestors (and the constraint's default).

    OrgPolicyClient(session).enforced("projects/p", "iam.managed.disableServiceAccountApiKeyCreation")
"""

from __future__ import annotations

from dataclasses import dataclass

from gcp_setup.google.client import Client


@dataclass
class OrgPolicyClient(Client):
    def enforced(self, resource: str, constraint: str, bills: str | None) -> bool:
        """Whether `constraint` is enforced on `resource` (projects/P, folders/F or organizations/O): a
        rule of its effective policy enforces it without a condition. Org Policy is client-based: the
        request bills `bills` (quota_projects.py; the billing project wins when there is one)."""
        policies = self.session.discovery("orgpolicy", "v2", f"{resource.split('/', 1)[0]}.policies")
        request = policies.getEffectivePolicy(name=f"{resource}/policies/{constraint}")
        policy = self.execute(self.billed(request, bills))
        rules = policy.get("spec", {}).get("rules", [])
        return any(rule.get("enforce") and not rule.get("condition") for rule in rules)


def lift_command(project: str, constraint: str) -> str:
    """The gcloud line an organization policy administrator runs to lift `constraint` on one project:
    a project policy that resets it to the constraint's default (not enforced), overriding the
    organization's."""
    return f"gcloud org-policies reset {constraint} --project={project}"
