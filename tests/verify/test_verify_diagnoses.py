"""The table of setup problems users report most, each produced on the emulator and diagnosed by
`gcp-setup verify` from Google's error details: (break the setup, which check fails, its reason, the
words the one-line fix must contain)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.apikeys.models import ApiKeysBackend
from gcp_setup.emulator.billing.models import BillingBackend
from gcp_setup.emulator.generativelanguage.models import GenerativeModels
from gcp_setup.emulator.iam.models import ServiceAccountsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

GEMINI = "generativelanguage.googleapis.com"
VERTEX = "aiplatform.googleapis.com"


@dataclass(frozen=True)
class Case:
    id: str
    breaks: Callable  # (gemini_project, world, monkeypatch) -> extra verify arguments
    check: str
    reason: str
    hint_words: tuple[str, ...]


def disable_gemini_api(gp, world, mp):
    world.backend(ServicesBackend).disable(gp.project, GEMINI)


def disable_vertex_api(gp, world, mp):
    world.backend(ServicesBackend).disable(gp.project, VERTEX, disable_dependents=True)


def restrict_key_to_another_service(gp, world, mp):
    gp.api_key.restrictions = {"apiTargets": [{"service": "cloudaicompanion.googleapis.com"}]}


def delete_key(gp, world, mp):
    world.backend(ApiKeysBackend).delete(gp.api_key)


def remove_vertex_role(gp, world, mp):
    member = gp.account.member
    gp.project.policy.bindings = [b for b in gp.project.policy.bindings if member not in b.get("members", [])]


def unlink_billing(gp, world, mp):
    world.backend(BillingBackend).link(gp.project, "")


def stray_google_api_key_with_vertexai(gp, world, mp):
    mp.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    mp.setenv("GOOGLE_API_KEY", gp.api_key.key_string)
    mp.delenv("GOOGLE_CLOUD_PROJECT")
    return ["--project", gp.project.project_id]


def user_location_not_supported(gp, world, mp):
    world.backend(GenerativeModels).switches.user_location_supported = False


def regional_capacity_exhausted(gp, world, mp):
    world.backend(GenerativeModels).switches.exhausted_locations.add("us-central1")
    return ["--location", "us-central1"]


def unknown_model(gp, world, mp):
    return ["--model", "gemini-3.8-flsh"]


def missing_credentials_file(gp, world, mp):
    mp.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(gp.key_file.with_name("gone.json")))


def unreadable_key_file(gp, world, mp):
    gp.key_file.chmod(0o000)
    if gp.key_file.open("rb").readable():  # root reads anything: make the file unreadable another way
        gp.key_file.chmod(0o600)
        pytest.skip("running as root: file permissions do not stop reads")


def revoked_service_account_key(gp, world, mp):
    gp.account.keys.clear()


CASES = [
    Case(
        "api disabled",
        disable_gemini_api,
        "gemini-api",
        "SERVICE_DISABLED",
        ("gcloud services enable generativelanguage.googleapis.com", "propagate"),
    ),
    Case(
        "vertex api disabled",
        disable_vertex_api,
        "vertex",
        "SERVICE_DISABLED",
        ("gcloud services enable aiplatform.googleapis.com",),
    ),
    Case(
        "key restricted to another service",
        restrict_key_to_another_service,
        "gemini-api",
        "API_KEY_SERVICE_BLOCKED",
        ("keys/gemini-key-1", "--api-target=service=generativelanguage.googleapis.com"),
    ),
    Case("key deleted", delete_key, "gemini-api", "API_KEY_INVALID", ("$GEMINI_API_KEY",)),
    Case(
        "role removed",
        remove_vertex_role,
        "vertex",
        "IAM_PERMISSION_DENIED",
        ("serviceAccount:gemini-client@", "--role=roles/aiplatform.expressUser"),
    ),
    Case("billing unlinked", unlink_billing, "vertex", "BILLING_DISABLED", ("gcloud billing projects link",)),
    Case(
        "stray GOOGLE_API_KEY with vertexai",
        stray_google_api_key_with_vertexai,
        "vertex",
        "API_KEY_SERVICE_BLOCKED",  # an auth key restricted to the Gemini API, sent to express mode
        ("unset GOOGLE_API_KEY",),
    ),
    Case(
        "user location not supported",
        user_location_not_supported,
        "gemini-api",
        "FAILED_PRECONDITION",
        ("network location", "not a project setting"),
    ),
    Case(
        "regional 429",
        regional_capacity_exhausted,
        "vertex",
        "SHARED_CAPACITY_EXHAUSTED",
        ("--location global",),
    ),
    Case("unknown model", unknown_model, "gemini-api", "NOT_FOUND", ("gemini-3.8-flash",)),
    Case(
        "credentials file missing",
        missing_credentials_file,
        "credentials",
        "FILE_NOT_FOUND",
        ("GOOGLE_APPLICATION_CREDENTIALS",),
    ),
    Case("key file unreadable", unreadable_key_file, "credentials", "FILE_UNREADABLE", ("chmod 600",)),
    Case(
        "service account key revoked",
        revoked_service_account_key,
        "credentials",
        "invalid_grant",
        ("create a new key",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_verify_names_the_fix(case: Case, gemini_project, world, monkeypatch) -> None:
    extra = case.breaks(gemini_project, world, monkeypatch) or []
    result = CliRunner().invoke(cli, ["verify", "--format", "json", "--propagation-wait", "0", *extra])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    failed = {c["name"]: c for c in report["checks"] if c["status"] == "failed"}
    assert case.check in failed, report
    assert failed[case.check]["reason"] == case.reason
    for words in case.hint_words:
        assert words in failed[case.check]["hint"]
    assert "\n" not in failed[case.check]["hint"]
    assert gemini_project.api_key.key_string not in result.output


def test_a_disabled_api_fails_at_once_despite_the_propagation_wait(gemini_project, world) -> None:
    """Service Usage says DISABLED: no waiting, whatever --propagation-wait allows."""
    world.backend(ServicesBackend).disable(gemini_project.project, GEMINI)
    result = CliRunner().invoke(cli, ["verify", "--only", "gemini-api", "--format", "json"])
    check = json.loads(result.stdout)["checks"][0]
    assert check["reason"] == "SERVICE_DISABLED"
    assert check["latency_ms"] < 3000
    assert "propagating" not in result.stderr


def test_a_deleted_service_account_fails_credentials_its_key_and_skips_vertex(gemini_project, world) -> None:
    """The ADC's account and the account the auth keys are bound to are the same: all fail, by name."""
    world.backend(ServiceAccountsBackend).delete(gemini_project.account)
    result = CliRunner().invoke(cli, ["verify", "--format", "json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert {name: c["status"] for name, c in checks.items()} == {
        "credentials": "failed",
        "gemini-api": "failed",
        "interactions": "failed",
        "vertex": "skipped",
        "vertex-express": "failed",
        "openai-gemini": "failed",
        "openai-vertex": "skipped",
    }
    assert checks["gemini-api"]["reason"] == "ACCOUNT_STATE_INVALID"
    assert (
        f"is bound to {gemini_project.account.email}, which is disabled or deleted"
        in checks["gemini-api"]["hint"]
    )
