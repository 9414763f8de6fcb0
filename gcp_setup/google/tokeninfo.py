"""Who the session's credentials are: Google's OAuth2 tokeninfo endpoint
(https://oauth2.googleapis.com/tokeninfo?access_token=...), which names the email of a token that
carries an email scope (a user's login from `gcloud auth application-default login` does).

Hand-written over `requests`: google-auth verifies ID tokens but has no call for an access token's
info, and no other client library does. It goes out under the one retry policy and deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import deadline, retry
from gcp_setup.google.client import Client


@dataclass
class TokenInfoClient(Client):
    def email(self) -> str | None:
        """The email behind the session's token, or None when the token names none (no email scope)."""
        credentials = self.session.get_credentials()
        named: str | None = getattr(credentials, "service_account_email", None)
        if named and "@" in named:
            return named
        self.session.about_to_send()
        info = retry.call(self._info, credentials.token)
        email: str | None = info.get("email") or None
        return email

    def _info(self, token: str) -> dict[str, Any]:
        import requests

        answer = requests.get(
            self.session.tokeninfo_uri, params={"access_token": token}, timeout=deadline.seconds()
        )
        if answer.status_code != 200:
            raise GoogleApiError(
                f"tokeninfo answered {answer.status_code}: {answer.text[:200]}", code=answer.status_code
            )
        info: dict[str, Any] = answer.json()
        return info
