"""API Keys v2 state: keys, their restrictions, soft deletion. No HTTP here.

Keys are named with the project NUMBER (`projects/123456789012/locations/global/keys/ID`), whichever form
of the project the caller used, as Google does. A key is *standard* (its string starts "AIza") or *bound* to
a service account at creation (`serviceAccountEmail`; an auth key, its string starts "AQ.").
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import secrets
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.times import rfc3339
from gcp_setup.emulator.core.world import Backend, World, backend
from gcp_setup.emulator.iam.models import ServiceAccount
from gcp_setup.emulator.resourcemanager.models import Project

KEY_TYPE_URL = "type.googleapis.com/google.api.apikeys.v2.Key"
_KEY_ID = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_UUID_LIKE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KEY_CHARS = string.ascii_letters + string.digits + "-_"
MUTABLE_FIELDS = ("displayName", "restrictions", "annotations")


def new_key_string(*, bound: bool) -> str:
    """Shaped as Google's: a standard key is "AIza" and 35 URL-safe characters; an auth key starts "AQ."."""
    if bound:
        return guesses.AUTH_KEY_PREFIX + _random_chars(guesses.AUTH_KEY_BODY_LENGTH)
    return "AIza" + _random_chars(35)


def _random_chars(n: int) -> str:
    return "".join(secrets.choice(_KEY_CHARS) for _ in range(n))


def validate_key_id(key_id: str) -> None:
    if not _KEY_ID.match(key_id) or _UUID_LIKE.match(key_id):
        raise errors.InvalidArgument(
            f"Invalid key id: '{key_id}'. It must match the regular expression "
            "[a-z]([a-z0-9-]{0,61}[a-z0-9])? and must not be a UUID.",
            reason="INVALID_ARGUMENT",
            domain="apikeys.googleapis.com",
        )


@dataclass
class Key:
    project_number: str
    key_id: str
    uid: str
    key_string: str
    create_time: float
    update_time: float
    display_name: str = ""
    restrictions: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    service_account_email: str = ""
    service_account_uid: str = ""
    """The bound account's unique ID: the key keeps acting for that account, not for a later one of the same
    email."""
    delete_time: float | None = None

    @property
    def deleted(self) -> bool:
        return self.delete_time is not None

    @property
    def bound(self) -> bool:
        return bool(self.service_account_email)

    @property
    def parent(self) -> str:
        return f"projects/{self.project_number}/locations/global"

    @property
    def name(self) -> str:
        return f"{self.parent}/keys/{self.key_id}"

    @property
    def etag(self) -> str:
        """Weak and base64, as Google's: changes with every update."""
        digest = hashlib.sha256(f"{self.uid}|{self.update_time}|{self.delete_time}".encode()).digest()
        return 'W/"' + base64.b64encode(digest[:16]).decode() + '"'

    @property
    def targets(self) -> list[str]:
        """The services the key's API restrictions name; empty when the key has no API restriction."""
        return [t.get("service", "") for t in self.restrictions.get("apiTargets") or []]

    def allows_service(self, service: str) -> bool:
        """Whether the key's API restrictions (if any) let it call `service`."""
        return not self.targets or service in self.targets

    def to_json(self, *, with_key_string: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "uid": self.uid,
            "createTime": rfc3339(self.create_time),
            "updateTime": rfc3339(self.update_time),
            "etag": self.etag,
        }
        if self.display_name:
            out["displayName"] = self.display_name
        if self.restrictions:
            out["restrictions"] = copy.deepcopy(self.restrictions)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.service_account_email:
            out["serviceAccountEmail"] = self.service_account_email
        if self.delete_time is not None:
            out["deleteTime"] = rfc3339(self.delete_time)
        if with_key_string:
            out["keyString"] = self.key_string
        return out

    def to_state(self) -> dict[str, Any]:
        return copy.deepcopy(vars(self))


def check_etag(key: Key, etag: str | None) -> None:
    """An etag sent with an update or a delete must be the key's current one (the Key.etag description)."""
    if etag and etag != key.etag:
        raise guesses.stale_key_etag(etag, key.name)


def key_not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"Key {name} not found.",
        reason="KEY_NOT_FOUND",
        domain="apikeys.googleapis.com",
    )


@backend
class ApiKeysBackend(Backend):
    name = "apikeys"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.keys: dict[tuple[str, str], Key] = {}
        """(project number, key id) -> key"""

    # -- lookups -------------------------------------------------------------------------------------
    def by_key_string(self, key_string: str) -> Key | None:
        """For data-plane APIs: the key behind `key_string`, deleted or not (check `key.deleted`)."""
        return next((k for k in self.keys.values() if k.key_string == key_string), None)

    def in_project(self, project: Project, *, show_deleted: bool = False) -> list[Key]:
        keys = [k for (number, _), k in self.keys.items() if number == project.number]
        return sorted((k for k in keys if show_deleted or not k.deleted), key=lambda k: k.create_time)

    def get(self, project: Project, key_id: str, *, deleted_ok: bool = False) -> Key:
        key = self.keys.get((project.number, key_id))
        if key is None or (key.deleted and not deleted_ok):
            raise key_not_found(f"projects/{project.number}/locations/global/keys/{key_id}")
        return key

    # -- changes -------------------------------------------------------------------------------------
    def create(
        self,
        project: Project,
        key_id: str | None,
        fields: dict[str, Any],
        account: ServiceAccount | None = None,
    ) -> Key:
        """`account`: the service account the key is bound to, which the caller has checked it may bind."""
        uid = str(uuid.UUID(int=secrets.randbits(128), version=4))
        if key_id:
            validate_key_id(key_id)
        else:
            key_id = uid
        if len(self.in_project(project)) >= self.world.realism.api_keys_per_project:
            raise guesses.too_many_api_keys(project.number, self.world.realism.api_keys_per_project)
        if (project.number, key_id) in self.keys:
            raise errors.AlreadyExists(
                f"Key with id {key_id} already exists in project {project.number}.",
                reason="KEY_ALREADY_EXISTS",
                domain="apikeys.googleapis.com",
            )
        now = self.world.now()
        key_string = new_key_string(bound=account is not None)
        key = Key(project.number, key_id, uid, key_string, create_time=now, update_time=now)
        self._apply(key, fields, MUTABLE_FIELDS)
        if account is not None:
            key.service_account_email, key.service_account_uid = account.email, account.unique_id
        self.keys[(project.number, key_id)] = key
        return key

    def update(self, key: Key, fields: dict[str, Any], mask: list[str]) -> Key:
        """`mask` holds camelCase paths; "restrictions.apiTargets" replaces only that part of restrictions."""
        for path in mask:
            top, _, part = path.partition(".")
            if top not in MUTABLE_FIELDS or (part and top != "restrictions"):
                raise errors.InvalidArgument(f"Invalid update mask path: {path}.")
            if part:
                value = (fields.get("restrictions") or {}).get(part)
                if value is None:
                    key.restrictions.pop(part, None)
                else:
                    key.restrictions[part] = copy.deepcopy(value)
            else:
                self._apply(key, fields, [top])
        key.update_time = self.world.now()
        return key

    @staticmethod
    def _apply(key: Key, fields: dict[str, Any], names: tuple[str, ...] | list[str]) -> None:
        if "displayName" in names:
            name = fields.get("displayName") or ""
            if len(name) > 63:
                raise errors.InvalidArgument("The display name must be at most 63 characters long.")
            key.display_name = name
        if "restrictions" in names:
            key.restrictions = copy.deepcopy(fields.get("restrictions") or {})
        if "annotations" in names:
            key.annotations = dict(fields.get("annotations") or {})

    def delete(self, key: Key) -> Key:
        key.delete_time = key.update_time = self.world.now()
        return key

    def undelete(self, key: Key) -> Key:
        if not key.deleted:
            raise errors.FailedPrecondition(f"Key {key.name} is not deleted.")
        key.delete_time = None
        key.update_time = self.world.now()
        return key

    # -- persistence ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"keys": [k.to_state() for k in self.keys.values()]}

    def load_json(self, data: dict[str, Any]) -> None:
        self.keys = {}
        for item in data.get("keys", []):
            key = Key(**item)
            self.keys[(key.project_number, key.key_id)] = key
