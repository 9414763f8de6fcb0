"""Where the fidelity scenarios run: the in-process emulator (default), or Google itself
(FIDELITY_TARGET=google, a maintainer's recording run, never in CI).

On Google the scenarios need:
- Application Default Credentials of a maintainer (`gcloud auth application-default login`), and gcloud logged
  in as the same account;
- FIDELITY_PROJECT: a throwaway project the account owns, which the scenarios change (they enable services,
  link billing, and create service accounts, keys bound to them and bindings in it);
- FIDELITY_BILLING_ACCOUNT: billingAccounts/X to link it to; FIDELITY_OTHER_USER: an existing account that is
  not the caller (bindings name it);
- FIDELITY_QUOTA_PROJECT (optional): sent as X-Goog-User-Project.
Scenarios that need the emulator's control endpoints (its clock, its quotas, its seeded state) skip there.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from fidelity.shapes import shape, transformers
from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.gcloud_config import write_gcloud_config

GOOGLE = os.environ.get("FIDELITY_TARGET") == "google"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
GCLOUD_APIS = ("cloudresourcemanager", "serviceusage", "iam", "apikeys", "cloudbilling")
_NUMBERS = itertools.count(1)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    text: str = ""

    def shape(self) -> dict[str, Any]:
        return shape(self.status, self.body)

    @property
    def error(self) -> dict[str, Any]:
        body = self.body[0] if isinstance(self.body, list) else self.body
        return body["error"]

    @property
    def reason(self) -> str | None:
        details = self.error.get("details") or []
        return next((d.get("reason") for d in details if "ErrorInfo" in d.get("@type", "")), None)


@dataclass
class Target:
    name: str
    url: str = ""
    """The emulator's http://HOST:PORT ("" on Google: each API on its own host)."""
    world: Any = None
    gcloud_dir: Path | None = None
    project_ids: list[str] = field(default_factory=list)

    @property
    def control(self) -> EmulatorControl:
        self.emulator_only()
        return EmulatorControl(self.url)

    @property
    def other_user(self) -> str:
        """A user who is not the caller (on Google, FIDELITY_OTHER_USER: an existing account)."""
        return "user:" + os.environ.get("FIDELITY_OTHER_USER", "someone@example.com")

    def begin(self) -> None:
        self.project_ids = [os.environ["FIDELITY_PROJECT"]] if self.name == "google" else []

    def emulator_only(self) -> None:
        if self.name != "emulator":
            pytest.skip("needs the emulator's control endpoints or seeded state")

    def transformers(self) -> list[Any]:
        return transformers(self.project_ids)

    # -- plain HTTP ----------------------------------------------------------------------------------
    def base(self, api: str) -> str:
        return self.url if self.name == "emulator" else f"https://{api}.googleapis.com"

    def headers(self) -> dict[str, str]:
        if self.name == "emulator":
            return {}
        import google.auth
        import google.auth.transport.requests

        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        credentials.refresh(google.auth.transport.requests.Request())
        out = {"Authorization": f"Bearer {credentials.token}"}
        if os.environ.get("FIDELITY_QUOTA_PROJECT"):
            out["X-Goog-User-Project"] = os.environ["FIDELITY_QUOTA_PROJECT"]
        return out

    def call(
        self, method: str, api: str, path: str, body: Any = None, *, auth: bool = True, **kwargs: Any
    ) -> Answer:
        headers = {**(self.headers() if auth else {}), **kwargs.pop("headers", {})}
        response = requests.request(
            method, f"{self.base(api)}/{path}", json=body, headers=headers, timeout=60, **kwargs
        )
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        return Answer(response.status_code, parsed, response.text)

    # -- clients -------------------------------------------------------------------------------------
    def discovery(self, api: str, version: str) -> Any:
        import httplib2
        from googleapiclient.discovery import build

        if self.name == "google":
            return build(api, version, static_discovery=True)
        return build(
            api,
            version,
            static_discovery=True,
            http=httplib2.Http(),
            client_options={"api_endpoint": self.url + "/"},
        )

    def cloud_client_options(self) -> dict[str, Any]:
        """Keyword arguments for a google-cloud-* client (REST transport) on this target."""
        if self.name == "google":
            return {"transport": "rest"}
        from google.auth.credentials import AnonymousCredentials

        return {
            "transport": "rest",
            "credentials": AnonymousCredentials(),
            "client_options": {"api_endpoint": self.url},
        }

    def gcloud(self, *args: str) -> subprocess.CompletedProcess:
        """The real gcloud CLI, JSON output; on the emulator through a throwaway configuration."""
        env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
        if self.name == "emulator" and self.gcloud_dir is None:
            pytest.skip("gcloud is not installed")
        if self.name == "emulator":
            env["CLOUDSDK_CONFIG"] = str(self.gcloud_dir)
            for name in ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CORE_PROJECT"):
                env.pop(name, None)
        command = ["gcloud", *args, "--format=json"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    # -- setup through the public APIs ---------------------------------------------------------------
    def new_project(self, services: tuple[str, ...] = (), *, billing: bool = False) -> str:
        """A project of the caller with `services` on (on Google: FIDELITY_PROJECT, set up likewise)."""
        if self.name == "google":
            project = os.environ["FIDELITY_PROJECT"]
        else:
            project = f"fidelity-{next(_NUMBERS):05d}"
            created = self.call("POST", "cloudresourcemanager", "v1/projects", {"projectId": project})
            assert created.status == 200, created.text
            self.project_ids.append(project)
        if billing:
            from gcp_setup.emulator.billing.models import OPEN_ACCOUNT

            account = os.environ.get("FIDELITY_BILLING_ACCOUNT", OPEN_ACCOUNT)
            body = {"billingAccountName": account}
            linked = self.call("PUT", "cloudbilling", f"v1/projects/{project}/billingInfo", body)
            assert linked.status == 200, linked.text
        if services:
            body = {"serviceIds": list(services)}
            enabled = self.call("POST", "serviceusage", f"v1/projects/{project}/services:batchEnable", body)
            assert enabled.status == 200, enabled.text
        return project


@contextlib.contextmanager
def make_target(emulator: Any) -> Iterator[Target]:
    if GOOGLE:
        yield Target("google")
        return
    if emulator is None:
        pytest.skip("the fidelity suite runs the in-process emulator")
    with tempfile.TemporaryDirectory(prefix="fidelity-gcloud-") as config:
        gcloud_dir = None
        if shutil.which("gcloud") is not None:
            gcloud_dir = Path(config)
            write_gcloud_config(gcloud_dir, emulator.url)
        elif IN_CI:
            pytest.fail("gcloud is not installed; CI must run the gcloud scenarios")
        yield Target("emulator", url=emulator.url, world=emulator.world, gcloud_dir=gcloud_dir)


def gcloud_json(result: subprocess.CompletedProcess) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "null")
