"""The emulator's own machinery: routing, Google-shaped errors, control endpoints, the CLI command."""

from __future__ import annotations

import socket
import subprocess
import sys

import requests

from gcp_setup.emulator.control import EmulatorControl


def test_unknown_url_answers_google_shaped_404(emu: EmulatorControl) -> None:
    response = requests.get(f"{emu.url}/v9/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_request_log_records_and_clears(emu: EmulatorControl) -> None:
    requests.get(f"{emu.url}/v9/nothing")
    assert [r["path"] for r in emu.requests()] == ["/v9/nothing"]
    emu.clear_requests()
    assert emu.requests() == []


def test_unknown_realism_switch_is_rejected(emu: EmulatorControl) -> None:
    response = requests.patch(f"{emu.url}/_emulator/realism", json={"latency": 5})
    assert response.status_code == 400
    assert "latency" in response.json()["error"]["message"]


def test_emulator_command_refuses_a_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "gcp_setup", "emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "choose another --port" in result.stderr


def test_emulator_command_refuses_a_bad_port() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gcp_setup", "emulator", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
