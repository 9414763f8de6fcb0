"""The emulator answers a malformed body with 400 INVALID_ARGUMENT in Google's shape, never a 500 page
(issue 13, point 10): the bodies that crashed it, one per API. tests/reliability/test_emulator_fuzz.py
sends every route a whole set of them."""

from __future__ import annotations

import pytest
import requests

from gcp_setup import defaults


@pytest.fixture
def project(make_project, world, emu):
    """An auth key (bound to an account): the only kind the Gemini API takes today."""
    from gcp_setup.emulator.apikeys.models import ApiKeysBackend
    from gcp_setup.emulator.iam.models import ServiceAccountsBackend

    made = make_project("robust-1", (defaults.GENERATIVE_LANGUAGE_API, "apikeys.googleapis.com"))
    with world.lock:
        account = world.backend(ServiceAccountsBackend).create(made, defaults.SERVICE_ACCOUNT_ID)
        return world.backend(ApiKeysBackend).create(made, "gemini-key-1", {}, account).key_string


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/v1/projects", "[]", 'Unknown name "": Root element must be a message.'),
        ("/v3/projects", '{"projectId": 123}', "Invalid value at 'project_id' (TYPE_STRING), 123"),
        (
            "/v3/projects/robust-1:setIamPolicy",
            '{"policy": {"bindings": "x"}}',
            "Invalid value at 'policy.bindings'",
        ),
        (
            "/v1/projects/robust-1/services:batchEnable",
            '{"serviceIds": "abc"}',
            "Invalid value at 'service_ids'",
        ),
        (
            "/v1beta/models/gemini-3.8-flash:generateContent",
            '{"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputTokens": "abc"}}',
            "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), \"abc\"",
        ),
        (
            "/v1beta/openai/chat/completions",
            '{"model": "gemini-3.8-flash", "messages": "hi"}',
            "Invalid value at 'messages'",
        ),
    ],
)
def test_a_malformed_body_is_400_invalid_argument(emu, project, path, body, says):
    answer = requests.post(
        emu.url + path,
        data=body,
        headers={  # the openai library sends its key as a bearer token, once
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {project}"} if "openai" in path else {"x-goog-api-key": project}),
        },
        timeout=30,
    )
    error = answer.json()
    error = error[0] if isinstance(error, list) else error
    assert answer.status_code == 400, answer.text
    assert error["error"]["status"] == "INVALID_ARGUMENT"
    assert says in error["error"]["message"]


def test_batch_enable_with_a_string_enables_nothing(emu, project):
    requests.post(
        emu.url + "/v1/projects/robust-1/services:batchEnable", json={"serviceIds": "iam"}, timeout=30
    )
    assert emu.writes() == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "emulator.example.com"])
def test_a_host_other_machines_reach_is_refused_without_allow_remote(host):
    from click.testing import CliRunner

    from gcp_setup.cli import cli

    result = CliRunner().invoke(cli, ["emulator", "--host", host, "--port", "0"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --host {host} serves the emulator to other machines: anyone who")
    assert result.stderr.count("\n") == 1


def test_allow_remote_serves_and_says_what_it_exposes():
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "gcp_setup", "emulator", "--host", "0.0.0.0", "--port", "0", "--allow-remote"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stderr.readline()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert first.startswith(
        "warning: listening on 0.0.0.0: anyone who can reach it may call every emulated API"
    )
