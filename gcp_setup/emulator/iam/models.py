"""IAM v1 state: service accounts, their keys and their IAM policies. No HTTP here.

A key the emulator creates is a real RSA key: the private half leaves once, inside the key file (Google
keeps no copy either); the public half stays, so the token endpoint can check the JWTs signed with it.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.iam_policy import Policy
from gcp_setup.emulator.core.world import Backend, World, backend
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend, member_check

EMAIL_DOMAIN = "iam.gserviceaccount.com"
SA_ETAG = "MDEwMjE5MjA="
"""Google answers this same constant etag for every service account."""
KEY_NEVER_EXPIRES = "9999-12-31T23:59:59Z"
MAX_USER_KEYS = 10
"""Google's limit of user-managed keys per service account."""

_ACCOUNT_ID = re.compile(r"^[a-z][a-z\d\-]*[a-z\d]$")


def validate_account_id(account_id: str) -> None:
    """Google's two checks, with its messages (each carries a DebugInfo detail repeating it)."""
    if not 6 <= len(account_id) <= 30:
        message = f'The account ID "{account_id}" does not have a length between 6 and 30.'
    elif not _ACCOUNT_ID.match(account_id):
        message = f"{account_id} does not match [a-z][a-z\\d\\-]*[a-z\\d]."
    else:
        return
    raise errors.InvalidArgument(
        message, extra_details=[{"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": message}]
    )


def too_many_service_accounts() -> errors.ResourceExhausted:
    """Google's answer past the quota of service accounts per project (kubeflow/pipelines#1052)."""
    return errors.ResourceExhausted(
        "Maximum number of service accounts on project reached.",
        extra_details=[{"@type": errors.RETRY_INFO, "retryDelay": "86401s"}],
    )


def unknown_service_account() -> errors.NotFound:
    return errors.NotFound("Unknown service account")


@dataclass
class ServiceAccountKey:
    key_id: str
    public_pem: str
    created_at: float
    disabled: bool = False
    certificate_pem: str = ""
    """The self-signed X.509 certificate of the public key, made with the private key at creation (what
    keys.get answers for publicKeyType=TYPE_X509_PEM_FILE, and Google's robot metadata serves)."""

    def to_state(self) -> dict[str, Any]:
        return vars(self).copy()


@dataclass
class ServiceAccount:
    project_id: str
    account_id: str
    unique_id: str
    created_at: float
    display_name: str = ""
    description: str = ""
    disabled: bool = False
    policy: Policy = field(default_factory=Policy)
    keys: dict[str, ServiceAccountKey] = field(default_factory=dict)

    @property
    def email(self) -> str:
        return f"{self.account_id}@{self.project_id}.{EMAIL_DOMAIN}"

    @property
    def member(self) -> str:
        return f"serviceAccount:{self.email}"

    @property
    def name(self) -> str:
        return f"projects/{self.project_id}/serviceAccounts/{self.email}"

    def key(self, key_id: str) -> ServiceAccountKey:
        key = self.keys.get(key_id)
        if key is None:
            raise errors.NotFound(f"Service account key {self.name}/keys/{key_id} does not exist.")
        return key

    def to_state(self) -> dict[str, Any]:
        state = {k: v for k, v in vars(self).items() if k not in ("policy", "keys")}
        state["policy"] = self.policy.to_state()
        state["keys"] = [k.to_state() for k in self.keys.values()]
        return state

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ServiceAccount:
        data = dict(data)
        policy = Policy.from_state(data.pop("policy"))
        keys = {k["key_id"]: ServiceAccountKey(**k) for k in data.pop("keys")}
        return cls(**data, policy=policy, keys=keys)


@dataclass
class NewKey:
    """A key just made: what the caller gets back once, and never again."""

    key: ServiceAccountKey
    key_file: dict[str, Any]
    """The JSON key file google-auth loads (type "service_account")."""


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    """PKCS#8, as Google's key files hold it."""
    public_pem: str
    certificate_pem: str


def _new_rsa_key(subject: str, valid_from: float) -> KeyPair:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem, public_pem, _certificate(private, subject, valid_from))


def _certificate(private: rsa.RSAPrivateKey, subject: str, valid_from: float) -> str:
    """Self-signed, valid from the key's creation until Google's "never" (9999-12-31), as its key certs are;
    the subject's common name (the account's unique ID) and the signature hash are guesses."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.fromtimestamp(int(valid_from), UTC))
        .not_valid_after(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
        .sign(private, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@backend
class ServiceAccountsBackend(Backend):
    name = "iam"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.accounts: dict[str, ServiceAccount] = {}
        """email -> account"""
        self.deleted: dict[str, ServiceAccount] = {}
        """unique ID -> account deleted (Google lets it be undeleted for 30 days)"""

    # -- lookups -------------------------------------------------------------------------------------
    def find(self, ref: str) -> ServiceAccount | None:
        """By email or unique ID; `ref` may be a full name (projects/P/serviceAccounts/X) or a member."""
        ref = ref.rsplit("/", 1)[-1].removeprefix("serviceAccount:")
        if ref in self.accounts:
            return self.accounts[ref]
        return next((a for a in self.accounts.values() if a.unique_id == ref), None)

    def get(self, ref: str) -> ServiceAccount:
        account = self.find(ref)
        if account is None:
            raise unknown_service_account()
        return account

    def in_project(self, project_id: str) -> list[ServiceAccount]:
        return sorted(
            (a for a in self.accounts.values() if a.project_id == project_id), key=lambda a: a.email
        )

    def is_visible(self, member_or_email: str) -> bool:
        """Exists and has propagated: Google's IAM does not know a new account for a while."""
        account = self.find(member_or_email)
        if account is None:
            return False
        return self.world.now() - account.created_at >= self.world.realism.service_account_propagation_s

    # -- changes -------------------------------------------------------------------------------------
    def create(
        self, project: Project, account_id: str, display_name: str = "", description: str = ""
    ) -> ServiceAccount:
        validate_account_id(account_id)
        email = f"{account_id}@{project.project_id}.{EMAIL_DOMAIN}"
        if len(self.in_project(project.project_id)) >= self.world.realism.service_accounts_per_project:
            raise too_many_service_accounts()
        if email in self.accounts:
            raise errors.AlreadyExists(
                f"Service account {account_id} already exists within project projects/{project.project_id}.",
                extra_details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ResourceInfo",
                        "resourceName": f"projects/{project.project_id}/serviceAccounts/{email}",
                    }
                ],
            )
        account = ServiceAccount(
            project_id=project.project_id,
            account_id=account_id,
            unique_id=self._new_unique_id(),
            created_at=self.world.now(),
            display_name=display_name,
            description=description,
        )
        self.accounts[email] = account
        return account

    def _new_unique_id(self) -> str:
        """21 digits starting with 1, as Google's are."""
        taken = {a.unique_id for a in self.accounts.values()}
        while True:
            unique_id = "1" + "".join(secrets.choice("0123456789") for _ in range(20))
            if unique_id not in taken:
                return unique_id

    def delete(self, account: ServiceAccount) -> None:
        del self.accounts[account.email]
        self.deleted[account.unique_id] = account
        self.world.tokens.revoke_principal(account.member)
        self._rename_member(account.member, deleted_member(account))

    def undelete(self, unique_id: str) -> ServiceAccount:
        account = self.deleted.get(unique_id.rsplit("/", 1)[-1])
        if account is None:
            raise errors.NotFound(f"Service account {unique_id} does not exist.")
        if account.email in self.accounts:
            raise errors.FailedPrecondition(f"An account with the email {account.email} already exists.")
        del self.deleted[account.unique_id]
        self.accounts[account.email] = account
        self._rename_member(deleted_member(account), account.member)
        return account

    def _rename_member(self, old: str, new: str) -> None:
        """Google rewrites the bindings of a deleted account to `deleted:serviceAccount:EMAIL?uid=ID`
        (so a new account with the same email does not inherit them), and back on undelete."""
        projects = self.world.backend(ProjectsBackend).projects.values()
        policies = [p.policy for p in projects] + [a.policy for a in self.accounts.values()]
        for policy in policies:
            bindings = [b for b in policy.bindings if old in b.get("members", [])]
            for binding in bindings:
                binding["members"] = [new if m == old else m for m in binding["members"]]
            if bindings:
                policy.revision += 1

    def set_disabled(self, account: ServiceAccount, disabled: bool) -> None:
        account.disabled = disabled
        if disabled:
            self.world.tokens.revoke_principal(account.member)

    def create_key(self, account: ServiceAccount, token_uri: str) -> NewKey:
        if self.world.org_policies.disable_service_account_key_creation:
            raise key_creation_not_allowed(account)
        if len(account.keys) >= MAX_USER_KEYS:
            raise errors.FailedPrecondition("Precondition check failed.")  # Google's words for the quota
        key_id = secrets.token_hex(20)
        now = self.world.now()
        pair = _new_rsa_key(account.unique_id, now)
        key = ServiceAccountKey(key_id, pair.public_pem, now, certificate_pem=pair.certificate_pem)
        account.keys[key_id] = key
        key_file = {
            "type": "service_account",
            "project_id": account.project_id,
            "private_key_id": key_id,
            "private_key": pair.private_pem,
            "client_email": account.email,
            "client_id": account.unique_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + account.email.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }
        return NewKey(key, key_file)

    def delete_key(self, account: ServiceAccount, key_id: str) -> None:
        account.key(key_id)
        del account.keys[key_id]

    # -- persistence ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": [a.to_state() for a in self.accounts.values()],
            "deleted": [a.to_state() for a in self.deleted.values()],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        accounts = [ServiceAccount.from_state(item) for item in data.get("accounts", [])]
        self.accounts = {a.email: a for a in accounts}
        deleted = [ServiceAccount.from_state(item) for item in data.get("deleted", [])]
        self.deleted = {a.unique_id: a for a in deleted}


def key_creation_not_allowed(account: ServiceAccount) -> errors.FailedPrecondition:
    """Google's answer under the org policy constraint iam.disableServiceAccountKeyCreation."""
    subject = f"{account.name}?configvalue={account.email.replace('@', '%40')}"
    return errors.precondition_failure(
        "Key creation is not allowed on this service account.",
        "constraints/iam.disableServiceAccountKeyCreation",
        subject,
    )


@member_check("serviceAccount")
def member_exists(world: World, member: str) -> bool:
    """For setIamPolicy on any resource: a serviceAccount member must exist and have propagated;
    other kinds of members are taken on trust (the emulator knows no users or groups)."""
    if not member.startswith("serviceAccount:"):
        return True
    email = member.removeprefix("serviceAccount:")
    domain = email.partition("@")[2]
    if not domain.endswith("." + EMAIL_DOMAIN) or domain.startswith("gcp-sa-"):
        return True  # Google-managed accounts (service agents, Compute default) are not modelled
    return world.backend(ServiceAccountsBackend).is_visible(email)


def deleted_member(account: ServiceAccount) -> str:
    return f"deleted:{account.member}?uid={account.unique_id}"


def member_forms(principal: str, attributes: dict[str, str] | None = None) -> list[str]:
    """The policy members that name `principal`: itself and, for a federated identity
    (principal://.../workloadIdentityPools/POOL/subject/S), every identity of its pool (principalSet://.../POOL/*)
    and the sets its mapped attributes put it in (principalSet://.../POOL/attribute.repository/OWNER/REPO)."""
    forms = [principal]
    pool, found, _ = principal.partition("/subject/")
    if principal.startswith("principal://") and found:
        pool_set = "principalSet://" + pool.removeprefix("principal://")
        forms.append(pool_set + "/*")
        mapped = (attributes or {}).items()
        forms += [f"{pool_set}/{name}/{value}" for name, value in mapped if name.startswith("attribute.")]
    return forms


def key_file_data(new_key: NewKey) -> str:
    """privateKeyData: the key file, base64-encoded."""
    return base64.b64encode(json.dumps(new_key.key_file, indent=2).encode()).decode()
