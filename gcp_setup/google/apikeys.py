"""API Keys v2 (google-api-python-client discovery client "apikeys" v2).

Keys are created with a caller-chosen key ID (`keyId`), so the name is known before the key exists
and a re-run finds the key instead of making a second one. Create, patch, delete and undelete answer
long-running operations (`operations/akmf.*`). A deleted key stays for 30 days with `deleteTime` set
and can be undeleted; its ID stays taken meanwhile. A key bound to a service account (an "auth key",
`serviceAccountEmail`, settable only at creation) acts as that account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google.client import Client
from gcp_setup.secrets.secret import Secret

Key = dict[str, Any]


def key_name(project: str, key_id: str) -> str:
    return f"projects/{project}/locations/global/keys/{key_id}"


def api_targets(key: Key) -> set[str]:
    """The services a key is restricted to (an empty set means unrestricted)."""
    return {t.get("service", "") for t in key.get("restrictions", {}).get("apiTargets", [])}


def project_of(name: str) -> str:
    """projects/P/locations/global/keys/K -> P (an ID or a number)."""
    return name.split("/")[1]


def key_id(key: Mapping[str, Any]) -> str:
    name: str = key.get("name", "")
    return name.rsplit("/", 1)[-1]


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

    def _send(self, request: Any, project: str | None) -> dict[str, Any]:
        """API Keys is client-based: each request bills the project it is about (quota_projects.py)."""
        return self.execute(self.billed(request, project))

    def _wait(self, request: Any, project: str, what: str) -> Key:
        """Send `request` and wait for its operation; the finished operation's response: the key. A
        create's also carries the key string (https://cloud.google.com/api-keys/docs/create-manage-api-keys):
        kept in the key as a Secret (`keyString`), so that no getKeyString is needed for it and nothing
        prints it."""
        operations = self._api("operations")

        def poll(name: str) -> Any:
            return self.billed(operations.get(name=name), project)

        key: Key = self.wait_operation(self._send(request, project), poll, what).get("response", {})
        key.pop("@type", None)
        if key.get("keyString"):
            key["keyString"] = Secret(key["keyString"])
        return key

    def get(self, project: str, key_id: str) -> Key | None:
        """The key, or None when there is none with this ID. A key deleted within the last 30 days
        is not found by get; it is looked for among the deleted ones and returned with `deleteTime`."""
        try:
            return self._send(self._keys().get(name=key_name(project, key_id)), project)
        except GoogleApiError as exc:
            if exc.code != 404:
                raise
        return next((k for k in self.list(project) if k["name"].endswith(f"/keys/{key_id}")), None)

    def lookup(self, key_string: str, project: str | None) -> str:
        """The name of the key whose string this is (keys.lookupKey: any caller may ask; the request bills
        `project`, the one the caller works on)."""
        name: str = self._send(self._api("keys").lookupKey(keyString=key_string), project)["name"]
        return name

    def get_by_name(self, name: str) -> Key:
        """The key named `name` (projects/N/locations/global/keys/ID): needs access to its project."""
        return self._send(self._keys().get(name=name), project_of(name))

    def list(self, project: str) -> list[Key]:
        """Every key of the project, the deleted ones (whose IDs stay taken for 30 days) included."""
        parent = f"projects/{project}/locations/global"
        keys: list[Key] = []
        page_token = None
        while True:
            request = self._keys().list(parent=parent, showDeleted=True, pageToken=page_token)
            response = self._send(request, project)
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
            return self._wait(request, project, f"creating API key {key_id}")
        except GoogleApiError as exc:
            existing = self.get(project, key_id) if exc.code == 409 else None
            if existing is None:  # not "already exists", or deleted again in between
                raise
            return existing  # an earlier attempt whose answer was lost, or a concurrent run

    def set_restrictions(self, key: Key, services: tuple[str, ...]) -> Key:
        """Patch only the restrictions (a display name the owner changed stays)."""
        body = {"restrictions": restrictions_for(services)}
        request = self._keys().patch(name=key["name"], updateMask="restrictions", body=body)
        return self._wait(request, project_of(key["name"]), "restricting the API key")

    def undelete(self, key: Key) -> Key:
        request = self._keys().undelete(name=key["name"], body={})
        return self._wait(request, project_of(key["name"]), "undeleting the API key")

    def key_string(self, name: str) -> Secret:
        """getKeyString: the string of the key `name` (callers take it from the key's creation or a
        .env that vouches for it first, to spare this read)."""
        request = self._keys().getKeyString(name=name)
        return Secret(self._send(request, project_of(name))["keyString"])

    def delete(self, key: Key) -> None:
        """Soft-delete the key; one already deleted (a retry whose first answer was lost) is fine."""
        try:
            request = self._keys().delete(name=key["name"])
            self._wait(request, project_of(key["name"]), "deleting the API key")
        except GoogleApiError as exc:
            if exc.code != 404:
                raise
