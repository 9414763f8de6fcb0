"""Credential state and checks: the OAuth2 token endpoint's grants, refresh tokens, and Workload Identity
Federation providers for STS. No HTTP here.

Grants the token endpoint accepts:
- `urn:ietf:params:oauth:grant-type:jwt-bearer`: a JWT signed (RS256) with a service-account key the
  emulator issued; checked against the stored public key, the key's and the account's state.
- `refresh_token`: a refresh token the emulator itself issued (`OAuthBackend.issue_refresh_token`), e.g.
  for an `authorized_user` credentials file made for a test or the demo.
Every issued access token is a `world.tokens` entry mapped to its principal, so IAM checks stay real.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.auth import crypt

from gcp_setup.emulator.core.cel import condition_holds, map_attributes
from gcp_setup.emulator.core.world import Backend, World, backend
from gcp_setup.emulator.iam.models import ServiceAccountsBackend

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REFRESH_TOKEN = "refresh_token"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
TOKEN_PATH = "/token"
"""Where emulator-issued credentials point (`token_uri`); Google's is https://oauth2.googleapis.com/token."""
TOKEN_LIFETIME_S = 3600
MAX_ASSERTION_LIFETIME_S = 3600
CLOCK_SKEW_S = 300
WIF_AUDIENCE_PREFIX = "//iam.googleapis.com/"
GCLOUD_CLIENT_ID = "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com"
"""The OAuth client of `gcloud auth application-default login` (its ADC files name it)."""
EMAIL_SCOPES = frozenset({"email", "https://www.googleapis.com/auth/userinfo.email"})
GCLOUD_ADC_SCOPES = (
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/sqlservice.login",
)
"""What `gcloud auth application-default login` asks for: the grant behind the ADC files it writes."""
DEFAULT_ATTRIBUTE_MAPPING = {"google.subject": "assertion.sub"}


class OAuthError(Exception):
    """An OAuth2 error answer: `{"error": ..., "error_description": ...}`, not Google's API error shape."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def to_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


@dataclass
class Grant:
    """What a successful grant yields: whose token, for which scopes."""

    principal: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class WorkloadProvider:
    """A Workload Identity pool provider: subject tokens whose `iss` is `issuer` are accepted, if they
    satisfy `attribute_condition` (CEL); `attribute_mapping` turns their claims into attributes."""

    project_number: str
    pool_id: str
    provider_id: str
    issuer: str
    attribute_mapping: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ATTRIBUTE_MAPPING))
    attribute_condition: str = ""
    allowed_audiences: tuple[str, ...] = ()
    jwks_json: str = ""
    """The issuer's keys inline: with them the token's signature is checked (the emulator cannot fetch an
    issuer's keys; without them it checks claims only)."""
    created_at: float = 0.0
    """When the provider was first accepted (world clock): Realism.workload_identity_propagation_s later,
    STS takes its tokens."""

    @property
    def accepted_audiences(self) -> tuple[str, ...]:
        """The discovery document's rule: the allowed audiences, or when none are set the provider's
        canonical name, with or without the https: prefix."""
        return self.allowed_audiences or (self.audience, "https:" + self.audience)

    @property
    def audience(self) -> str:
        return (
            f"{WIF_AUDIENCE_PREFIX}projects/{self.project_number}/locations/global/"
            f"workloadIdentityPools/{self.pool_id}/providers/{self.provider_id}"
        )

    def principal(self, subject: str) -> str:
        return (
            f"principal://iam.googleapis.com/projects/{self.project_number}/locations/global/"
            f"workloadIdentityPools/{self.pool_id}/subject/{subject}"
        )


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, claims, signed bytes, signature); raises ValueError when it is not a JWT."""
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(claims_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, binascii.Error) as exc:
        raise ValueError("not a JWT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a JWT")
    return header, claims, f"{header_b64}.{claims_b64}".encode(), signature


def signed_by(jwks_json: str, header: dict[str, Any], signed: bytes, signature: bytes) -> bool:
    """An RS256 signature by one of the JWK set's RSA keys (the one its kid names, when it names one)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    if header.get("alg") != "RS256":
        return False
    for key in json.loads(jwks_json)["keys"]:
        if header.get("kid") and key.get("kid") and key["kid"] != header["kid"]:
            continue
        numbers = RSAPublicNumbers(_jwk_int(key["e"]), _jwk_int(key["n"]))
        if crypt.RSAVerifier(numbers.public_key()).verify(signed, signature):
            return True
    return False


def _jwk_int(value: str) -> int:
    return int.from_bytes(_b64decode(value), "big")


@backend
class OAuthBackend(Backend):
    name = "oauth"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.refresh_tokens: dict[str, Grant] = {}
        self.providers: dict[str, WorkloadProvider] = {}
        """audience -> provider"""
        self.federated_attributes: dict[str, dict[str, str]] = {}
        """federated principal -> the attributes of its latest token exchange (for principalSet members)"""

    # -- grants --------------------------------------------------------------------------------------
    def jwt_bearer(self, assertion: str) -> Grant:
        """Check a service-account JWT as Google's token endpoint does, with its error descriptions."""
        try:
            header, claims, signed, signature = _jwt_parts(assertion)
        except ValueError:
            raise invalid_grant("Invalid JWT: the assertion is not a signed JWT.") from None
        accounts = self.world.backend(ServiceAccountsBackend)
        account = accounts.find(str(claims.get("iss", "")))
        if account is None or account.disabled:
            raise invalid_grant("Invalid grant: account not found")
        key = account.keys.get(str(header.get("kid", "")))
        if header.get("alg") != "RS256" or key is None or key.disabled or self._too_new(key.created_at):
            raise invalid_grant("Invalid JWT Signature.")
        if not crypt.RSAVerifier.from_string(key.public_pem).verify(signed, signature):
            raise invalid_grant("Invalid JWT Signature.")
        self._check_lifetime(claims)
        scopes = tuple(str(claims.get("scope", "")).split())
        if not scopes:
            raise OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        return Grant(account.member, scopes)

    def _too_new(self, created_at: float) -> bool:
        """A new key is refused until it has propagated (Realism.key_propagation_s)."""
        return self.world.now() < created_at + self.world.realism.key_propagation_s

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        now = self.world.now()
        try:
            iat, exp = float(claims["iat"]), float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            iat, exp = now + CLOCK_SKEW_S + 1, 0.0
        if iat > now + CLOCK_SKEW_S or exp < now or exp - iat > MAX_ASSERTION_LIFETIME_S:
            raise invalid_grant(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                "timeframe. Check your iat and exp values in the JWT claim."
            )

    def refresh(self, refresh_token: str, scope: str = "") -> Grant:
        """The grant behind `refresh_token`, narrowed to `scope` when the request names one (a refresh
        may ask for fewer scopes than were granted, never for more)."""
        grant = self.refresh_tokens.get(refresh_token)
        if grant is None:
            raise invalid_grant("Token has been expired or revoked.")
        asked = tuple(scope.split())
        if not asked:
            return grant
        beyond = [s for s in asked if s not in grant.scopes]
        if beyond and grant.scopes:
            raise OAuthError("invalid_scope", f"Some requested scopes were invalid. {{invalid={beyond}}}")
        return Grant(grant.principal, asked)

    def credentials_file(self, principal: str, token_uri: str) -> dict[str, str]:
        """A credentials file for `principal`: a user's authorized_user ADC, or for serviceAccount:EMAIL
        a new key of that account (its file's token_uri is `token_uri`, the emulator's)."""
        if not principal.startswith("serviceAccount:"):
            return self.user_adc(principal)
        accounts = self.world.backend(ServiceAccountsBackend)
        return accounts.create_key(
            accounts.get(principal.removeprefix("serviceAccount:")), token_uri
        ).key_file

    def user_adc(self, principal: str) -> dict[str, str]:
        """An `authorized_user` ADC file for `principal`, as `gcloud auth application-default login`
        writes one (gcloud leaves `account` empty: who it is, tokeninfo says)."""
        return {
            "account": "",
            "client_id": GCLOUD_CLIENT_ID,
            "client_secret": "emulator-client-secret",
            "refresh_token": self.issue_refresh_token(principal, GCLOUD_ADC_SCOPES),
            "type": "authorized_user",
            "universe_domain": "googleapis.com",
        }

    def issue_refresh_token(self, principal: str, scopes: tuple[str, ...] = ()) -> str:
        """A refresh token for `principal`, shaped as Google's ("1//...")."""
        value = "1//emu-" + secrets.token_urlsafe(32)
        self.refresh_tokens[value] = Grant(principal, scopes)
        return value

    def issue_access_token(self, grant: Grant, lifetime_s: float = TOKEN_LIFETIME_S) -> tuple[str, float]:
        """(token, expiry on the world clock)"""
        value, token = self.world.tokens.issue(grant.principal, lifetime_s, grant.scopes)
        return value, token.expires_at

    # -- Workload Identity Federation (STS) -----------------------------------------------------------
    def add_provider(
        self,
        project_number: str,
        pool_id: str,
        provider_id: str,
        issuer: str,
        attribute_mapping: dict[str, str] | None = None,
        attribute_condition: str = "",
        allowed_audiences: Sequence[str] = (),
        jwks_json: str = "",
        created_at: float | None = None,
    ) -> WorkloadProvider:
        """Accept tokens for this provider (again): the IAM Workload Identity API calls it for every
        active provider, with its current mapping and condition."""
        mapping = dict(attribute_mapping or DEFAULT_ATTRIBUTE_MAPPING)
        audience = WorkloadProvider(project_number, pool_id, provider_id, issuer).audience
        known = self.providers.get(audience)
        provider = WorkloadProvider(
            project_number,
            pool_id,
            provider_id,
            issuer,
            mapping,
            attribute_condition,
            tuple(allowed_audiences),
            jwks_json,
            known.created_at if known else (created_at if created_at is not None else self.world.now()),
        )
        self.providers[provider.audience] = provider
        return provider

    def remove_provider(self, audience: str) -> None:
        """Stop accepting tokens for a deleted or disabled provider (or one of a deleted pool)."""
        self.providers.pop(audience, None)

    def exchange(self, audience: str, subject_token: str) -> Grant:
        """A federated principal for an OIDC subject token from a known provider: its iss, aud and exp are
        checked, and its signature when the provider holds the issuer's keys inline (jwksJson)."""
        provider = self.providers.get(audience)
        propagation_s = self.world.realism.workload_identity_propagation_s
        if provider is None or self.world.now() < provider.created_at + propagation_s:
            raise OAuthError(
                "invalid_target",
                'The target service indicated by the "audience" parameters is '
                "invalid. This might either be because the pool or provider is disabled or deleted "
                "or because it doesn't exist.",
            )
        try:
            header, claims, signed, signature = _jwt_parts(subject_token)
        except ValueError:
            raise invalid_grant("Unable to parse the ID Token.") from None
        if claims.get("iss") != provider.issuer:
            raise invalid_grant("The issuer in ID Token does not match the expected issuer.")
        audiences: list[Any] = claims["aud"] if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if not set(audiences) & set(provider.accepted_audiences):
            # Google's wording, as far as known: the exact text is a guess.
            raise invalid_grant(f"The audience in ID Token {audiences} does not match the expected audience.")
        if provider.jwks_json and not signed_by(provider.jwks_json, header, signed, signature):
            raise invalid_grant("Invalid ID Token: the signature does not match the provider's keys.")
        if float(claims.get("exp", 0)) < self.world.now():
            raise invalid_grant("ID Token expired.")
        attributes = map_attributes(provider.attribute_mapping, claims)
        if not condition_holds(provider.attribute_condition, claims, attributes):
            raise OAuthError(
                "unauthorized_client", "The given credential is rejected by the attribute condition."
            )
        principal = provider.principal(attributes.get("google.subject", ""))
        self.federated_attributes[principal] = attributes
        return Grant(principal, ("https://www.googleapis.com/auth/cloud-platform",))

    # -- persistence ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "refresh_tokens": {
                v: {"principal": g.principal, "scopes": list(g.scopes)}
                for v, g in self.refresh_tokens.items()
            },
            "providers": [vars(p) for p in self.providers.values()],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.refresh_tokens = {
            v: Grant(g["principal"], tuple(g["scopes"])) for v, g in data.get("refresh_tokens", {}).items()
        }
        self.providers = {}
        for item in data.get("providers", []):
            self.add_provider(**item)
