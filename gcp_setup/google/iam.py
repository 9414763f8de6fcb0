"""IAM v1 (service accounts, their keys and policies) and the project IAM policy (Resource Manager v3).

google-cloud-iam has no REST transport, so both go through google-api-python-client's discovery
clients. Answers are the API's JSON dicts. Names use the project ID rather than the `-` wildcard; a
missing account answers 404 NOT_FOUND ("Unknown service account").
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import retry
from gcp_setup.google.client import Client
from gcp_setup.google.iam_policy import POLICY_VERSION, Policy, PolicyTarget

KEY_CREATION_CONSTRAINT = "constraints/iam.disableServiceAccountKeyCreation"


def service_account_email(account_id: str, project: str) -> str:
    return f"{account_id}@{project}.iam.gserviceaccount.com"


def service_account_name(project: str, email: str) -> str:
    return f"projects/{project}/serviceAccounts/{email}"


def service_account_member(email: str) -> str:
    return f"serviceAccount:{email}"


class KeyCreationBlocked(GoogleApiError):
    """The organization policy iam.disableServiceAccountKeyCreation forbids service-account keys."""


@dataclass
class IamClient(Client):
    """setIamPolicy is sent once (retry.ONCE): its caller (iam_policy) reads the policy again instead,
    since the same stale etag sent again cannot succeed."""

    def _accounts(self) -> Any:
        return self.session.discovery("iam", "v1", "projects.serviceAccounts")

    # -- service accounts -----------------------------------------------------------------------
    def get_service_account(self, project: str, email: str) -> dict[str, Any] | None:
        """The account, or None when it does not exist."""
        try:
            return self.execute(self._accounts().get(name=service_account_name(project, email)))
        except GoogleApiError as exc:
            if exc.code == 404:
                return None
            raise

    def create_service_account(
        self, project: str, account_id: str, display_name: str, description: str
    ) -> dict[str, Any]:
        """Create the account; one that already exists (409 ALREADY_EXISTS) is adopted and returned."""
        body = {
            "accountId": account_id,
            "serviceAccount": {"displayName": display_name, "description": description},
        }
        try:
            return self.execute(self._accounts().create(name=f"projects/{project}", body=body))
        except GoogleApiError as exc:
            if exc.code != 409:
                raise
        existing = self.get_service_account(project, service_account_email(account_id, project))
        if existing is None:  # deleted again in between: let the next run create it
            raise GoogleApiError(f"service account {account_id} exists and vanished; run again", code=409)
        return existing

    def enable_service_account(self, project: str, email: str) -> None:
        """Re-enable a disabled account (enabling an enabled one is a no-op on Google's side too)."""
        self.execute(self._accounts().enable(name=service_account_name(project, email), body={}))

    def delete_service_account(self, project: str, email: str) -> bool:
        """Delete the account; False when it was already gone."""
        try:
            self.execute(self._accounts().delete(name=service_account_name(project, email)))
            return True
        except GoogleApiError as exc:
            if exc.code == 404:
                return False
            raise

    # -- policies ---------------------------------------------------------------------------------
    def service_account_policy(self, project: str, email: str) -> PolicyTarget:
        resource = service_account_name(project, email)
        accounts = self._accounts

        def get() -> Policy:
            return self.execute(
                accounts().getIamPolicy(resource=resource, options_requestedPolicyVersion=POLICY_VERSION)
            )

        def set_(policy: Policy) -> Policy:
            return self.execute(
                accounts().setIamPolicy(resource=resource, body={"policy": policy}), retry.ONCE
            )

        return PolicyTarget(f"service account {email}", get, set_)

    def project_policy(self, project: str) -> PolicyTarget:
        resource = f"projects/{project}"

        def projects() -> Any:
            return self.session.discovery("cloudresourcemanager", "v3", "projects")

        def get() -> Policy:
            body = {"options": {"requestedPolicyVersion": POLICY_VERSION}}
            return self.execute(projects().getIamPolicy(resource=resource, body=body))

        def set_(policy: Policy) -> Policy:
            return self.execute(
                projects().setIamPolicy(resource=resource, body={"policy": policy}), retry.ONCE
            )

        return PolicyTarget(f"project {project}", get, set_)

    # -- keys -------------------------------------------------------------------------------------
    def list_user_keys(self, project: str, email: str) -> list[dict[str, Any]]:
        """User-managed keys of the account (Google's own system-managed keys are not listed)."""
        request = (
            self._accounts().keys().list(name=service_account_name(project, email), keyTypes="USER_MANAGED")
        )
        keys: list[dict[str, Any]] = self.execute(request).get("keys", [])
        return keys

    def create_key_file(self, project: str, email: str) -> tuple[str, bytes]:
        """A new key as (key resource name, the JSON key file's bytes). Raises KeyCreationBlocked
        when the organization policy forbids service-account keys."""
        body = {"privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE", "keyAlgorithm": "KEY_ALG_RSA_2048"}
        request = self._accounts().keys().create(name=service_account_name(project, email), body=body)
        try:
            # Not sent again after an answer that never came: the first may have made a key, and a second
            # would be a key no file holds (the run's note of the creation lets the next run find it).
            key = self.execute(request, retry.ANSWERED_ONLY)
        except GoogleApiError as exc:
            if is_key_creation_blocked(exc):
                raise KeyCreationBlocked(
                    str(exc), status=exc.status, code=exc.code, reason=exc.reason, metadata=exc.metadata
                ) from exc
            raise
        return key["name"], base64.b64decode(key["privateKeyData"])

    def delete_key(self, key_name: str) -> bool:
        """Delete a user-managed key by its resource name; False when it (or its account) was gone."""
        try:
            self.execute(self._accounts().keys().delete(name=key_name))
            return True
        except GoogleApiError as exc:
            if exc.code == 404:
                return False
            raise


def is_key_creation_blocked(exc: GoogleApiError) -> bool:
    """Google answers 400 FAILED_PRECONDITION "Key creation is not allowed on this service account."
    with a PreconditionFailure naming the constraint."""
    text = str(exc).lower()
    return exc.status == "FAILED_PRECONDITION" and (
        "key creation is not allowed" in text or KEY_CREATION_CONSTRAINT.lower() in text
    )


def key_id_of_file(data: bytes) -> str | None:
    """The key ID (`private_key_id`) in a service-account JSON key file, or None when unreadable."""
    try:
        key_id: str | None = json.loads(data).get("private_key_id")
        return key_id
    except (ValueError, AttributeError):
        return None
