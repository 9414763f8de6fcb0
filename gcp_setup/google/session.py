"""Which endpoint and which credentials every Google client uses.

Order of precedence for the emulator (like python-storage's STORAGE_EMULATOR_HOST, except that an
explicit argument wins over the environment):
  1. `--emulator-host HOST:PORT` (or the `emulator_host` argument),
  2. the environment variable GCP_SETUP_EMULATOR_HOST,
  3. otherwise Google's real endpoints, with Application Default Credentials.
With an emulator every client uses anonymous credentials and plain HTTP to that host.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from gcp_setup import envvars
from gcp_setup.errors import GcpSetupError
from gcp_setup.settings import check_emulator_host

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
CLIENT_LIBRARIES = (
    "googleapiclient.discovery",
    "google.cloud.resourcemanager_v3",
    "google.cloud.service_usage_v1",
)
"""What the provisioning steps' clients are built from (about 0.35 s of CPU to import, all told)."""


def resolve_emulator_host(explicit: str | None = None) -> str | None:
    return check_emulator_host(explicit if explicit is not None else os.environ.get(envvars.EMULATOR_HOST))


def application_default_credentials(quota_project: str | None) -> Any:
    """The caller's ADC; none found is one line naming the login command, not google-auth's paragraph."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE], quota_project_id=quota_project)
    except DefaultCredentialsError as exc:
        raise GcpSetupError(
            "no Application Default Credentials found, so Google cannot tell who you are",
            hint=f"run `gcloud auth application-default login`, or set {envvars.CREDENTIALS} to a key file",
        ) from exc
    return credentials


def import_client_libraries() -> None:
    """Import the client libraries before the first request rather than inside it. The steps' first
    reads go out together, each from its own thread; a library imported by the first call that needs
    it (0.1 to 0.2 s of CPU, under the GIL) would hold those reads back one after another, the project's
    among them, which every step waits for on a new project."""
    for name in CLIENT_LIBRARIES:
        importlib.import_module(name)


@dataclass
class GoogleSession:
    """Builds clients for the chosen endpoint. One per command run, shared by a fleet's threads: clients
    are cached per thread because google-api-python-client's httplib2 transport is not thread-safe."""

    emulator_host: str | None = None
    credentials: Any = None
    quota_project: str | None = None
    _local: threading.local = field(default_factory=threading.local, repr=False)
    limiter: Any = None
    """A fleet's QuotaLimiter (limiter.py), shared by its threads; None: one project, no limiter."""
    enabled_at: Mapping[str, float] = field(default_factory=dict, repr=False)
    """Service -> when (time.monotonic()) the run enabled it: retry.call waits out its SERVICE_DISABLED
    answers while the enablement propagates. Set only through `expecting`, per run (the steps that
    declare they read services.enabled_now get such a session): another run's enablement must not
    make this one wait."""

    @classmethod
    def create(cls, emulator_host: str | None = None, quota_project: str | None = None) -> GoogleSession:
        return cls(emulator_host=resolve_emulator_host(emulator_host), quota_project=quota_project)

    def expecting(self, enabled_at: Mapping[str, float]) -> GoogleSession:
        """This session (its clients and credentials shared), waiting out SERVICE_DISABLED from the APIs
        in `enabled_at` (service -> time.monotonic() of their enablement)."""
        return replace(self, enabled_at=MappingProxyType(dict(enabled_at))) if enabled_at else self

    @property
    def is_emulator(self) -> bool:
        return self.emulator_host is not None

    def endpoint(self, api: str) -> str:
        """Base URL for `api` (e.g. "iam"): http://HOST:PORT with an emulator, else https://api.googleapis.com."""
        if self.emulator_host:
            return f"http://{self.emulator_host}"
        return f"https://{api}.googleapis.com"

    def paced(self, method: str, fn: Any) -> Any:
        """`fn`, one attempt of a request of `method`, under the fleet's limiter when there is one."""
        return fn if self.limiter is None else self.limiter.paced(method, fn)

    def get_credentials(self) -> Any:
        if self.credentials is None:
            if self.is_emulator:
                from google.auth.credentials import AnonymousCredentials

                self.credentials = AnonymousCredentials()
            else:
                self.credentials = application_default_credentials(self.quota_project)
        return self.credentials

    def cloud_client(self, client_cls: type, api: str) -> Any:
        """A google-cloud-* client (REST transport) for `api`.

        e.g. cloud_client(ProjectsClient, "cloudresourcemanager")."""
        key = f"cloud:{client_cls.__module__}.{client_cls.__name__}"
        cached = getattr(self._local, key, None)
        if cached is None:
            cached = client_cls(
                transport="rest",
                credentials=self.get_credentials(),
                client_options={"api_endpoint": self.endpoint(api)},
            )
            setattr(self._local, key, cached)
        return cached

    def discovery_client(self, api: str, version: str) -> Any:
        """A google-api-python-client Resource from the discovery document shipped with the library."""
        key = f"discovery:{api}.{version}"
        cached = getattr(self._local, key, None)
        if cached is None:
            from googleapiclient import discovery

            cached = discovery.build(
                api,
                version,
                http=self._http(),
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": self.endpoint(api) + "/"},
            )
            setattr(self._local, key, cached)
        return cached

    def _http(self) -> Any:
        """The transport of a discovery client (deadline.DiscoveryHttp), authorized with the session's
        credentials unless it talks to the emulator."""
        from gcp_setup.google.deadline import DiscoveryHttp

        return DiscoveryHttp(None if self.is_emulator else self.get_credentials())
