"""A user's own programs, unchanged, with only the .env `apply` wrote: each runs as a subprocess with the
environment a user has (PATH and HOME, nothing of gcp-setup's), loads the .env the way users do
(`set -a; . ./.env` in the shell, or python-dotenv's `load_dotenv()`), and reaches Gemini on the
emulator through the real openai and google-genai libraries.

Vertex mode and user ADC reach it through the emulator as the HTTPS proxy of Google's hosts, which the .env
names (docs/emulator.md, "Your own programs")."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from gcp_setup import envvars
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.core.world import DEFAULT_CALLER
from gcp_setup.emulator.server import Emulator
from gcp_setup.secrets.env_file import read_env_file
from gcp_setup.secrets.files import write_secret_file

PROJECT = "user-programs-1"
VERTEX = "export GOOGLE_GENAI_USE_VERTEXAI=true GOOGLE_GENAI_USE_ENTERPRISE=true; "
REPLY = "Hello from the gcp-setup emulator"

PROGRAMS = {
    "openai": """
from openai import OpenAI

client = OpenAI()
reply = client.chat.completions.create(model="gemini-3.8-flash", messages=[{"role": "user", "content": "Hi"}])
print(reply.choices[0].message.content)
""",
    "google-genai": """
from google import genai

client = genai.Client()
print(client.models.generate_content(model="gemini-3.8-flash", contents="Hi").text)
""",
    "google-genai-vertex-explicit": """
import os
from google import genai

client = genai.Client(
    vertexai=True, project=os.environ["GOOGLE_CLOUD_PROJECT"], location=os.environ["GOOGLE_CLOUD_LOCATION"]
)
print(client.models.generate_content(model="gemini-3.8-flash", contents="Hi").text)
""",
}
LOADERS = {  # {then}: the user's own exports, which win over the .env's either way
    "set -a": "set -a; . ./.env; set +a; {then}exec {python} {program}",
    "load_dotenv": "{then}exec {python} -c 'from dotenv import load_dotenv; load_dotenv(); import runpy; "
    'runpy.run_path("{program}")\'',
}


@pytest.fixture
def applied(provision_env, tmp_path: Path) -> Path:
    """A project set up by `apply --env-file .env` with a key-file ADC (the emulator issues its tokens).
    Returns the directory holding the .env."""
    result = CliRunner().invoke(cli, ["apply", *settings(tmp_path), "--yes"])
    assert result.exit_code == 0, result.output
    return tmp_path


def settings(tmp_path: Path) -> list[str]:
    billing = OPEN_ACCOUNT.removeprefix("billingAccounts/")
    key_file = (
        "--credentials",
        "key-file",
        "--allow-key-file",
        "--credentials-file",
        str(tmp_path / "key.json"),
    )
    return [
        "--project",
        PROJECT,
        "--create",
        "--billing-account",
        billing,
        "--env-file",
        str(tmp_path / ".env"),
        *key_file,
    ]


def run_program(directory: Path, name: str, loader: str, then: str = "") -> subprocess.CompletedProcess:
    program = directory / f"my_{name.replace('-', '_')}.py"  # not openai.py: it would shadow the library
    program.write_text(PROGRAMS[name])
    command = LOADERS[loader].format(python=sys.executable, program=program, then=then)
    user_env = {"PATH": os.environ["PATH"], "HOME": str(directory)}  # nothing of gcp-setup's or Google's
    return subprocess.run(
        ["sh", "-c", command], cwd=directory, env=user_env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("name", ["openai", "google-genai"])
def test_an_unmodified_program_reaches_gemini_with_only_the_env(applied, name, loader) -> None:
    result = run_program(applied, name, loader)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout


def test_the_env_holds_the_openai_pair_with_a_note_saying_why(applied) -> None:
    text = (applied / ".env").read_text()
    values = read_env_file(applied / ".env")
    assert values["OPENAI_API_KEY"] == values["GEMINI_API_KEY"]
    assert values["OPENAI_BASE_URL"].endswith("/v1beta/openai/")
    assert "# gcp-setup: OPENAI_API_KEY is GEMINI_API_KEY's string: the openai library reads only" in text


@pytest.mark.parametrize("flags", [["--no-openai-env"], ["--no-api-key"]])
def test_the_openai_pair_is_written_both_or_neither(provision_env, tmp_path, flags) -> None:
    result = CliRunner().invoke(cli, ["apply", *settings(tmp_path), *flags, "--yes"])
    assert result.exit_code == 0, result.output
    values = read_env_file(tmp_path / ".env")
    assert "OPENAI_API_KEY" not in values and "OPENAI_BASE_URL" not in values


def test_vertex_mode_works_offline_when_the_program_names_its_project_and_location(applied) -> None:
    """A service-account key file's token_uri is honoured, and a base URL with an explicit project and
    location keeps them in the path."""
    result = run_program(applied, "google-genai-vertex-explicit", "set -a", VERTEX)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout


@pytest.fixture
def applied_for_a_user(provision_env, tmp_path: Path) -> Path:
    """A project set up by `apply --env-file .env` on the user's own ADC (`--credentials user`, which
    writes no credentials file), and that user's login in the HOME run_program gives a program: an
    authorized_user file the emulator issued, where `gcloud auth application-default login` puts it."""
    flags = [
        "--project",
        PROJECT,
        "--create",
        "--billing-account",
        OPEN_ACCOUNT.removeprefix("billingAccounts/"),
    ]
    result = CliRunner().invoke(cli, ["apply", *flags, "--env-file", str(tmp_path / ".env"), "--yes"])
    assert result.exit_code == 0, result.output
    write_secret_file(
        tmp_path / ".config/gcloud/application_default_credentials.json",
        json.dumps(provision_env.credentials()),
    )
    return tmp_path


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_plain_genai_client_in_vertex_mode_on_user_adc_reaches_gemini_through_the_proxy(
    applied_for_a_user, provision_env, loader
) -> None:
    """google-auth refreshes the user's token at oauth2.googleapis.com and google-genai posts to
    aiplatform.googleapis.com: the .env names no emulator URL for either, only the proxy and its CA."""
    values = read_env_file(applied_for_a_user / ".env")
    assert envvars.CREDENTIALS not in values and "GOOGLE_VERTEX_BASE_URL" not in values
    provision_env.clear_requests()
    result = run_program(applied_for_a_user, "google-genai", loader, VERTEX)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout
    sent = [(r["method_id"], r["principal"]) for r in provision_env.requests()]
    assert sent[0][0].startswith("oauth2.") and sent[-1][0].startswith("aiplatform.")
    assert sent[-1][1] == DEFAULT_CALLER
    login = json.loads(
        (applied_for_a_user / ".config/gcloud/application_default_credentials.json").read_text()
    )
    assert login["refresh_token"] not in result.stdout + result.stderr


def test_plain_genai_client_in_vertex_mode_on_a_key_file_reaches_gemini(applied) -> None:
    result = run_program(applied, "google-genai", "set -a", VERTEX)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout


def test_the_env_names_the_proxy_and_its_ca_with_a_note_saying_why(applied, emu) -> None:
    values = read_env_file(applied / ".env")
    proxy = emu.proxy()
    assert values["HTTPS_PROXY"] == proxy["proxy"] == emu.url
    assert values["SSL_CERT_FILE"] == values["REQUESTS_CA_BUNDLE"] == proxy["caBundle"]
    assert values["NO_PROXY"] == emu.host.rpartition(":")[0]  # openai's base URL is the emulator itself
    assert (
        "# gcp-setup: HTTPS_PROXY is the emulator, as the HTTPS proxy of Google's API hosts"
        in (applied / ".env").read_text()
    )


def test_the_ca_key_is_kept_private_and_never_in_the_env(applied, emu) -> None:
    directory = Path(emu.proxy()["caBundle"]).parent
    key = directory / "proxy-ca-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / "proxy-leaf-key.pem").stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in Path(emu.proxy()["caBundle"]).read_text()
    assert "PRIVATE KEY" not in (applied / ".env").read_text()


def connect(address: tuple[str, int], target: str, source: str | None = None) -> str:
    """The status line the proxy at `address` answers `CONNECT target` with."""
    with socket.create_connection(
        address, timeout=30, source_address=(source, 0) if source else None
    ) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        return sock.makefile("rb").readline().decode().strip()


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("example.com:443", "proxies only Google's API hosts"),
        ("googleapis.com.example.com:443", "proxies only Google's API hosts"),
        ("aiplatform.googleapis.com:80", "proxies only Google's API hosts"),
        ("pubsub.googleapis.com:443", "does not emulate pubsub.googleapis.com"),
    ],
)
def test_the_proxy_refuses_a_host_it_does_not_emulate(emu, target, why) -> None:
    host, _, port = emu.host.rpartition(":")
    answer = connect((host, int(port)), target)
    assert answer.startswith("HTTP/1.1 403 ") and why in answer


def test_the_proxy_serves_only_loopback_clients(tmp_path) -> None:
    """An emulator listening on every interface (--allow-remote) still tunnels only for this machine."""
    outward = outward_address()
    with Emulator(host="0.0.0.0", proxy_dir=tmp_path) as remote:
        assert connect((outward, remote.port), "aiplatform.googleapis.com:443", outward).startswith(
            "HTTP/1.1 403 the gcp-setup emulator proxies only this machine's own programs"
        )
        assert connect(("127.0.0.1", remote.port), "aiplatform.googleapis.com:443").startswith(
            "HTTP/1.1 200 "
        )


def outward_address() -> str:
    """This machine's address on its network (no packet is sent: a UDP socket only picks its route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            pytest.skip("no network interface besides loopback")
        address = probe.getsockname()[0]
    if ipaddress.ip_address(address).is_loopback:
        pytest.skip("no network interface besides loopback")
    return address


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://cloudresourcemanager.googleapis.com/v3/projects/someone-elses-project", 403),  # its API
        ("https://us-central1-aiplatform.googleapis.com/v3/projects/someone-elses-project", 404),  # another's
        ("https://aiplatform.googleapis.com/_emulator/state", 404),  # the control endpoints stay direct
    ],
)
def test_a_tunnel_serves_only_its_hosts_api(emu, url, status) -> None:
    proxy = emu.proxy()
    session = requests.Session()
    session.trust_env = False  # this process's own CA and proxy settings are not the user's
    session.proxies, session.verify = {"https": proxy["proxy"]}, proxy["caBundle"]
    assert session.get(url, timeout=30).status_code == status


@pytest.mark.skipif(shutil.which("direnv") is None, reason="direnv is not installed (apt install direnv)")
def test_direnv_dotenv_gives_plain_openai_the_env(applied) -> None:
    """direnv's stdlib `dotenv` in an `.envrc` beside the .env, allowed once; `direnv exec DIR` runs the
    program as a shell entering DIR would (its allow list lives under HOME, the user's)."""
    program = applied / "my_openai.py"
    program.write_text(PROGRAMS["openai"])
    (applied / ".envrc").write_text("dotenv\n")
    user_env = {"PATH": os.environ["PATH"], "HOME": str(applied)}
    subprocess.run(
        ["direnv", "allow", str(applied)], env=user_env, check=True, capture_output=True, timeout=60
    )
    result = subprocess.run(
        ["direnv", "exec", str(applied), sys.executable, str(program)],
        cwd=applied,
        env=user_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout
