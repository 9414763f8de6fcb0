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

import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeVar

from gcp_setup import envvars
from gcp_setup.errors import EmulatorError, GoogleApiError
from gcp_setup.google import credentials as adc
from gcp_setup.google import quota_projects, transport
from gcp_setup.settings.checks import check_emulator_host

T = TypeVar("T")


def resolve_emulator_host(explicit: str | None = None) -> str | None:
    return check_emulator_host(explicit if explicit is not None else os.environ.get(envvars.EMULATOR_HOST))


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
    _answers: dict[str, Future[Any]] = field(default_factory=dict, repr=False)
    """read_once's answers, by key."""
    limiter: Any = None
    """Paces every request attempt to Google's per-minute quotas (limiter.py), shared by the session's
    threads; None: not paced."""
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

    def program_environment(self) -> dict[str, str]:
        """What a user's own program needs in its environment (the .env) to reach this session's
        endpoints through Google's libraries: nothing on Google. On the emulator, the emulator as the
        HTTPS proxy of Google's hosts, with its CA: google-auth refreshes a user's token only at Google's
        host, and no base URL will do for google-genai (in Vertex mode from the environment it takes the
        Gemini API's, GOOGLE_GEMINI_BASE_URL, and drops the project and location from the path)."""
        if not self.emulator_host:
            return {}
        proxy = self.read_once("emulator proxy", self._emulator_proxy)
        return {
            envvars.HTTPS_PROXY: proxy["proxy"],
            envvars.NO_PROXY: self.emulator_host.rpartition(":")[0],  # the emulator itself: direct
            envvars.SSL_CERT_FILE: proxy["caBundle"],
            envvars.REQUESTS_CA_BUNDLE: proxy["caBundle"],
        }

    def _emulator_proxy(self) -> dict[str, str]:
        import requests

        url = f"http://{self.emulator_host}/_emulator/proxy"
        try:
            answer = requests.get(url, timeout=10)
            answer.raise_for_status()
            named: dict[str, str] = answer.json()
            return named
        except (requests.RequestException, ValueError) as exc:
            raise EmulatorError(
                f"the emulator at {self.emulator_host} names no HTTPS proxy ({url}: {exc}); "
                "restart `gcp-setup emulator` with this version of gcp-setup"
            ) from None

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

    def _application_default(self) -> Future[Any]:
        """The credentials, or why there are none, settled once: kept with the built clients, so that the
        sessions `expecting` and `announcing` make share them, and a login that failed (no ADC, a refused
        refresh, a token endpoint that does not answer) is not tried again by every client of the run."""
        settled: Future[Any] = Future()
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
            transport.pooled(client.transport._session)
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
        which a step may then send early (its early_reads hook, engine/speculation.py) and find again when
        it needs it."""
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
        result: T = answer.result()
        return result

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
        return transport.authorized_http(self.get_credentials())
