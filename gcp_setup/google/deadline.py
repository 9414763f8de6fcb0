"""Every network call has a deadline, for connecting and for each read: GCP_SETUP_TIMEOUT seconds (or
the global `--timeout`), 30 by default. A call that gets no answer in time is not sent again (sending
it again would double the wait, and a hung endpoint stays hung); the run ends with one line naming the
host that did not answer.

Each kind of client takes the deadline its own way: google-api-python-client through the transport
it is built on (`DiscoveryHttp`), google-cloud-* clients per call (client.Client.call passes `timeout`),
google-genai through HttpOptions, openai through its constructor, google-auth's token requests
through `token_request()`.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any
from urllib.parse import urlsplit

from gcp_setup import defaults
from gcp_setup.errors import GcpSetupError, UsageError
from gcp_setup.settings.parsers import as_seconds

DEFAULT_S = defaults.TIMEOUT_S
ENV = "GCP_SETUP_TIMEOUT"
_chosen: float | None = None


def seconds() -> float:
    """The deadline of one call: --timeout, else GCP_SETUP_TIMEOUT, else DEFAULT_S."""
    return _chosen if _chosen is not None else from_environment()


def from_environment() -> float:
    """GCP_SETUP_TIMEOUT, else DEFAULT_S."""
    text = os.environ.get(ENV, "").strip()
    return parse(text, f"env {ENV}") if text else DEFAULT_S


def parse(text: Any, source: str) -> float:
    """`text` as the timeout setting reads it (gcp_setup/settings/table.py); an error names `source`."""
    try:
        return as_seconds(text)
    except UsageError as exc:
        raise UsageError(f"{source}: {exc}") from None


def choose(value: float | None) -> None:
    """The deadline for this process (the CLI's --timeout); None: GCP_SETUP_TIMEOUT or the default."""
    global _chosen
    _chosen = value


class NoAnswer(GcpSetupError):
    """An endpoint accepted the connection, or was being connected to, and did not answer in time."""

    final = True
    """Asking again would only wait again: the engine does not repeat a read that ended so."""

    def __init__(self, host: str, after_s: float) -> None:
        super().__init__(
            f"no answer from {host} within {after_s:g} s",
            hint=f"check that {host} is up and serves the Google APIs; a slow network may need "
            f"--timeout or {ENV} above {after_s:g}",
        )
        self.host = host


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


_TIMEOUTS = frozenset(
    {
        "Timeout",
        "TimeoutError",
        "ConnectTimeout",
        "ReadTimeout",
        "timeout",
        "TimeoutException",
        "APITimeoutError",
    }
)
"""Exception class names (anywhere in the class's MRO) that mean "no answer in time": requests', urllib3's,
the socket module's, httpx2's (google-genai) and openai's."""


def timed_out(exc: BaseException) -> NoAnswer | None:
    """The NoAnswer a client's timeout exception means, else None."""
    if isinstance(exc, NoAnswer):
        return exc
    names = {cls.__name__ for cls in type(exc).__mro__}
    if not names & _TIMEOUTS:
        return None
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    if url:
        return NoAnswer(host_of(str(url)), seconds())
    found = re.search(r"host='([^']+)', port=(\d+)", str(exc))
    return NoAnswer(f"{found.group(1)}:{found.group(2)}" if found else "the API endpoint", seconds())


class DiscoveryHttp:
    """google-api-python-client's transport, over requests instead of httplib2: every call with the
    deadline, and no request ever sent twice by the transport. (httplib2 sends a request again when the
    connection drops before the answer, "stale connection", whatever its method: for keys.create that
    is a second key no file holds. Whether to send again is retry.py's decision alone.)"""

    def __init__(self, session: Any) -> None:
        """`session`: a requests session authorized with the run's credentials."""
        self.session = session
        self.session.trust_env = False  # each request gets _environment_settings instead
        self.timeout = seconds()
        self._settings: dict[tuple[str, str], dict[str, Any]] = {}

    def _environment_settings(self, uri: str) -> dict[str, Any]:
        """What the environment says for `uri`'s host (proxies, CA bundle), as requests reads it
        (Session.merge_environment_settings): read once per host, not at every request, where it scans
        the whole environment twice (a quarter of requests' CPU per request)."""
        import requests

        scheme, host = urlsplit(uri)[:2]
        found = self._settings.get((scheme, host))
        if found is None:
            found = dict(requests.Session().merge_environment_settings(uri, {}, None, None, None))
            self._settings[(scheme, host)] = found
        return found

    def request(
        self, uri: str, method: str = "GET", body: Any = None, headers: Any = None, **_: Any
    ) -> tuple[Any, bytes]:
        """As httplib2.Http.request: (a Response with .status and lower-case headers, the body)."""
        import httplib2

        settings = self._environment_settings(uri)
        try:
            answer = self.session.request(
                method, uri, data=body, headers=headers, timeout=self.timeout, **settings
            )
        except Exception as exc:
            no_answer = timed_out(exc)
            if no_answer is not None:
                raise no_answer from exc
            raise
        info = {name.lower(): value for name, value in answer.headers.items()}
        info["status"] = str(answer.status_code)
        response = httplib2.Response(info)
        response.reason = answer.reason
        return response, answer.content


def token_request() -> Any:
    """google-auth's transport for refreshing credentials, with the deadline."""
    from google.auth.transport.requests import Request

    return functools.partial(Request(), timeout=seconds())
