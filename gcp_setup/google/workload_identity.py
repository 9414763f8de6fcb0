"""IAM v1 Workload Identity Federation: pools and OIDC providers (google-api-python-client discovery "iam").

Every write answers a long-running operation, waited for here. Google deletes pools and providers
softly: a deleted one keeps its ID for 30 days (create answers 409 ALREADY_EXISTS) and comes back with
undelete, so `create_*` adopt what already exists, deleted or not, and the caller undeletes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google.client import Client

Resource = dict[str, Any]
DELETED = "DELETED"


def pool_name(project: str, pool_id: str) -> str:
    """`project` may be the ID or the number; Google answers names with the number."""
    return f"projects/{project}/locations/global/workloadIdentityPools/{pool_id}"


def provider_name(project: str, pool_id: str, provider_id: str) -> str:
    return f"{pool_name(project, pool_id)}/providers/{provider_id}"


def pool_principal_set(project_number: str, pool_id: str) -> str:
    """The member prefix of the pool's identities, e.g. principalSet://.../github/attribute.repository/o/r."""
    return f"principalSet://iam.googleapis.com/{pool_name(project_number, pool_id)}"


def is_deleted(resource: Resource | None) -> bool:
    return resource is not None and bool(resource) and resource.get("state") == DELETED


@dataclass
class WorkloadIdentityClient(Client):
    def _pools(self, below: str = "") -> Any:
        path = "projects.locations.workloadIdentityPools" + (f".{below}" if below else "")
        return self.session.discovery("iam", "v1", path)

    def _wait(self, operation: Resource, what: str) -> Resource:
        """Wait for a pool's or a provider's operation, polled through that resource's operations.get."""
        owner = "providers.operations" if "/providers/" in operation["name"] else "operations"
        operations = self._pools(owner)
        return self.wait_operation(operation, lambda name: operations.get(name=name), what)

    def _get(self, request: Any) -> Resource | None:
        try:
            return self.execute(request)
        except GoogleApiError as exc:
            if exc.code == 404:
                return None
            raise

    # -- pools ------------------------------------------------------------------------------------
    def get_pool(self, project: str, pool_id: str) -> Resource | None:
        """The pool (state ACTIVE or DELETED), or None when there is none."""
        return self._get(self._pools().get(name=pool_name(project, pool_id)))

    def create_pool(self, project: str, pool_id: str, body: Resource) -> Resource:
        """Create the pool; one that exists already (409, maybe soft-deleted) is returned as it is."""
        request = self._pools().create(
            parent=f"projects/{project}/locations/global", workloadIdentityPoolId=pool_id, body=body
        )
        return self._create(request, lambda: self.get_pool(project, pool_id), f"creating pool {pool_id}")

    def update_pool(self, name: str, body: Resource, fields: list[str]) -> None:
        request = self._pools().patch(name=name, updateMask=",".join(fields), body=body)
        self._wait(self.execute(request), f"updating {name}")

    def set_pool_deleted(self, name: str, deleted: bool) -> None:
        verb = self._pools().delete(name=name) if deleted else self._pools().undelete(name=name, body={})
        self._change_state(verb, f"{'deleting' if deleted else 'restoring'} {name}")

    # -- providers --------------------------------------------------------------------------------
    def get_provider(self, project: str, pool_id: str, provider_id: str) -> Resource | None:
        return self._get(self._pools("providers").get(name=provider_name(project, pool_id, provider_id)))

    def create_provider(self, project: str, pool_id: str, provider_id: str, body: Resource) -> Resource:
        """Create the provider; one that exists already (409, maybe soft-deleted) is returned as it is."""
        request = self._pools("providers").create(
            parent=pool_name(project, pool_id), workloadIdentityPoolProviderId=provider_id, body=body
        )
        return self._create(
            request,
            lambda: self.get_provider(project, pool_id, provider_id),
            f"creating provider {provider_id}",
        )

    def update_provider(self, name: str, body: Resource, fields: list[str]) -> None:
        request = self._pools("providers").patch(name=name, updateMask=",".join(fields), body=body)
        self._wait(self.execute(request), f"updating {name}")

    def set_provider_deleted(self, name: str, deleted: bool) -> None:
        providers = self._pools("providers")
        verb = providers.delete(name=name) if deleted else providers.undelete(name=name, body={})
        self._change_state(verb, f"{'deleting' if deleted else 'restoring'} {name}")

    # -- shared -----------------------------------------------------------------------------------
    def _create(self, request: Any, get: Callable[[], Resource | None], what: str) -> Resource:
        try:
            self._wait(self.execute(request), what)
        except GoogleApiError as exc:
            if exc.code != 409:
                raise
        created = get()
        if created is None:  # purged or deleted for good in between: the next run creates it
            raise GoogleApiError(f"{what}: it exists and vanished; run again", code=409)
        return created

    def _change_state(self, request: Any, what: str) -> None:
        """Delete or undelete; "already so" (a retried call whose first answer was lost) is fine."""
        try:
            self._wait(self.execute(request), what)
        except GoogleApiError as exc:
            if exc.code != 404 and exc.status != "FAILED_PRECONDITION":
                raise
