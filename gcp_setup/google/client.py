"""The one shape of gcp-setup's API clients: a class per Google API, built on `Client`.

A client holds the run's GoogleSession (endpoint, credentials, the library clients it built) and where
progress notes go. Every request goes out through `execute` (a google-api-python-client request) or `call`
(a google-cloud-* method), both under the one retry policy (retry.py); every long-running operation is
waited for through `wait_operation` or `wait_cloud_operation` (operations.py).

    info = ResourceManagerClient(session, progress).create_project("my-project", ...)
    keys = ApiKeysClient(session).list("my-project")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from gcp_setup.errors import GoogleApiError
from gcp_setup.google import credentials, deadline, operations, retry
from gcp_setup.google.session import GoogleSession

T = TypeVar("T")

PROPAGATION_WINDOW_S = 180.0
"""How long after this run enabled an API its SERVICE_DISABLED answers are waited out."""


def silent(message: str) -> None:
    """Progress sink when the caller shows none."""


@dataclass
class Client:
    session: GoogleSession
    progress: Callable[[str], None] = silent

    def execute(self, request: Any, policy: retry.RetryPolicy = retry.DEFAULT_POLICY) -> dict[str, Any]:
        """Send a google-api-python-client request (its own retries off) on the session's transport,
        which the Resources were built with; the answer's JSON, {} for none."""
        send = self.session.paced(getattr(request, "methodId", ""), request.execute)
        self.session.about_to_send()
        with self._login_kept():
            return retry.call(send, policy=policy, waits=self._propagation(), num_retries=0) or {}

    def billed(self, request: Any, project: str | None = None) -> Any:
        """`request` (of a client-based API) with the x-goog-user-project header it needs when it is
        about `project` (default: the session's), if any (quota_projects.py)."""
        api = getattr(request, "methodId", "").split(".", 1)[0]
        request.headers.update(self.session.quota_headers(api, project))
        return request

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a google-cloud-* method, its own retries off and with the deadline (without a timeout its
        REST transport may wait forever)."""
        send = self.session.paced(getattr(method, "__qualname__", ""), method)
        self.session.about_to_send()
        with self._login_kept():
            result: T = retry.call(
                send, *args, waits=self._propagation(), retry=None, timeout=deadline.seconds(), **kwargs
            )
            return result

    @contextmanager
    def _login_kept(self) -> Iterator[None]:
        """A refresh Google refused (an expired or revoked login, a reauth, a deleted key) is one line
        naming the login, whichever request needed the token."""
        try:
            yield
        except credentials.REFUSED as exc:
            raise credentials.refresh_failed(exc, self.session.is_emulator) from exc

    def wait_operation(
        self, operation: dict[str, Any], get: Callable[[str], Any], what: str
    ) -> dict[str, Any]:
        """Wait for a discovery client's operation; `get(name)` is the request that reads it again."""
        name = operation["name"]
        done: dict[str, Any] = operations.wait(
            lambda: self.execute(get(name)), what or name, self.progress, first=operation
        )
        return done

    def wait_cloud_operation(self, cloud_client: Any, started: Any, what: str) -> Any:
        """Wait for the api_core Operation a google-cloud-* method returned, polled through that client's
        own get_operation; the finished google.longrunning.Operation."""
        first = started.operation
        return operations.wait(
            lambda: self.call(cloud_client.get_operation, {"name": first.name}),
            what,
            self.progress,
            first=first,
        )

    def _propagation(self) -> retry.Waits:
        """SERVICE_DISABLED about an API this run enabled in its project is propagation
        (GoogleSession.expecting); about another consumer project it is not."""
        session = self.session

        def enabled_since(error: GoogleApiError) -> float | None:
            consumer = error.metadata.get("consumer", "").removeprefix("projects/")
            if consumer and consumer not in session.enabled_in:
                return None
            return session.enabled_at.get(error.metadata.get("service", ""))

        return retry.service_enabled_recently(enabled_since, PROPAGATION_WINDOW_S)
