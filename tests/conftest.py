"""Shared fixtures: one emulator per test session (reset before each test), and the real gcloud CLI
pointed at it through a throwaway configuration directory.

Set GCP_SETUP_TEST_EMULATOR=HOST:PORT to run the suite against an emulator started elsewhere
(`gcp-setup emulator`); tests that read the emulator's in-process state skip themselves then.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.core.realism import Realism
from gcp_setup.emulator.gcloud_config import write_gcloud_config
from gcp_setup.emulator.server import Emulator

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXTERNAL = os.environ.get("GCP_SETUP_TEST_EMULATOR")


@pytest.fixture(autouse=True)
def documents_follow_the_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every --format json document a test makes (in this process) is checked against the committed
    JSON Schema as it is printed; one that breaks it fails the test (at teardown, so that the command's
    own error handling cannot hide it)."""
    from document_schema import problems

    from gcp_setup.output import schema

    printed = schema.dumps
    broken: list[str] = []

    def checked(document: dict[str, Any]) -> str:
        text = printed(document)
        broken.extend(f"{document.get('command')}: {p}" for p in problems(json.loads(text)))
        return text

    monkeypatch.setattr(schema, "dumps", checked)
    yield
    assert not broken, "documents that break output/schema/document.schema.json:\n" + "\n".join(broken)


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[Emulator | None]:
    if EXTERNAL:
        yield None
        return
    with Emulator() as emu:
        yield emu


os.environ["NO_GCE_CHECK"] = "True"  # google-auth never probes for a metadata server here
# `gcp-setup emulator`, run by the tests, keeps its proxy's CA in the state directory: a throwaway one here.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="gcp-setup-test-state-")


@pytest.fixture
def emu(
    _emulator_server: Emulator | None,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[EmulatorControl]:
    """The emulator, reset to an empty world with default realism, as a control client. Every command
    and client a test runs authenticates as a user would: GOOGLE_APPLICATION_CREDENTIALS names an
    authorized_user ADC file the emulator issued for its default user (as `gcp-setup emulator
    --adc-file`); a test of another credential kind sets its own."""
    url = f"http://{EXTERNAL}" if EXTERNAL else _emulator_server.url
    control = EmulatorControl(url)
    control.reset()
    control.set_realism(**Realism().to_json())  # every switch back to its default, quotas included
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(write_adc(control, tmp_path_factory)))
    yield control


def reset_keeping_the_login(control: EmulatorControl) -> None:
    """Reset the emulator's world (its issued logins go with it) and write a new login for the default
    user into the ADC file the test's commands use, as a user would log in again."""
    control.reset()
    path = Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"])
    path.write_text(json.dumps(control.credentials()))


def write_adc(
    control: EmulatorControl, tmp_path_factory: pytest.TempPathFactory, principal: str | None = None
):
    """A credentials file the emulator issued for `principal` (default: its default user), mode 0600."""
    path = tmp_path_factory.mktemp("adc") / "application_default_credentials.json"
    path.write_text(json.dumps(control.credentials(principal)))
    path.chmod(0o600)
    return path


@pytest.fixture
def world(_emulator_server: Emulator | None, emu: EmulatorControl):
    """The in-process world, for tests that inspect internal state (skipped against an external emulator)."""
    if _emulator_server is None:
        pytest.skip("reads in-process emulator state; GCP_SETUP_TEST_EMULATOR is set")
    return _emulator_server.world


@pytest.fixture
def emulator_env(emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> EmulatorControl:
    """The environment a gcp-setup user gets from `export GCP_SETUP_EMULATOR_HOST=...`."""
    monkeypatch.setenv("GCP_SETUP_EMULATOR_HOST", emu.host)
    return emu


class Gcloud:
    """Runs the real gcloud CLI against the emulator; `run` returns parsed JSON when --format=json."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir

    def run(self, *args: str, check: bool = True, project: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "CLOUDSDK_CONFIG": str(self.config_dir), "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
        for name in ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CORE_PROJECT"):
            env.pop(name, None)
        cmd = ["gcloud", *args]
        if project:
            cmd.append(f"--project={project}")
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"gcloud {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def json(self, *args: str, project: str | None = None):
        return json.loads(self.run(*args, "--format=json", project=project).stdout or "null")


@pytest.fixture
def gcloud(emu: EmulatorControl, tmp_path_factory: pytest.TempPathFactory) -> Gcloud:
    if shutil.which("gcloud") is None:
        if IN_CI:
            pytest.fail("gcloud is not installed; CI must run the gcloud tests")
        pytest.skip("gcloud is not installed")
    config_dir = tmp_path_factory.mktemp("gcloud-config")
    write_gcloud_config(config_dir, emu.url)
    return Gcloud(config_dir)


@pytest.fixture
def make_project(world):
    """Seed a project owned by the default caller, with `services` enabled, straight into the world
    (for API tests that need a project but are not about Resource Manager or Service Usage)."""
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    def make(project_id: str, services: tuple[str, ...] = ()):
        with world.lock:
            project = world.backend(ProjectsBackend).create(project_id, owner=world.default_caller)
            for service in services:
                world.backend(ServicesBackend).enable(project, service)
        return project

    return make


IDENTITY_APIS = ("iam.googleapis.com", "apikeys.googleapis.com", "iamcredentials.googleapis.com")


def make_identity_project(emulator: EmulatorControl, project: str = "identity-test-1") -> str:
    """Create `project` with the IAM, API Keys and IAM Credentials APIs on, through the real APIs."""
    from gcp_setup.google.resourcemanager import ResourceManagerClient
    from gcp_setup.google.serviceusage import ServiceUsageClient
    from gcp_setup.google.session import GoogleSession

    session = GoogleSession.create(emulator.host)
    ResourceManagerClient(session).create_project(project, parent=None, display_name=None, labels={})
    ServiceUsageClient(session).enable(project, list(IDENTITY_APIS))
    emulator.clear_requests()
    return project


@pytest.fixture
def identity_project(emulator_env: EmulatorControl) -> str:
    """A project with the IAM, API Keys and IAM Credentials APIs on (no billing needed). Returns its ID."""
    return make_identity_project(emulator_env)


CONFIG_ENV_VARS = (
    "GOOGLE_CLOUD_PROJECT",
    "CLOUDSDK_CORE_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "CLOUDSDK_ACTIVE_CONFIG_NAME",
    "GITHUB_ENV",
    "GITHUB_ACTIONS",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
)


@pytest.fixture
def clean_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No settings from the machine: an empty gcloud config dir, no GCP_SETUP_*/GOOGLE_CLOUD_* variables,
    and a fresh working directory (no gcp-setup.toml). Returns that directory."""
    for name in [*CONFIG_ENV_VARS, *(n for n in os.environ if n.startswith("GCP_SETUP_"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def provision_env(
    clean_config: Path, emu: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> EmulatorControl:
    """clean_config, with GCP_SETUP_EMULATOR_HOST pointing at the emulator (as `emulator_env`). apply's
    smoke test is off (GCP_SETUP_VERIFY=false): these tests are about provisioning and count its
    requests; tests/test_apply_verify.py turns it on."""
    monkeypatch.setenv("GCP_SETUP_EMULATOR_HOST", emu.host)
    monkeypatch.setenv("GCP_SETUP_VERIFY", "false")
    return emu


@pytest.fixture
def home_env(
    provision_env: EmulatorControl, clean_config: Path, monkeypatch: pytest.MonkeyPatch
) -> EmulatorControl:
    """provision_env with HOME in the test's directory: the files a run writes under ~/.config stay there."""
    monkeypatch.setenv("HOME", str(clean_config))
    return provision_env


@dataclass
class GeminiProject:
    """A project set up as `gcp-setup apply` leaves it, made directly in the emulator's backends."""

    project: Any
    api_key: Any
    """The emulator's Key; `.key_string` is the secret."""
    account: Any
    key_file: Path
    emu: EmulatorControl


GEMINI_PROJECT_ID = "verify-gemini-1"


@pytest.fixture
def gemini_project(
    world, emulator_env: EmulatorControl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> GeminiProject:
    """Project with billing, the Gemini and Vertex AI APIs, two auth keys bound to the service account
    (restricted to the Gemini API, in GEMINI_API_KEY; to Vertex AI, in VERTEX_EXPRESS_API_KEY), and that
    service account with roles/aiplatform.user and roles/aiplatform.expressUser, whose key file is the
    ADC (its token_uri is the emulator). No other Google variable leaks in from the machine."""
    from gcp_setup import defaults
    from gcp_setup.emulator.apikeys.models import ApiKeysBackend
    from gcp_setup.emulator.billing.models import OPEN_ACCOUNT, BillingBackend
    from gcp_setup.emulator.iam.models import ServiceAccountsBackend
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    project = world.backend(ProjectsBackend).create(GEMINI_PROJECT_ID, owner="user:developer@example.com")
    world.backend(BillingBackend).link(project, OPEN_ACCOUNT)
    for service in (defaults.GENERATIVE_LANGUAGE_API, defaults.VERTEX_AI_API):
        world.backend(ServicesBackend).enable(project, service)
    accounts = world.backend(ServiceAccountsBackend)
    account = accounts.create(project, defaults.SERVICE_ACCOUNT_ID)
    key = world.backend(ApiKeysBackend).create(
        project,
        f"{defaults.API_KEY_ID_PREFIX}1",
        {"restrictions": {"apiTargets": [{"service": s} for s in defaults.API_KEY_TARGETS]}},
        account,
    )
    express_key = world.backend(ApiKeysBackend).create(
        project,
        f"{defaults.EXPRESS_KEY_ID_PREFIX}1",
        {"restrictions": {"apiTargets": [{"service": s} for s in defaults.EXPRESS_KEY_TARGETS]}},
        account,
    )
    for role in (*defaults.ROLES, defaults.EXPRESS_ROLE):
        project.policy.add_binding(role, account.member)
    key_file = tmp_path / "sa-key.json"
    key_file.write_text(json.dumps(accounts.create_key(account, f"{emulator_env.url}/token").key_file))
    key_file.chmod(0o600)
    for name in [
        n
        for n in os.environ
        if n.startswith(("GOOGLE_", "GEMINI_", "OPENAI_")) and n != "GOOGLE_APPLICATION_CREDENTIALS"
    ]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GEMINI_API_KEY", key.key_string)
    monkeypatch.setenv("VERTEX_EXPRESS_API_KEY", express_key.key_string)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", project.project_id)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    return GeminiProject(project, key, account, key_file, emulator_env)


@pytest.fixture
def crm_v1(emu: EmulatorControl):
    """google-api-python-client's Resource Manager v1 discovery client (what gcloud speaks), on the emulator;
    `crm_v1.projects().create(body={"projectId": ...}).execute()` makes a project of the default caller."""
    import httplib2
    from googleapiclient.discovery import build

    return build(
        "cloudresourcemanager",
        "v1",
        static_discovery=True,
        http=httplib2.Http(),
        client_options={"api_endpoint": emu.url + "/"},
    )
