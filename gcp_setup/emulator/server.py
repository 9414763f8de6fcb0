"""The emulator's HTTP server: werkzeug routing, realism (latency, faults, dropped connections),
the request log, and the /_emulator control endpoints tests and users drive it with.

    with Emulator() as emu:            # in-process, on a free port
        os.environ["GCP_SETUP_EMULATOR_HOST"] = emu.host
        ...
        emu.log.writes()               # what the code under test changed
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from gcp_setup.emulator.core import errors, quota_project, validation
from gcp_setup.emulator.core.concurrency import Hold, InFlight
from gcp_setup.emulator.core.credentials_sent import bearer, credential_kind
from gcp_setup.emulator.core.realism import Realism
from gcp_setup.emulator.core.request_log import LogEntry, RequestLog
from gcp_setup.emulator.core.routes import (
    ROUTES,
    ApiRequest,
    Reply,
    Route,
    find_not_emulated,
    load_all,
    shared_path_methods,
)
from gcp_setup.emulator.core.world import World
from gcp_setup.emulator.oauth.models import TOKEN_PATH, OAuthBackend
from gcp_setup.emulator.proxy import tunnel
from gcp_setup.emulator.proxy.authority import Authority
from gcp_setup.errors import EmulatorError

CONTROL_PREFIX = "/_emulator/"
CREDENTIAL_PATHS = frozenset({TOKEN_PATH, "/oauth2/v4/token", "/tokeninfo", "/oauth2/v3/tokeninfo"})
"""The OAuth2 endpoints: a client asks them before the API requests they authorize, so the concurrency
barrier, which counts API requests in flight together, leaves them out."""


def _json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


class EmulatorApp:
    """The WSGI application."""

    def __init__(self, world: World, state_file: Path | None = None) -> None:
        load_all()
        self.world = world
        self.state_file = state_file
        self.log = RequestLog()
        self.in_flight = InFlight()
        self._writes = 0
        self.hold = Hold()
        self.proxy: Authority | None = None
        """The CA of the proxy for Google's hosts (proxy/), once the server listens."""
        routes = shared_path_methods(ROUTES)
        self.url_map = Map(
            [Rule(r.rule, methods=[r.http_method], endpoint=r) for r in routes],
            strict_slashes=False,
            merge_slashes=False,
        )

    # -- WSGI entry -----------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX) and tunnel.PROXIED_HOST not in environ:
            response = self._control(request)
        elif request.path in CREDENTIAL_PATHS:  # a token precedes the requests it authorizes: no barrier
            response = self._api(request, environ)
        else:
            with self.in_flight.held(self.world.realism):
                response = self._api(request, environ)
        return response(environ, start_response)

    def _api(self, request: Request, environ: WSGIEnvironment) -> Response:
        arrived = time.time()
        adapter = self.url_map.bind_to_environ(environ)
        try:
            route, params = adapter.match()
        except (RouteNotFound, MethodNotAllowed):
            found = find_not_emulated(request.method, request.path)
            if found is None:
                return self._unrouted(request)
            route, params = found
        proxied = environ.get(tunnel.PROXIED_HOST)
        if proxied and not tunnel.serves(proxied, route.method_id):  # Google's hosts each serve one API
            return self._unrouted(request)
        realism = self.world.realism
        principal = self.world.default_caller
        api_request: ApiRequest | None = None
        self.world.request_arrived()
        try:
            if realism.faults_on(route.kind, route.method_id) and self.world.dice.chance(realism.fault_rate):
                raise errors.fault(self.world.dice.choice(realism.fault_statuses))
            principal, authenticated = self._principal(request, route)
            api_request = ApiRequest(
                world=self.world,
                method=request.method,
                path=request.path,
                params=dict(params),
                query=request.args,
                body=validation.body_of(request),
                headers=request.headers,
                principal=principal,
                authenticated=authenticated,
                api_key=(
                    request.headers.get("x-goog-api-key")
                    or request.args.get("key")
                    # The openai library sends its API key as `Authorization: Bearer KEY`.
                    or (bearer(request) if route.api_key_bearer else None)
                ),
                method_id=route.method_id,
                api_version=route.api_version,
                remote_addr=request.remote_addr or "127.0.0.1",
            )
            if route.api_version:
                validation.check_body(route.api_version, route.method_id, api_request.body, strict=False)
            if route.kind == "write" and self._hold_before_write():
                self.hold.wait()
                raise errors.fault(503)  # never applied: its client was killed meanwhile
            with self.world.lock:
                quota_project.check(api_request, route)
                result = validation.handled(route, api_request)
                response = _to_response(result)
                hold = route.kind == "write" and response.status_code < 400 and self._after_write(environ)
            if hold:  # outside the world's lock: the control endpoints must answer meanwhile
                self.hold.wait()
        except errors.ApiError as exc:
            response = _json_response(exc.to_json(), exc.code, exc.headers)
        except Exception:  # a request the emulator cannot follow: Google's 500, not werkzeug's HTML page
            response = _json_response(errors.Internal("Internal error encountered.").to_json(), 500)
        # The answer leaves latency_ms after the request arrived: Google's latency includes its own work,
        # so the emulator's (a few ms a request) is not added on top of it.
        if realism.latency_ms:
            time.sleep(max(0.0, arrived + realism.latency_ms / 1000 - time.time()))
        self.log.add(
            LogEntry(
                request.method,
                request.path,
                response.status_code,
                route.method_id,
                route.kind,
                # A handler may name the caller itself: an API key bound to a service account acts as it.
                api_request.principal if api_request else principal,
                time.time(),
                arrived,
                credential_kind(request, route),
                request.headers.get(quota_project.HEADER, ""),
            )
        )
        return response

    def _principal(self, request: Request, route: Route) -> tuple[str, bool]:
        token = bearer(request)
        if token is None or route.api_key_bearer:
            return self.world.default_caller, False
        principal = self.world.tokens.principal(token)
        if principal is None:
            raise errors.Unauthenticated(
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
                reason="ACCESS_TOKEN_EXPIRED",
            )
        return principal, True

    def _hold_before_write(self) -> bool:
        """True when this write is the one Realism.hold_before_writes names (its answer is then held)."""
        realism = self.world.realism
        with self.world.lock:
            if realism.hold_before_writes is None or self._writes + 1 < realism.hold_before_writes:
                return False
            realism.hold_before_writes = None
            self.hold.catch()
            return True

    def _after_write(self, environ: WSGIEnvironment) -> bool:
        """Count the write; True when its answer is to be held (Realism.hold_after_writes)."""
        self._writes += 1
        if self.state_file is not None:
            self.world.save(self.state_file)
        realism = self.world.realism
        drop_at = realism.drop_after_writes
        if drop_at is not None and self._writes >= drop_at:
            realism.drop_after_writes = None
            _drop_connection(environ)
        if realism.hold_after_writes is not None and self._writes >= realism.hold_after_writes:
            realism.hold_after_writes = None
            self.hold.catch()
            return True
        return False

    def _unrouted(self, request: Request) -> Response:
        """A path no API has, or a method a path does not take: Google's front end answers both 404."""
        err = errors.NotFound(f"The requested URL {request.path} was not found on this server.")
        self.log.add(LogEntry(request.method, request.path, err.code, "", "unknown", "", time.time()))
        return _json_response(err.to_json(), err.code)

    # -- /_emulator control endpoints ------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        what = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            body = validation.body_of(request)
        except errors.ApiError as exc:
            return _json_response(exc.to_json(), exc.code)
        with self.world.lock:
            if what == "health":
                return _json_response({"status": "ok"})
            if what == "requests" and request.method == "GET":
                return _json_response({"requests": [asdict(e) for e in self.log.entries()]})
            if what == "requests" and request.method == "DELETE":
                self.log.clear()
                self.in_flight.clear()
                return _json_response({})
            if what == "hold":
                return _json_response({"held": self.hold.held})
            if what == "hold/release" and request.method == "POST":
                self.hold.release()
                return _json_response({})
            if what == "concurrency":
                return _json_response(self.in_flight.to_json())
            if what == "clock":
                if request.method in ("PATCH", "POST"):
                    if body.get("freeze"):
                        self.world.freeze_clock()
                    self.world.advance_clock(float(body.get("advance_s", 0)))
                    if "advance_per_request_s" in body:
                        self.world.advance_per_request_s = float(body["advance_per_request_s"])
                return _json_response({"now": self.world.now()})
            if what == "reset" and request.method == "POST":
                self.reset()
                return _json_response({})
            if what == "realism":
                if request.method in ("PATCH", "POST"):
                    try:
                        self.world.realism.update(body)
                    except ValueError as exc:
                        return _json_response(errors.InvalidArgument(str(exc)).to_json(), 400)
                    self.world.dice.reseed(self.world.realism.seed)
                return _json_response(self.world.realism.to_json())
            if what == "org-policies":
                if request.method in ("PATCH", "POST"):
                    try:
                        self.world.org_policies.update(body)
                    except ValueError as exc:
                        return _json_response(errors.InvalidArgument(str(exc)).to_json(), 400)
                return _json_response(vars(self.world.org_policies))
            if what == "proxy" and self.proxy is not None:  # what a program's environment points at
                return _json_response(self.proxy.described(request.host_url))
            if what == "state":
                return _json_response(self.world.to_json())
            if what == "credentials" and request.method == "POST":
                return self._credentials(request, body)
        return _json_response(errors.NotFound(f"No control endpoint {request.path}.").to_json(), 404)

    def _credentials(self, request: Request, body: dict[str, Any]) -> Response:
        """POST /_emulator/credentials {"principal": ...}: a credentials file the emulator's token
        endpoint honours (user:... or none: an authorized_user ADC; serviceAccount:EMAIL: a key file)."""
        principal = str(body.get("principal") or self.world.default_caller)
        token_uri = request.host_url.rstrip("/") + TOKEN_PATH
        try:
            return _json_response(self.world.backend(OAuthBackend).credentials_file(principal, token_uri))
        except errors.ApiError as exc:
            return _json_response(exc.to_json(), exc.code)

    def reset(self) -> None:
        self.world.reset()
        self.log.clear()
        self.in_flight.clear()
        self.hold.release()
        self._writes = 0


def _to_response(result: dict[str, Any] | Reply) -> Response:
    if isinstance(result, Reply):
        if result.content_type == "application/json":
            return _json_response(result.body, result.status, result.headers)
        return Response(
            result.body, status=result.status, headers=result.headers, content_type=result.content_type
        )
    return _json_response(result)


def _drop_connection(environ: WSGIEnvironment) -> None:
    """Simulate a network cut after the server acted: the client never sees the answer."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class Emulator:
    """Runs the emulator on a background thread; a context manager for tests and the CLI."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        realism: Realism | None = None,
        state_file: Path | None = None,
        proxy_dir: Path | None = None,
    ) -> None:
        """`proxy_dir`: where the proxy's CA is kept (proxy/authority.py); None: a directory of its own
        that goes with the emulator."""
        load_all()  # registers every backend, which the World instantiates
        self.world = World(realism=realism or Realism())
        if state_file is not None and state_file.exists():
            try:
                self.world.load(state_file)
            except (OSError, ValueError, TypeError) as exc:
                raise EmulatorError(f"cannot read emulator state {state_file}: {exc}") from exc
        self.app = EmulatorApp(self.world, state_file)
        self._bind_host, self._bind_port = host, port
        self._proxy_dir = proxy_dir
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def log(self) -> RequestLog:
        return self.app.log

    @property
    def port(self) -> int:
        assert self._server is not None, "emulator not started"
        return self._server.port

    @property
    def host(self) -> str:
        """host:port, the value of GCP_SETUP_EMULATOR_HOST."""
        return f"{self._bind_host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> Emulator:
        # Bind here rather than in werkzeug, which prints its own message and exits on a busy port.
        family = socket.AF_INET6 if ":" in self._bind_host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self._bind_host, self._bind_port))
            listener.listen(128)
        except OSError as exc:
            listener.close()
            raise EmulatorError(
                f"cannot listen on {self._bind_host}:{self._bind_port}: {exc.strerror or exc}; "
                "choose another --port (0 picks a free one)"
            ) from exc
        self._bind_port = listener.getsockname()[1]
        self._server = make_server(
            self._bind_host,
            self._bind_port,
            self.app,
            threaded=True,
            request_handler=tunnel.ProxyHandler,
            fd=listener.fileno(),
        )
        self.app.proxy = tunnel.serve_tunnels(self._server, self._proxy_dir)
        self._listener = listener
        self._server.daemon_threads = True  # type: ignore[attr-defined]  # threaded: a ThreadedWSGIServer
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="gcp-setup-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._listener.close()
        if self.app.state_file is not None:
            self.world.save(self.app.state_file)

    def reset(self) -> None:
        self.app.reset()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
