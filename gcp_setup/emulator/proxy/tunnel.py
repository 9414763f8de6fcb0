"""The proxy's request handler: HTTP CONNECT to a Google API host opens a tunnel whose TLS the emulator
terminates with its own CA's certificate (authority.py); the requests inside go to the emulator's own
routing, which checks that the Host names the API the path belongs to.

Hand-written on werkzeug's request handler, because no kept library fits: mitmproxy and proxy.py are
proxies of their own (their own server and event loop) that forward to an upstream, where here the
emulator's WSGI application answers in the same process, under its world's lock and request log."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

from gcp_setup.emulator.proxy.authority import Authority, authority

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

GOOGLE_SUFFIX = ".googleapis.com"
PROXIED_HOST = "gcp_setup.proxied_host"
"""The WSGI environ key of a request that came through a tunnel: the host it was sent to."""
LOCATION_PREFIXED = ("aiplatform",)
"""APIs Google also serves at LOCATION-API.googleapis.com (us-central1-aiplatform.googleapis.com)."""


def service_of(host: str) -> str | None:
    """The API a Google host serves ("aiplatform" for europe-west4-aiplatform.googleapis.com), or None
    for a host that is not one of Google's API hosts."""
    name = host.lower().rstrip(".")
    if not name.endswith(GOOGLE_SUFFIX):
        return None
    label = name.removesuffix(GOOGLE_SUFFIX)
    if not label or "." in label:
        return None
    location, _, api = label.rpartition("-")
    return api if location and api in LOCATION_PREFIXED else label


def serves(host: str, method_id: str) -> bool:
    """Whether `host` is where Google serves the method `method_id` ("aiplatform.projects....")."""
    return service_of(host) == method_id.split(".", 1)[0]


def refusal(client: str, target: str, emulated: frozenset[str]) -> str | None:
    """Why a CONNECT from `client` to `target` (HOST:PORT) is refused, or None."""
    if not ipaddress.ip_address(client.removeprefix("::ffff:")).is_loopback:
        return "the gcp-setup emulator proxies only this machine's own programs (a loopback client)"
    host, _, port = target.rpartition(":")
    service = service_of(host)
    if service is None or port != "443":
        return f"the gcp-setup emulator proxies only Google's API hosts (*{GOOGLE_SUFFIX}:443), not {target}"
    if service not in emulated:
        return f"the gcp-setup emulator does not emulate {host} (it emulates: {', '.join(sorted(emulated))})"
    return None


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, *args: Any, **kwargs: Any) -> None:  # werkzeug logs dropped connections through here
        pass


class ProxyHandler(QuietHandler):
    """The emulator's handler: its own requests, and CONNECT tunnels to the Google hosts it emulates.
    The server carries `proxy_context` (the leaf certificate's TLS context) and `emulated` (API names)."""

    def do_CONNECT(self) -> None:
        why = refusal(self.client_address[0], self.path, self.server.emulated)  # type: ignore[attr-defined]
        if why is not None:
            self._answer(403, why)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True  # the tunnel is this connection's last use
        try:
            context: ssl.SSLContext = self.server.proxy_context  # type: ignore[attr-defined]
            tls = context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):  # a client that does not trust the CA hangs up here
            return
        _Tunnelled(tls, self.client_address, self.server, self.path.rpartition(":")[0])

    def _answer(self, status: int, message: str) -> None:
        body = (message + "\n").encode()
        self.send_response(status, message)  # clients show the reason phrase, not the body
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class _Tunnelled(QuietHandler):
    """Serves the requests inside one tunnel (on its TLS socket) to the emulator's application."""

    def __init__(
        self, connection: socket.socket, client_address: tuple[str, int], server: BaseWSGIServer, host: str
    ) -> None:
        self.tunnel_host = host
        super().__init__(connection, client_address, server)

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        environ["wsgi.url_scheme"] = "https"
        environ[PROXIED_HOST] = self.tunnel_host
        return environ

    def do_CONNECT(self) -> None:  # a tunnel inside a tunnel: no
        self.send_error(405)


def serve_tunnels(server: BaseWSGIServer, directory: Path | None) -> Authority:
    """Equip `server` (its handler a ProxyHandler) to open tunnels, with the CA kept in `directory`
    (None: a directory of its own, which goes with this process)."""
    from gcp_setup.emulator.core.routes import ROUTES

    if directory is None:
        own = tempfile.TemporaryDirectory(prefix="gcp-setup-emulator-")
        ca = authority(Path(own.name), own)
    else:
        ca = authority(directory, None)
    server.proxy_context = ca.context  # type: ignore[attr-defined]
    server.emulated = frozenset(route.method_id.split(".", 1)[0] for route in ROUTES)  # type: ignore[attr-defined]
    return ca
