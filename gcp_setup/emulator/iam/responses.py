"""IAM v1 handlers: service accounts, their keys and IAM policies. One short function per method."""

from __future__ import annotations

import base64
import functools
from typing import Any

from gcp_setup.emulator.core import errors, quotas
from gcp_setup.emulator.core.authorization import may_act_on_service_account, project_caller_may_act_on
from gcp_setup.emulator.core.iam_policy import requested_in
from gcp_setup.emulator.core.paging import page, with_next_page
from gcp_setup.emulator.core.routes import ApiRequest, api_method, update_mask
from gcp_setup.emulator.core.times import rfc3339
from gcp_setup.emulator.iam.models import (
    KEY_NEVER_EXPIRES,
    SA_ETAG,
    ServiceAccount,
    ServiceAccountKey,
    ServiceAccountsBackend,
    key_file_data,
    member_exists,
)
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

IAM = "iam.v1"
SERVICE = "iam.googleapis.com"
METHOD = "iam.projects.serviceAccounts."

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _accounts(req: ApiRequest) -> ServiceAccountsBackend:
    return req.world.backend(ServiceAccountsBackend)


def _project(req: ApiRequest, permission: str) -> Project:
    """The project in the path, the caller allowed `permission` on it, the IAM API on; IAM answers a missing
    project and a missing permission alike."""
    return project_caller_may_act_on(
        req,
        req.params["projectsId"],
        allowed=lambda project: may_act_on_service_account(req, project, None, permission),
        denied=lambda: errors.iam_denied(permission),
        when_deleted="deny",
        service=SERVICE,
    )


def _authorize(
    req: ApiRequest, project: Project | None, account: ServiceAccount | None, permission: str
) -> None:
    if not may_act_on_service_account(req, project, account, permission):
        raise errors.iam_denied(permission)


def _account(req: ApiRequest, permission: str) -> ServiceAccount:
    """The account named in the path (`projects/-/serviceAccounts/EMAIL_OR_UNIQUE_ID`), authorized."""
    account = _accounts(req).get(req.params["serviceAccountsId"])
    project = req.world.backend(ProjectsBackend).find(account.project_id)
    _authorize(req, project, account, permission)
    if project is not None:
        req.world.backend(ServicesBackend).require_enabled(project, SERVICE)
    return account


def account_json(account: ServiceAccount) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": account.name,
        "projectId": account.project_id,
        "uniqueId": account.unique_id,
        "email": account.email,
        "etag": SA_ETAG,
        "oauth2ClientId": account.unique_id,
    }
    if account.display_name:
        out["displayName"] = account.display_name
    if account.description:
        out["description"] = account.description
    if account.disabled:
        out["disabled"] = True
    return out


def key_json(account: ServiceAccount, key: ServiceAccountKey) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f"{account.name}/keys/{key.key_id}",
        "validAfterTime": rfc3339(key.created_at, whole_seconds=True),
        "validBeforeTime": KEY_NEVER_EXPIRES,
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "keyOrigin": "GOOGLE_PROVIDED",
        "keyType": "USER_MANAGED",
    }
    if key.disabled:
        out["disabled"] = True
    return out


def page_of(req: ApiRequest, items: list[Any]) -> tuple[list[Any], str]:
    """One page of an IAM list, by IAM's page sizes."""
    return page(items, req.query, default_size=PAGE_SIZE, max_size=MAX_PAGE_SIZE)


# -- service accounts ---------------------------------------------------------------------------------
@api_method(IAM, METHOD + "create")
def create(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "iam.serviceAccounts.create")
    details = req.body.get("serviceAccount") or {}
    account = _accounts(req).create(
        project,
        req.body.get("accountId", ""),
        display_name=details.get("displayName", ""),
        description=details.get("description", ""),
    )
    return account_json(account)


@api_method(IAM, METHOD + "get")
def get(req: ApiRequest) -> dict[str, Any]:
    return account_json(_account(req, "iam.serviceAccounts.get"))


@api_method(IAM, METHOD + "list")
def list_accounts(req: ApiRequest) -> dict[str, Any]:
    project = _project(req, "iam.serviceAccounts.list")
    items, next_token = page_of(req, _accounts(req).in_project(project.project_id))
    return with_next_page({"accounts": [account_json(a) for a in items]} if items else {}, next_token)


@api_method(IAM, METHOD + "delete")
def delete(req: ApiRequest) -> dict[str, Any]:
    _accounts(req).delete(_account(req, "iam.serviceAccounts.delete"))
    return {}


def _update_fields(account: ServiceAccount, fields: dict[str, Any], mask: list[str]) -> None:
    if "displayName" in mask:
        account.display_name = fields.get("displayName", "")
    if "description" in mask:
        account.description = fields.get("description", "")


@api_method(IAM, METHOD + "undelete")
def undelete(req: ApiRequest) -> dict[str, Any]:
    """By unique ID, as Google requires: the email of a deleted account may have been reused."""
    accounts = _accounts(req)
    deleted = accounts.deleted.get(req.params["serviceAccountsId"])
    project = req.world.backend(ProjectsBackend).find(deleted.project_id) if deleted else None
    _authorize(req, project, None, "iam.serviceAccounts.undelete")
    return {"restoredAccount": account_json(accounts.undelete(req.params["serviceAccountsId"]))}


@api_method(IAM, METHOD + "patch")
def patch(req: ApiRequest) -> dict[str, Any]:
    account = _account(req, "iam.serviceAccounts.update")
    fields = req.body.get("serviceAccount") or {}
    mask = update_mask(req.body.get("updateMask"))
    unknown = set(mask) - {"displayName", "description"}
    if unknown:
        raise errors.InvalidArgument(f"Invalid update mask: {', '.join(sorted(unknown))}.")
    _update_fields(account, fields, mask)
    return account_json(account)


@api_method(IAM, METHOD + "update")
def update(req: ApiRequest) -> dict[str, Any]:
    account = _account(req, "iam.serviceAccounts.update")
    _update_fields(account, req.body, ["displayName", "description"])
    return account_json(account)


@api_method(IAM, METHOD + "disable")
def disable(req: ApiRequest) -> dict[str, Any]:
    _accounts(req).set_disabled(_account(req, "iam.serviceAccounts.disable"), True)
    return {}


@api_method(IAM, METHOD + "enable")
def enable(req: ApiRequest) -> dict[str, Any]:
    _accounts(req).set_disabled(_account(req, "iam.serviceAccounts.enable"), False)
    return {}


# -- IAM policy of a service account ------------------------------------------------------------------
@api_method(IAM, METHOD + "getIamPolicy")
def get_iam_policy(req: ApiRequest) -> dict[str, Any]:
    account = _account(req, "iam.serviceAccounts.getIamPolicy")
    return account.policy.to_json(requested_in(req.body, req.query))


@api_method(IAM, METHOD + "setIamPolicy")
def set_iam_policy(req: ApiRequest) -> dict[str, Any]:
    account = _account(req, "iam.serviceAccounts.setIamPolicy")
    project = req.world.backend(ProjectsBackend).find(account.project_id)
    consumer = f"projects/{project.number}" if project else f"projects/{account.project_id}"
    quotas.charge(req.world, quotas.SERVICE_ACCOUNT_POLICY_WRITES, quotas.consumer_of(req.headers, consumer))
    account.policy.replace(
        req.body, member_exists=functools.partial(member_exists, req.world), now=req.world.now()
    )
    return account.policy.to_json()


@api_method(IAM, METHOD + "testIamPermissions")
def test_iam_permissions(req: ApiRequest) -> dict[str, Any]:
    account = _accounts(req).get(req.params["serviceAccountsId"])
    project = req.world.backend(ProjectsBackend).find(account.project_id)
    asked = req.body.get("permissions") or []
    held = [p for p in asked if may_act_on_service_account(req, project, account, p)]
    return {"permissions": held} if held else {}


# -- keys -------------------------------------------------------------------------------------------
@api_method(IAM, METHOD + "keys.create")
def create_key(req: ApiRequest) -> dict[str, Any]:
    account = _account(req, "iam.serviceAccountKeys.create")
    key_type = req.body.get("privateKeyType") or "TYPE_GOOGLE_CREDENTIALS_FILE"
    if key_type != "TYPE_GOOGLE_CREDENTIALS_FILE":
        raise errors.InvalidArgument(f"Private key type {key_type} is not supported by the emulator.")
    new_key = _accounts(req).create_key(account, token_uri=f"http://{req.headers.get('Host')}/token")
    out = key_json(account, new_key.key)
    out.update(privateKeyType=key_type, privateKeyData=key_file_data(new_key))
    return out


@api_method(IAM, METHOD + "keys.list")
def list_keys(req: ApiRequest) -> dict[str, Any]:
    account = _account(req, "iam.serviceAccountKeys.list")
    wanted = set(req.query.getlist("keyTypes")) or {"USER_MANAGED"}
    keys = [key_json(account, k) for k in account.keys.values()] if "USER_MANAGED" in wanted else []
    return {"keys": keys} if keys else {}


@api_method(IAM, METHOD + "keys.get")
def get_key(req: ApiRequest) -> dict[str, Any]:
    account = _account(req, "iam.serviceAccountKeys.get")
    key = account.key(req.params["keysId"])
    out = key_json(account, key)
    public = _public_key_data(key, req.query.get("publicKeyType") or "TYPE_NONE")
    if public:
        out["publicKeyData"] = base64.b64encode(public.encode()).decode()
    return out


def _public_key_data(key: ServiceAccountKey, kind: str) -> str:
    """The public key in the format keys.get was asked for (TYPE_NONE, its default: none)."""
    formats = {
        "TYPE_NONE": "",
        "TYPE_X509_PEM_FILE": key.certificate_pem,
        "TYPE_RAW_PUBLIC_KEY": key.public_pem,
    }
    if kind not in formats:
        raise errors.InvalidArgument(f"Invalid value for publicKeyType: {kind}")
    return formats[kind]


@api_method(IAM, METHOD + "keys.delete")
def delete_key(req: ApiRequest) -> dict[str, Any]:
    account = _account(req, "iam.serviceAccountKeys.delete")
    _accounts(req).delete_key(account, req.params["keysId"])
    return {}


@api_method(IAM, METHOD + "keys.disable")
def disable_key(req: ApiRequest) -> dict[str, Any]:
    _account(req, "iam.serviceAccountKeys.disable").key(req.params["keysId"]).disabled = True
    return {}


@api_method(IAM, METHOD + "keys.enable")
def enable_key(req: ApiRequest) -> dict[str, Any]:
    _account(req, "iam.serviceAccountKeys.enable").key(req.params["keysId"]).disabled = False
    return {}
