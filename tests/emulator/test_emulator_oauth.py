"""The credential endpoints, driven by google-auth itself: service-account key files refreshing at the
emulator's token endpoint, refresh tokens, impersonation (IAM Credentials) and Workload Identity
Federation (STS)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import google.auth.transport.requests
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions, identity_pool, impersonated_credentials, jwt
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.core.world import World
from gcp_setup.emulator.oauth.models import OAuthBackend

PROJECT = "oauth-test-project"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


def transport() -> google.auth.transport.requests.Request:
    return google.auth.transport.requests.Request()


class Iam:
    """Just enough IAM v1 over plain HTTP to set up a test."""

    def __init__(self, emu: EmulatorControl) -> None:
        self.url = f"{emu.url}/v1/projects"

    def create(self, account_id: str) -> str:
        body = {"accountId": account_id}
        response = requests.post(f"{self.url}/{PROJECT}/serviceAccounts", json=body, timeout=10)
        response.raise_for_status()
        return response.json()["email"]

    def key_file(self, email: str) -> dict:
        response = requests.post(f"{self.url}/-/serviceAccounts/{email}/keys", json={}, timeout=10)
        response.raise_for_status()
        return json.loads(base64.b64decode(response.json()["privateKeyData"]))

    def call(self, verb: str, email: str, body: dict | None = None) -> requests.Response:
        return requests.post(f"{self.url}/-/serviceAccounts/{email}:{verb}", json=body or {}, timeout=10)

    def grant(self, email: str, role: str, member: str) -> None:
        policy = {"bindings": [{"role": role, "members": [member]}]}
        self.call("setIamPolicy", email, {"policy": policy}).raise_for_status()


@pytest.fixture
def iam(emu: EmulatorControl, make_project) -> Iam:
    make_project(PROJECT, services=("iam.googleapis.com", "iamcredentials.googleapis.com"))
    return Iam(emu)


def test_key_file_refreshes_at_the_emulator(world: World, iam: Iam) -> None:
    email = iam.create("gemini-client")
    creds = service_account.Credentials.from_service_account_info(iam.key_file(email), scopes=SCOPES)
    creds.refresh(transport())
    assert creds.valid and creds.token.startswith("ya29.")
    assert world.tokens.principal(creds.token) == f"serviceAccount:{email}"
    # The token authenticates API calls as the service account.
    response = requests.get(
        f"{iam.url}/-/serviceAccounts/{email}", headers={"Authorization": f"Bearer {creds.token}"}, timeout=10
    )
    assert response.status_code == 403  # a bare service account holds no role on its project


def test_token_endpoint_answer_shape(iam: Iam, emu: EmulatorControl) -> None:
    key_file = iam.key_file(iam.create("gemini-client"))
    signer = service_account.Credentials.from_service_account_info(key_file).signer
    now = int(time.time())
    claims = {
        "iss": key_file["client_email"],
        "scope": SCOPES[0],
        "aud": key_file["token_uri"],
        "iat": now,
        "exp": now + 3600,
    }
    assertion = jwt.encode(signer, claims).decode()
    for path in ("/token", "/oauth2/v4/token"):
        response = requests.post(
            emu.url + path,
            timeout=10,
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
        )
        body = response.json()
        assert response.status_code == 200 and set(body) == {"access_token", "expires_in", "token_type"}
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3599


def _refresh_error(creds) -> str:
    with pytest.raises(exceptions.RefreshError) as exc:
        creds.refresh(transport())
    return str(exc.value)


def test_bad_signature_is_an_invalid_grant(iam: Iam) -> None:
    key_file = iam.key_file(iam.create("gemini-client"))
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file["private_key"] = impostor.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    creds = service_account.Credentials.from_service_account_info(key_file, scopes=SCOPES)
    assert "invalid_grant: Invalid JWT Signature." in _refresh_error(creds)


def test_deleted_or_disabled_key_and_disabled_account_are_refused(iam: Iam) -> None:
    email = iam.create("gemini-client")
    key_file = iam.key_file(email)
    creds = service_account.Credentials.from_service_account_info(key_file, scopes=SCOPES)
    iam.call("disable", email).raise_for_status()
    assert "invalid_grant: Invalid grant: account not found" in _refresh_error(creds)
    iam.call("enable", email).raise_for_status()
    creds.refresh(transport())
    key_name = f"{iam.url}/-/serviceAccounts/{email}/keys/{key_file['private_key_id']}"
    requests.post(f"{key_name}:disable", json={}, timeout=10).raise_for_status()
    assert "invalid_grant: Invalid JWT Signature." in _refresh_error(creds)
    requests.post(f"{key_name}:enable", json={}, timeout=10).raise_for_status()
    creds.refresh(transport())
    requests.delete(key_name, timeout=10).raise_for_status()
    assert "invalid_grant: Invalid JWT Signature." in _refresh_error(creds)


def test_assertion_without_scope_is_refused(iam: Iam) -> None:
    creds = service_account.Credentials.from_service_account_info(iam.key_file(iam.create("gemini-client")))
    assert "invalid_scope" in _refresh_error(creds)


def test_refresh_token_grant(world: World, emu: EmulatorControl) -> None:
    refresh_token = world.backend(OAuthBackend).issue_refresh_token(
        "user:developer@example.com", tuple(SCOPES)
    )
    creds = user_credentials.Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=emu.url + "/token",
        client_id="emulator",
        client_secret="emulator",
    )
    creds.refresh(transport())
    assert world.tokens.principal(creds.token) == "user:developer@example.com"
    revoked = user_credentials.Credentials(
        token=None,
        refresh_token="1//unknown",
        token_uri=emu.url + "/token",
        client_id="emulator",
        client_secret="emulator",
    )
    assert "Token has been expired or revoked." in _refresh_error(revoked)


def _generate_access_token_url(emu: EmulatorControl, target: str) -> str:
    return f"{emu.url}/v1/projects/-/serviceAccounts/{target}:generateAccessToken"


def _impersonated(emu: EmulatorControl, source, target: str) -> impersonated_credentials.Credentials:
    endpoint = _generate_access_token_url(emu, target)
    return impersonated_credentials.Credentials(
        source_credentials=source,
        target_principal=target,
        target_scopes=SCOPES,
        lifetime=600,
        iam_endpoint_override=endpoint,
    )


def test_impersonation_needs_token_creator(world: World, iam: Iam, emu: EmulatorControl) -> None:
    caller = iam.create("ci-caller")
    target = iam.create("gemini-client")
    source = service_account.Credentials.from_service_account_info(iam.key_file(caller), scopes=SCOPES)
    creds = _impersonated(emu, source, target)
    assert "iam.serviceAccounts.getAccessToken" in _refresh_error(creds)
    iam.grant(target, "roles/iam.serviceAccountTokenCreator", f"serviceAccount:{caller}")
    creds.refresh(transport())
    assert world.tokens.principal(creds.token) == f"serviceAccount:{target}"
    assert 590 < (creds.expiry - datetime.now(UTC).replace(tzinfo=None)).total_seconds() <= 600


def test_impersonation_denied_answer_is_googles(iam: Iam, emu: EmulatorControl) -> None:
    target = iam.create("gemini-client")
    response = requests.post(
        _generate_access_token_url(emu, target),
        json={"scope": SCOPES},
        timeout=10,
    )
    assert response.status_code == 403
    assert response.json()["error"]["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "IAM_PERMISSION_DENIED",
            "domain": "iam.googleapis.com",
            "metadata": {"permission": "iam.serviceAccounts.getAccessToken"},
        }
    ]


def test_impersonation_needs_iam_credentials_enabled(emu: EmulatorControl, make_project) -> None:
    make_project("no-credentials-api", services=("iam.googleapis.com",))
    email = requests.post(
        f"{emu.url}/v1/projects/no-credentials-api/serviceAccounts",
        json={"accountId": "gemini-client"},
        timeout=10,
    ).json()["email"]
    response = requests.post(
        _generate_access_token_url(emu, email),
        json={"scope": SCOPES},
        timeout=10,
    )
    error = response.json()["error"]
    assert response.status_code == 403 and error["details"][0]["reason"] == "SERVICE_DISABLED"
    assert error["details"][0]["metadata"]["service"] == "iamcredentials.googleapis.com"


def oidc_token(claims: dict) -> str:
    """An OIDC token as a CI system would hand over; the emulator does not check its signature."""
    parts = ({"alg": "RS256", "typ": "JWT"}, claims)
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in parts]
    return ".".join(encoded) + ".c2lnbmF0dXJl"


def test_workload_identity_federation(world: World, iam: Iam, emu: EmulatorControl, tmp_path) -> None:
    provider = world.backend(OAuthBackend).add_provider(
        "123456789012", "github", "actions", "https://token.actions.githubusercontent.com"
    )
    target = iam.create("gemini-client")
    pool = provider.principal("repo:me/app").replace("principal://", "principalSet://").split("/subject/")[0]
    iam.grant(target, "roles/iam.workloadIdentityUser", pool + "/*")  # every identity of the pool
    claims = {"iss": provider.issuer, "sub": "repo:me/app", "aud": "https:" + provider.audience}
    claims["exp"] = int(time.time()) + 600
    (tmp_path / "oidc").write_text(oidc_token(claims))
    creds = identity_pool.Credentials.from_info(
        {
            "type": "external_account",
            "audience": provider.audience,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": f"{emu.url}/v1/token",
            "credential_source": {"file": str(tmp_path / "oidc")},
            "service_account_impersonation_url": _generate_access_token_url(emu, target),
        }
    ).with_scopes(SCOPES)
    creds.refresh(transport())
    assert world.tokens.principal(creds.token) == f"serviceAccount:{target}"


def test_key_file_and_refresh_token_survive_a_restart_with_state(tmp_path) -> None:
    """`gcp-setup emulator --state FILE`: a key file made before the restart still refreshes after it."""
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
    from gcp_setup.emulator.server import Emulator
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    state = tmp_path / "state.json"
    with Emulator(state_file=state) as first:
        project = first.world.backend(ProjectsBackend).create(PROJECT, owner=first.world.default_caller)
        first.world.backend(ServicesBackend).enable(project, "iam.googleapis.com")
        iam = Iam(EmulatorControl(first.url))
        key_file = iam.key_file(iam.create("gemini-client"))
        refresh_token = first.world.backend(OAuthBackend).issue_refresh_token("user:dev@example.com")
    with Emulator(state_file=state) as second:
        key_file["token_uri"] = second.url + "/token"
        creds = service_account.Credentials.from_service_account_info(key_file, scopes=SCOPES)
        creds.refresh(transport())
        assert second.world.tokens.principal(creds.token) == f"serviceAccount:{key_file['client_email']}"
        assert second.world.backend(OAuthBackend).refresh(refresh_token).principal == "user:dev@example.com"
