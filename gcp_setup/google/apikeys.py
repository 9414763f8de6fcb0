"""API Keys v2 (google-api-python-client discovery client "apikeys" v2).

Keys are created with a caller-chosen key ID (`keyId`), so the name is known before the key exists
and a re-run finds the key instead of making a second one. Create, patch, delete and undelete answer
long-running operations (`operations/akmf.*`). A deleted key stays for 30 days with `deleteTime` set
and can be undeleted; its ID stays taken meanwhile. A key bound to a service account (an "auth key",
`serviceAccountEmail`, settable only at creation) acts as that account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google.client import Client
from gcp_setup.secrets import Secret

Key = dict[str, Any]


def key_name(project: str, key_id: str) -> str:
    return f"projects/{project}/locations/global/keys/{key_id}"


def api_targets(key: Key) -> set[str]:
    """The services a key is restricted to (an empty set means unrestricted)."""
    return {t.get("service", "") for t in key.get("restrictions", {}).get("apiTargets", [])}


def key_id(key: Key) -> str:
    return key.get("name", "").rsplit("/", 1)[-1]


def is_deleted(key: Key) -> bool:
    return bool(key.get("deleteTime"))


def restrictions_for(services: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {"apiTargets": [{"service": s} for s in services]}


@dataclass
class ApiKeysClient(Client):
    def _api(self, path: str) -> Any:
        return self.session.discovery("apikeys", "v2", path)

    def _keys(self) -> Any:
        return self._api("projects.locations.keys")

    def _wait(self, operation: dict[str, Any], what: str) -> Key:
        """The finished operation's response: the key. A create's also carries the key string
        (https://cloud.google.com/api-keys/docs/create-manage-api-keys): kept in the key as a Secret
        (`keyString`), so that no getKeyString is needed for it and nothing prints it."""
        operations = self._api("operations")
        key = self.wait_operation(operation, lambda name: operations.get(name=name), what).get("response", {})
        key.pop("@type", None)
        if key.get("keyString"):
            key["keyString"] = Secret(key["keyString"])
        return key

    def get(self, project: str, key_id: str) -> Key | None:
        """The key, or None when there is none with this ID. A key deleted within the last 30 days
        is not found by get; it is looked for among the deleted ones and returned with `deleteTime`."""
        try:
            return self.execute(self._keys().get(name=key_name(project, key_id)))
        except GoogleApiError as exc:
            if exc.code != 404:
                raise
        return next((k for k in self.list(project) if k["name"].endswith(f"/keys/{key_id}")), None)

    def lookup(self, key_string: str) -> str:
        """The name of the key whose string this is (keys.lookupKey: any caller may ask)."""
        return self.execute(self._api("keys").lookupKey(keyString=key_string))["name"]

    def get_by_name(self, name: str) -> Key:
        """The key named `name` (projects/N/locations/global/keys/ID): needs access to its project."""
        return self.execute(self._keys().get(name=name))

    def list(self, project: str) -> list[Key]:
        """Every key of the project, the deleted ones (whose IDs stay taken for 30 days) included."""
        parent = f"projects/{project}/locations/global"
        keys: list[Key] = []
        page_token = None
        while True:
            request = self._keys().list(parent=parent, showDeleted=True, pageToken=page_token)
            response = self.execute(request)
            keys += response.get("keys", [])
            page_token = response.get("nextPageToken")
            if not page_token:
                return keys

    def create(
        self,
        project: str,
        key_id: str,
        display_name: str,
        services: tuple[str, ...],
        service_account: str | None = None,
    ) -> Key:
        """Create the key restricted to `services` (bound to `service_account` when given); returns the
        key (its keyString goes to the session)."""
        body: Key = {"displayName": display_name, "restrictions": restrictions_for(services)}
        if service_account:
            body["serviceAccountEmail"] = service_account
        request = self._keys().create(parent=f"projects/{project}/locations/global", keyId=key_id, body=body)
        try:
            return self._wait(self.execute(request), f"creating API key {key_id}")
        except GoogleApiError as exc:
            existing = self.get(project, key_id) if exc.code == 409 else None
            if existing is None:  # not "already exists", or deleted again in between
                raise
            return existing  # an earlier attempt whose answer was lost, or a concurrent run

    def set_restrictions(self, key: Key, services: tuple[str, ...]) -> Key:
        """Patch only the restrictions (a display name the owner changed stays)."""
        body = {"restrictions": restrictions_for(services)}
        request = self._keys().patch(name=key["name"], updateMask="restrictions", body=body)
        return self._wait(self.execute(request), "restricting the API key")

    def undelete(self, key: Key) -> Key:
        return self._wait(
            self.execute(self._keys().undelete(name=key["name"], body={})), "undeleting the API key"
        )

    def key_string(self, name: str) -> Secret:
        """getKeyString: the string of the key `name` (callers take it from the key's creation or a
        .env that vouches for it first, to spare this read)."""
        return Secret(self.execute(self._keys().getKeyString(name=name))["keyString"])

    def delete(self, key: Key) -> None:
        """Soft-delete the key; one already deleted (a retry whose first answer was lost) is fine."""
        try:
            self._wait(self.execute(self._keys().delete(name=key["name"])), "deleting the API key")
        except GoogleApiError as exc:
            if exc.code != 404:
                raise
