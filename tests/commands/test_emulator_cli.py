"""`gcp-setup emulator` started by hand, used from another shell exactly as it tells the user."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gcloud


def start_emulator(*args: str) -> tuple[subprocess.Popen, list[str]]:
    """Start `gcp-setup emulator --port 0 ARGS`; return it and the shell lines it printed on stdout."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gcp_setup", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    while not lines or "api_endpoint_overrides/iamcredentials" not in lines[-1]:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"emulator ended early: {proc.stderr.read()}")
        lines.append(line.strip())
    return proc, lines


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def run_shell(lines: list[str], *commands: str, tmp_path: Path) -> subprocess.CompletedProcess:
    script = "\n".join(["set -e", *lines, *commands])
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLOUDSDK_", "GCP_SETUP_")) and k != "GOOGLE_APPLICATION_CREDENTIALS"
    }
    return subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )


def test_printed_lines_point_gcloud_and_gcp_setup_at_it_and_state_survives(gcloud, tmp_path: Path) -> None:
    """As a user does: the emulator issues a login (--adc-file) and prints the line that selects it."""
    state = tmp_path / "world.json"
    proc, lines = start_emulator("--state", str(state), "--adc-file", str(tmp_path / "adc.json"))
    try:
        assert lines[0].startswith("export GCP_SETUP_EMULATOR_HOST=127.0.0.1:")
        assert lines[1] == f"export GOOGLE_APPLICATION_CREDENTIALS={tmp_path / 'adc.json'}"
        result = run_shell(
            lines,
            "gcloud config set core/project by-hand-1",
            "gcloud projects create by-hand-1 --quiet",
            "gcloud billing projects link by-hand-1 --billing-account=000000-AAAAAA-000001",
            "gcloud services enable generativelanguage.googleapis.com",
            f"{sys.executable} -m gcp_setup status --project by-hand-1",
            tmp_path=tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr[-800:]
        assert "project by-hand-1" in result.stdout, "gcp-setup found the project gcloud made"
        assert "enable generativelanguage" not in result.stdout, "it sees the API gcloud enabled"
    finally:
        assert "emulator stopped" in stop(proc)
    proc, lines = start_emulator("--state", str(state))
    try:
        again = run_shell(
            lines, "gcloud projects describe by-hand-1 --format='value(lifecycleState)'", tmp_path=tmp_path
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == "ACTIVE"
    finally:
        stop(proc)


def test_the_gemini_key_policy_flag_sets_the_era() -> None:
    from gcp_setup.emulator.control import EmulatorControl

    proc, lines = start_emulator("--gemini-key-policy", "restricted-standard")
    try:
        host = lines[0].removeprefix("export GCP_SETUP_EMULATOR_HOST=")
        assert EmulatorControl(f"http://{host}").set_realism()["gemini_key_policy"] == "restricted-standard"
    finally:
        stop(proc)
