"""Every network call has a deadline (issue 13, point 3): an endpoint that accepts connections and never
answers ends the run with one line naming the host, however many steps were waiting on it. Asserted on
the outcome (exit code, the line), never on elapsed time."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.google import deadline


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """HOST:PORT of a server that accepts every connection (the kernel completes them from the backlog)
    and never reads or answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture(autouse=True)
def _process_deadline_restored():
    yield
    deadline.choose(None)


@pytest.fixture
def user_login(clean_config, monkeypatch) -> None:
    """A user's ADC file, as gcloud writes one (its refresh goes to whatever endpoint is selected)."""
    adc = clean_config / "adc.json"
    adc.write_text(
        json.dumps({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"})
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))


def test_a_hung_endpoint_ends_plan_with_one_line_naming_the_host(user_login, silent_endpoint, monkeypatch):
    """The run's first request, its token refresh, meets the silent endpoint: one line, as for any call."""
    monkeypatch.setenv("GCP_SETUP_EMULATOR_HOST", silent_endpoint)
    result = CliRunner().invoke(cli, ["--timeout", "0.5", "plan", "--project", "hung-endpoint-1"])
    assert result.exit_code == 1, result.output
    failures = [line for line in result.stdout.splitlines() if "no answer from" in line]
    assert [line.split() for line in failures] == [
        ["!", "project", "no", "answer", "from", silent_endpoint, "within", "0.5", "s"]
    ], result.stdout
    assert "Traceback" not in result.output


def test_the_deadline_comes_from_the_environment_and_a_bad_one_names_the_variable(clean_config, monkeypatch):
    monkeypatch.setenv("GCP_SETUP_TIMEOUT", "perhaps")
    result = CliRunner().invoke(cli, ["plan", "--project", "hung-endpoint-1"])
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: env GCP_SETUP_TIMEOUT: 'perhaps' is not a number of seconds; use e.g. 30 (at most 3600)\n"
    )
    monkeypatch.setenv("GCP_SETUP_TIMEOUT", "7")
    assert deadline.seconds() == 7.0


@pytest.fixture
def web_server() -> Iterator[str]:
    """HOST:PORT of a plain web server (not a Google API): every request gets a 404 HTML page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def answer(self) -> None:
            page = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>nope</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        do_GET = do_POST = do_PATCH = do_DELETE = answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_web_server_as_the_endpoint_is_named_not_dumped(user_login, web_server, monkeypatch):
    monkeypatch.setenv("GCP_SETUP_EMULATOR_HOST", web_server)
    result = CliRunner().invoke(cli, ["plan", "--project", "web-server-1"])
    assert result.exit_code != 0
    assert "<html" not in result.output.lower() and "Traceback" not in result.output
    assert "the token endpoint answered with a web page, not a Google API error" in result.output


def test_no_adc_on_real_google_names_the_login_command(clean_config, monkeypatch):
    for name in ("GCP_SETUP_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # google-auth asks no metadata server
    result = CliRunner().invoke(cli, ["plan", "--project", "no-adc-here-1"])
    assert result.exit_code == 1
    assert "no Application Default Credentials found" in result.output
    assert "gcloud auth application-default login" in result.output
    assert "Traceback" not in result.output


def test_the_discovery_transport_follows_the_proxy_the_environment_names(emu, monkeypatch):
    """deadline.DiscoveryHttp reads the environment's proxy settings once per host (as requests does at
    every request): a host that does not resolve is reached through HTTP_PROXY, here the emulator (which
    answers a proxied request for its own paths), and NO_PROXY still wins for the host it names."""
    for name in ("http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", emu.url)
    transport = deadline.DiscoveryHttp(requests.Session())
    response, body = transport.request("http://proxied.invalid/_emulator/health")
    assert response.status == 200 and b'"ok"' in body
    monkeypatch.setenv("NO_PROXY", "bypassed.invalid")
    with pytest.raises(requests.ConnectionError, match=r"Failed to resolve 'bypassed\.invalid'"):
        deadline.DiscoveryHttp(requests.Session()).request("http://bypassed.invalid/_emulator/health")
