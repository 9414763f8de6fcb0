"""Small helpers the scenarios share: answers from each kind of client, IAM policies read and written."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from target import Answer, Target

scenario = pytest.mark.scenario


def from_http_error(exc: Any) -> Answer:
    """A google-api-python-client HttpError as an Answer."""
    return Answer(int(exc.resp.status), json.loads(exc.content or b"null"))


def from_api_core(exc: Any) -> Answer:
    """A google.api_core exception of a REST-transport client as an Answer."""
    response = getattr(exc, "response", None)
    body = response.json() if response is not None else {"error": {"message": exc.message}}
    return Answer(int(exc.code), body)


_GCLOUD_ERROR = re.compile(r"ERROR: \(gcloud[^)]*\) (?:([A-Z_]+): )?(.*)", re.DOTALL)


def from_gcloud(result: subprocess.CompletedProcess) -> dict[str, Any]:
    """What gcloud printed: its exit code and, on failure, the status and first line of its message."""
    if result.returncode == 0:
        return {"exit": 0, "output": json.loads(result.stdout or "null") is not None}
    found = _GCLOUD_ERROR.search(result.stderr)
    status, message = (found.group(1), found.group(2).strip().splitlines()[0]) if found else (None, "")
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
