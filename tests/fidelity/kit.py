"""Small helpers the scenarios share: answers from each kind of client, IAM policies read and written."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from fidelity.target import Answer, Target

scenario = pytest.mark.scenario


def from_http_error(exc: Any) -> Answer:
    """A google-api-python-client HttpError as an Answer."""
    return Answer(int(exc.resp.status), json.loads(exc.content or b"null"))


def from_api_core(exc: Any) -> Answer:
    """A google.api_core exception of a REST-transport client as an Answer."""
    response = getattr(exc, "response", None)
    body = response.json() if response is not None else {"error": {"message": exc.message}}
    return Answer(int(exc.code), body)


_RAW_ANSWER = re.compile(r"content <(\{.*\})>", re.DOTALL)
_GCLOUD_ERROR = re.compile(r"ERROR: \(gcloud[^)]*\) (?:([A-Z_]+): )?(.*)", re.DOTALL)


def from_gcloud(result: subprocess.CompletedProcess) -> dict[str, Any]:
    """What gcloud printed: its exit code and, on failure, the status and first line of its message."""
    if result.returncode == 0:
        return {"exit": 0, "output": json.loads(result.stdout or "null") is not None}
    found = _GCLOUD_ERROR.search(result.stderr)
    status, message = (found.group(1), found.group(2).strip().splitlines()[0]) if found else (None, "")
    raw = _RAW_ANSWER.search(result.stderr)
    if (
        raw is not None
    ):  # gcloud printed the HTTP exchange (its host, port and date): keep Google's status only
        error = json.loads(raw.group(1))["error"]
        status, message = error["status"], error["message"]
    return {"exit": result.returncode, "status": status, "message": message}


def get_policy(t: Target, project: str, version: int | None = 3, api: str = "v1") -> Answer:
    body = {"options": {"requestedPolicyVersion": version}} if version is not None else {}
    return t.call("POST", "cloudresourcemanager", f"{api}/projects/{project}:getIamPolicy", body)


def set_policy(t: Target, project: str, policy: dict[str, Any], api: str = "v1") -> Answer:
    return t.call(
        "POST", "cloudresourcemanager", f"{api}/projects/{project}:setIamPolicy", {"policy": policy}
    )


def with_binding(policy: dict[str, Any], binding: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The policy read, plus one binding (and top-level changes such as version)."""
    return {**policy, "bindings": [*policy.get("bindings", []), binding], **changes}


def error_of(answer: Answer) -> tuple[int, str, str | None]:
    return answer.status, answer.error["status"], answer.reason


def from_genai(exc: Any) -> Answer:
    """A google-genai APIError (its `details` is the answer's JSON)."""
    return Answer(int(exc.code), exc.details)


def from_openai(exc: Any) -> Answer:
    """An openai APIStatusError (the answer's JSON, a list on Google's OpenAI-compatible endpoints)."""
    return Answer(int(exc.status_code), exc.response.json())


GEMINI = "generativelanguage.googleapis.com"
VERTEX = "aiplatform.googleapis.com"
MODEL = "gemini-3.8-flash"


def auth_key(t: Target, restrictions: dict[str, Any], *, vertex_role: bool = True) -> tuple[str, str]:
    """(project, key string): a project with billing and the Gemini, Vertex AI, IAM and API Keys APIs on, and
    an auth key bound to its service account (holding roles/aiplatform.expressUser), with `restrictions`."""
    project = t.new_project((GEMINI, VERTEX, "iam.googleapis.com", "apikeys.googleapis.com"), billing=True)
    account = t.call(
        "POST", "iam", f"v1/projects/{project}/serviceAccounts", {"accountId": "fidelity-caller"}
    )
    assert account.status == 200, account.text
    email = account.body["email"]
    if vertex_role:
        policy = get_policy(t, project).body
        binding = {"role": "roles/aiplatform.expressUser", "members": [f"serviceAccount:{email}"]}
        assert set_policy(t, project, with_binding(policy, binding)).status == 200
    body = {"restrictions": restrictions, "serviceAccountEmail": email}
    created = t.call("POST", "apikeys", f"v2/projects/{project}/locations/global/keys", body)
    assert created.status == 200, created.text
    operation = created.body
    while not operation.get("done"):
        operation = t.call("GET", "apikeys", f"v2/{operation['name']}").body
    return project, operation["response"]["keyString"]
