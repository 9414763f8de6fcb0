"""A project set up for the data plane, straight in the emulator's state: billing, the Gemini and Vertex AI
APIs on, a service account holding roles/aiplatform.user and roles/aiplatform.expressUser, an auth key bound
to it (the only kind the Gemini API takes today), and an OAuth token of the account for Vertex AI's project
paths. Clients of google-genai and openai on every path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.genai import types

RETRY_ONCE = types.HttpRetryOptions(attempts=1)
MODEL = "gemini-3.8-flash"
EMBEDDING_MODEL = "gemini-embedding-001"


@dataclass
class Plane:
    url: str
    project: str
    key: str
    """An auth key (AQ.), bound to the account."""
    token: str
    """An access token of the account."""

    def gemini(self, api_version: str = "v1beta"):
        from google import genai

        options = types.HttpOptions(base_url=self.url, api_version=api_version, retry_options=RETRY_ONCE)
        return genai.Client(api_key=self.key, http_options=options)

    def vertex(self, api_version: str = "v1", location: str = "global"):
        from google import genai
        from google.oauth2.credentials import Credentials

        options = types.HttpOptions(base_url=self.url, api_version=api_version, retry_options=RETRY_ONCE)
        return genai.Client(
            vertexai=True,
            project=self.project,
            location=location,
            credentials=Credentials(token=self.token),
            http_options=options,
        )

    def express(self, api_version: str = "v1beta1"):
        from google import genai

        options = types.HttpOptions(base_url=self.url, api_version=api_version, retry_options=RETRY_ONCE)
        return genai.Client(vertexai=True, api_key=self.key, http_options=options)

    def openai(self, path: str = "gemini", api_version: str = "v1"):
        """The openai library on the Gemini API's endpoint ("gemini"), or on Vertex AI's, on the project path
        ("vertex") or in express mode ("express", with the auth key)."""
        import openai

        if path == "gemini":
            return openai.OpenAI(base_url=f"{self.url}/v1beta/openai/", api_key=self.key, max_retries=0)
        if path == "express":
            base = f"{self.url}/{api_version}/endpoints/openapi"
            return openai.OpenAI(base_url=base, api_key=self.key, max_retries=0)
        base = f"{self.url}/{api_version}/projects/{self.project}/locations/global/endpoints/openapi"
        return openai.OpenAI(base_url=base, api_key=self.token, max_retries=0)


def make_plane(world: Any, url: str, project_id: str = "data-plane-1") -> Plane:
    from gcp_setup.emulator.apikeys.models import ApiKeysBackend
    from gcp_setup.emulator.billing.models import OPEN_ACCOUNT, BillingBackend
    from gcp_setup.emulator.iam.models import ServiceAccountsBackend
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    with world.lock:
        project = world.backend(ProjectsBackend).create(project_id, owner=world.default_caller)
        world.backend(BillingBackend).link(project, OPEN_ACCOUNT)
        for service in ("generativelanguage.googleapis.com", "aiplatform.googleapis.com"):
            world.backend(ServicesBackend).enable(project, service)
        account = world.backend(ServiceAccountsBackend).create(project, "gemini-caller")
        for role in ("roles/aiplatform.user", "roles/aiplatform.expressUser"):
            project.policy.add_binding(role, account.member)
        key = world.backend(ApiKeysBackend).create(project, "auth-key", {}, account)
        token = world.tokens.issue(account.member)[0]
    return Plane(url, project_id, key.key_string, token)
