"""Which endpoint and which credentials every Google client uses.

Order of precedence for the emulator (like python-storage's STORAGE_EMULATOR_HOST, except that an
explicit argument wins over the environment):
  1. `--emulator-host HOST:PORT` (or the `emulator_host` argument),
  2. the environment variable GCP_SETUP_EMULATOR_HOST,
  3. otherwise Google's real endpoints.
Either way every client authenticates with Application Default Credentials (credentials.py), and sends
the quota project quota_projects.py chooses; only the endpoints differ (`endpoint`, the seam).
"""

from __future__ import annotations

import gc
import importlib
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeVar

from gcp_setup import envvars
from gcp_setup.errors import GoogleApiError
from gcp_setup.google import credentials as adc
from gcp_setup.google import quota_projects
from gcp_setup.settings import check_emulator_host

T = TypeVar("T")

CLIENT_LIBRARIES = (
    "googleapiclient.discovery",
    "google.cloud.resourcemanager_v3",
    "google.cloud.service_usage_v1",
)
"""What the provisioning steps' clients are built from (about 0.35 s of CPU to import, all told)."""


def resolve_emulator_host(explicit: str | None = None) -> str | None:
    return check_emulator_host(explicit if explicit is not None else os.environ.get(envvars.EMULATOR_HOST))


def import_client_libraries() -> None:
    """Import the client libraries before the first request rather than inside it. The steps' first
    reads go out together, each from its own thread; a library imported by the first call that needs
    it (0.1 to 0.2 s of CPU, under the GIL) would hold those reads back one after another, the project's
    among them, which every step waits for on a new project.

    Then, once per process, the objects that exist by now (the libraries' modules, classes and
    descriptors, about 69,000) are moved out of the garbage collector's reach (gc.freeze): they live
    until the process ends, and each full collection walked them all again, about 20 ms of CPU a time
    in the middle of a run. And the young generation is collected every 20,000 allocations instead of
    every 700: a run allocates much (every answer is parsed into objects), little of it in cycles."""
    global _frozen
    for name in CLIENT_LIBRARIES:
        importlib.import_module(name)
    if not _frozen:
        gc.freeze()
        collect_garbage_less_often()
        _frozen = True


def collect_garbage_less_often() -> None:
    """The young generation collected every YOUNG_COLLECTION_ALLOCATIONS allocations, not every 700
    (import_client_libraries says why); verify's imports of google-genai and openai take 40% less CPU."""
    gc.set_threshold(YOUNG_COLLECTION_ALLOCATIONS, *gc.get_threshold()[1:])


CONNECTIONS_PER_API = 128
"""The connections each API's pool keeps (requests keeps 10): a fleet (at most 64 projects at once, a few
requests each) shares one pool per API, and past its size urllib3 opens more and drops them as they come
back, a warning each."""


def pooled(session: Any) -> Any:
    """`session` (a requests.Session) with a pool of CONNECTIONS_PER_API connections per host."""
    from requests.adapters import HTTPAdapter

    for prefix in ("https://", "http://"):
        session.mount(prefix, HTTPAdapter(pool_maxsize=CONNECTIONS_PER_API))
    return session


_frozen = False
YOUNG_COLLECTION_ALLOCATIONS = 20_000
"""Measured on a fleet of 50 projects (3 runs each, twice): 3.20-3.42 s against 3.38-3.50 s at 700."""


@dataclass
class GoogleSession:
    """Builds clients for the chosen endpoint. One per command run, shared by a fleet's threads: every
    client is built once per session and shared by its threads (requests and urllib3 are thread-safe,
    as Google's maintainers say of their requests-based clients), so each API has one connection pool:
    the google-cloud-* clients' own, and the discovery transport's, one per host."""

    emulator_host: str | None = None
    credentials: Any = None
    billing_project: str | None = None
    """--billing-project / GOOGLE_CLOUD_QUOTA_PROJECT: what client-based APIs bill when given."""
    _built: dict[tuple[str, str, str], Any] = field(default_factory=dict, repr=False)
    """The clients built, by (api or kind, version or module, path or class)."""
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    """Guards _built and _answers (re-entrant: a nested Resource is built from its parent's, a Resource
    with the transport)."""
    _answers: dict[str, Future] = field(default_factory=dict, repr=False)
    """read_once's answers, by key."""
    limiter: Any = None
    """A fleet's QuotaLimiter (limiter.py), shared by its threads; None: one project, no limiter."""
    first_reads_gate: threading.Semaphore | None = None
    """A fleet's limit on how many of its projects send their first reads at once (engine/speculation.py);
    None: one project."""
    speculate_after_roots: bool = False
    """A fleet: each run's speculative reads below its root steps wait for the roots' (engine/speculation.py);
    False: one project, whose reads all go out at once."""
    before_request: Callable[[], None] | None = field(default=None, repr=False)
    """Called as each request of this session is about to go out (set only through `announcing`)."""
    enabled_at: Mapping[str, float] = field(default_factory=dict, repr=False)
    """Service -> when (time.monotonic()) the run enabled it: retry.call waits out its SERVICE_DISABLED
    answers while the enablement propagates. Set only through `expecting`, per run (the steps that
    declare they read services.enabled_now get such a session): another run's enablement must not
    make this one wait."""
    enabled_in: frozenset[str] = frozenset()
    """The project (its ID and number) those services were enabled in: a SERVICE_DISABLED about another
    consumer (gcloud's own project, say, for a request that named no quota project) is no propagation."""

    @classmethod
    def create(cls, emulator_host: str | None = None, billing_project: str | None = None) -> GoogleSession:
        return cls(emulator_host=resolve_emulator_host(emulator_host), billing_project=billing_project)

    def expecting(self, enabled_at: Mapping[str, float], project: tuple[str, ...]) -> GoogleSession:
        """This session (its clients and credentials shared), waiting out SERVICE_DISABLED from the APIs
        in `enabled_at` (service -> time.monotonic() of their enablement) in `project` (its ID, number)."""
        if not enabled_at:
            return self
        return replace(self, enabled_at=MappingProxyType(dict(enabled_at)), enabled_in=frozenset(project))

    def announcing(self, callback: Callable[[], None]) -> GoogleSession:
        """This session (its clients and caches shared) calling `callback` before each of its requests."""
        return replace(self, before_request=callback)

    def about_to_send(self) -> None:
        """Client.execute and Client.call, before every request."""
        if self.before_request is not None:
            self.before_request()

    @property
    def is_emulator(self) -> bool:
        return self.emulator_host is not None

    def endpoint(self, api: str) -> str:
        """Base URL for `api` (e.g. "iam", "oauth2"): http://HOST:PORT with an emulator, else
        https://api.googleapis.com. The one place where the emulator and Google differ."""
        if self.emulator_host:
            return f"http://{self.emulator_host}"
        return f"https://{api}.googleapis.com"

    @property
    def token_uri(self) -> str:
        """OAuth2's token endpoint: https://oauth2.googleapis.com/token on Google."""
        return self.endpoint("oauth2") + "/token"

    @property
    def tokeninfo_uri(self) -> str:
        return self.endpoint("oauth2") + "/tokeninfo"

    def paced(self, method: str, fn: Any) -> Any:
        """`fn`, one attempt of a request of `method`, under the fleet's limiter when there is one."""
        return fn if self.limiter is None else self.limiter.paced(method, fn)

    def get_credentials(self) -> Any:
        """The caller's ADC, found once per session (credentials.py), pointed at this session's endpoints,
        with a token: refreshed here, once, before the first requests go out together (each of them
        would otherwise find no token and refresh it on its own)."""
        if self.credentials is not None:  # given (verify's): used as they are
            return self.credentials
        return self._once(("credentials", "", ""), self._application_default).result()

    def _application_default(self) -> Future:
        """The credentials, or why there are none, settled once: kept with the built clients, so that the
        sessions `expecting` and `announcing` make share them, and a login that failed (no ADC, a refused
        refresh, a token endpoint that does not answer) is not tried again by every client of the run."""
        settled: Future = Future()
        try:
            found = adc.application_default(self.token_uri, self.endpoint("iamcredentials"), self.is_emulator)
            adc.refresh(found, self.is_emulator)
            settled.set_result(found)
        except Exception as exc:
            settled.set_exception(exc)
        return settled

    def point(self, credentials: Any) -> Any:
        """Credentials loaded elsewhere (verify's credentials file), pointed at this session's endpoints."""
        return adc.pointed_at(credentials, self.token_uri, self.endpoint("iamcredentials"))

    def quota_headers(self, api: str, project: str | None) -> dict[str, str]:
        """The x-goog-user-project header a request of `api` about `project` carries, if any
        (quota_projects.py)."""
        chosen = self._quota_project(api, project)
        return {quota_projects.HEADER: chosen} if chosen else {}

    def can_bill(self, api: str, project: str | None) -> bool:
        """Whether a request of `api` about `project` (None: one still to be created) has a project to
        bill: False for a client-based API called with a user's credentials and no project to name."""
        needs = quota_projects.needs_quota_project(api, user=quota_projects.is_user(self.get_credentials()))
        return not needs or self._quota_project(api, project) is not None

    def _quota_project(self, api: str, project: str | None) -> str | None:
        return quota_projects.quota_project(
            api,
            user=quota_projects.is_user(self.get_credentials()),
            project=project,
            billing_project=self.billing_project,
        )

    def cloud_client(self, client_cls: type, api: str) -> Any:
        """The session's google-cloud-* client (REST transport) for `api`, e.g.
        cloud_client(ProjectsClient, "cloudresourcemanager"). Its transport's requests session (reached
        through `_session`: the generated REST transports take none and size none) gets the pool a fleet
        needs."""

        def build() -> Any:
            client = client_cls(
                transport="rest",
                credentials=self.get_credentials(),
                client_options={"api_endpoint": self.endpoint(api)},
            )
            pooled(client.transport._session)
            return client

        return self._once(("cloud", client_cls.__module__, client_cls.__name__), build)

    def _once(self, key: tuple[str, str, str], build: Callable[[], T]) -> T:
        """What `build()` makes, made once per session for `key` (one thread builds, the others wait)."""
        with self._lock:
            built = self._built.get(key)
            if built is None:
                built = self._built[key] = build()
        return built

    def read_once(self, key: str, read: Callable[[], T]) -> T:
        """`read()`, sent at most once per session for `key`: a later call waits for the first one's
        answer, Google's error answers included (anything else, e.g. no answer in time, is not kept).
        Only for reads whose answer nothing gcp-setup does can change (is a billing account open?),
        which a step may then send early (Step.early_reads) and find again when it needs it."""
        with self._lock:
            answer = self._answers.get(key)
            first = answer is None
            if first:
                answer = self._answers[key] = Future()
        assert answer is not None
        if first:
            try:
                answer.set_result(read())
            except GoogleApiError as exc:
                answer.set_exception(exc)
            except BaseException as exc:
                with self._lock:
                    del self._answers[key]
                answer.set_exception(exc)
        return answer.result()

    def discovery(self, api: str, version: str, path: str = "") -> Any:
        """The google-api-python-client Resource of `api` at `path` (e.g. "projects.serviceAccounts"),
        from the discovery document shipped with the library. Built once per session and shared by its
        threads (a fleet's included): googleapiclient parses the parameters of every method of a
        Resource each time it makes one, which a call such as `.projects()` does, about 1 ms of CPU a
        time. Its requests go out on the session's transport (`transport()`)."""

        def build() -> Any:
            if not path:
                return self._build(api, version)
            parent, _, name = path.rpartition(".")
            return getattr(self.discovery(api, version, parent), name)()

        return self._once((api, version, path), build)

    def _build(self, api: str, version: str) -> Any:
        from googleapiclient import discovery

        return discovery.build(
            api,
            version,
            http=self.transport(),
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.endpoint(api) + "/"},
        )

    def transport(self) -> Any:
        """The transport of every discovery request (deadline.DiscoveryHttp), authorized with the
        session's credentials: one connection pool per host, that is per API."""
        return self._once(("transport", "", ""), self._http)

    def _http(self) -> Any:
        from google.auth.transport.requests import AuthorizedSession

        from gcp_setup.google.deadline import DiscoveryHttp

        return DiscoveryHttp(pooled(AuthorizedSession(self.get_credentials())))
