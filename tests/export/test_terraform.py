"""`gcp-setup export terraform`: apply with the CLI on the emulator, export, and the import commands
name every resource the module would manage, by the addresses of terraform/main.tf."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tf_schema_check import ModuleInterface, labelled_blocks, parse, require_terraform

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.google.apikeys import ApiKeysClient
from gcp_setup.google.session import GoogleSession

MODULE = Path(__file__).resolve().parent.parent.parent / "terraform"
PROJECT = "export-test-1"
ORG = "123456789012"
BILLING = "000000-AAAAAA-000001"  # the emulator's open billing account
REPO = "octo/app"
EMAIL = f"{defaults.SERVICE_ACCOUNT_ID}@{PROJECT}.iam.gserviceaccount.com"
IMPORT_LINE = re.compile(r"^terraform import (.+)$", flags=re.MULTILINE)
IMPORT_BLOCK = re.compile(r'^import \{\n  to = (.+)\n  id = (".*")\n\}$', flags=re.MULTILINE)


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def apply(*args: str) -> None:
    result = run("apply", "--yes", "--project", PROJECT, *args)
    assert result.exit_code == 0, result.output


def export(out: Path, *args: str) -> dict[str, str]:
    """Runs the export; returns address -> import ID from the printed imports (blocks or commands)."""
    result = run("export", "terraform", "--out", str(out), "--project", PROJECT, *args)
    assert result.exit_code == 0, result.output
    script = "--import-style" in args and args[args.index("--import-style") + 1] == "script"
    assert (out / ("import.sh" if script else "imports.tf")).read_text() == result.stdout
    if script:
        return dict(shlex.split(command) for command in IMPORT_LINE.findall(result.stdout))
    assert not IMPORT_LINE.search(result.stdout)
    return {address: json.loads(import_id) for address, import_id in IMPORT_BLOCK.findall(result.stdout)}


def tfvars(out: Path) -> dict[str, Any]:
    return parse(out / "terraform.tfvars")


def module_resources() -> dict[str, dict[str, Any]]:
    """ "TYPE.NAME" -> body of every resource block in the module."""
    return {
        f"{tf_type}.{name}": body
        for tf_type, name, body in labelled_blocks(parse(MODULE / "main.tf")["resource"])
    }


def expected_addresses(values: dict[str, Any], skipped: set[str]) -> set[str]:
    """Instance addresses of every module resource except `skipped`: `for_each` over a variable gives
    one instance per value of that variable in the tfvars; `count` gives [0]."""
    addresses = set()
    for resource, body in module_resources().items():
        if resource in skipped:
            continue
        if "for_each" in body:
            variable = re.search(r"(?:var|local)\.(services|roles|impersonators)", body["for_each"])
            assert variable, f"{resource}: for_each over what? update this test"
            addresses |= {f'{resource}["{key}"]' for key in values[variable[1]]}
        else:
            addresses.add(f"{resource}[0]" if "count" in body else resource)
    return addresses


NOT_IMPORTABLE = {
    "time_sleep.services_propagation",  # a wait, not a Google resource
    "google_apikeys_key.vertex_express",  # count = 0 without create_vertex_express_key (--vertex-express)
}
WORKLOAD_IDENTITY = {  # count = 0 without github_repository (--github-repo)
    "google_iam_workload_identity_pool.github",
    "google_iam_workload_identity_pool_provider.github",
    "google_service_account_iam_member.github_wif",
}
GITLAB_IDENTITY = {  # count = 0 without gitlab_project (--gitlab-project)
    "google_iam_workload_identity_pool.gitlab",
    "google_iam_workload_identity_pool_provider.gitlab",
    "google_service_account_iam_member.gitlab_wif",
}


def test_apply_create_then_export_names_every_module_resource(provision_env: EmulatorControl, tmp_path: Path):
    # The settings both commands resolve, as a team keeps them.
    Path("gcp-setup.toml").write_text(
        f'project = "{PROJECT}"\ncreate = true\norganization = "{ORG}"\n'
        f'billing_account = "{BILLING}"\nlabels = {{ team = "ml" }}\n'
    )
    apply()
    provision_env.clear_requests()

    imports = export(tmp_path / "tf")

    assert provision_env.writes() == []  # export only reads
    values = tfvars(tmp_path / "tf")
    assert values["create_project"] is True and values["org_id"] == ORG
    assert values["billing_account"] == BILLING and values["labels"] == {"team": "ml"}
    assert values["services"] == list(defaults.SERVICES) and values["roles"] == list(defaults.ROLES)
    # billing of a created project is google_project.billing_account; nobody was granted impersonation
    skipped = NOT_IMPORTABLE | WORKLOAD_IDENTITY | GITLAB_IDENTITY | {"google_billing_project_info.this"}
    skipped |= {"google_service_account_iam_member.token_creators"}
    assert set(imports) == expected_addresses(values, skipped)
    assert imports["google_project.this[0]"] == PROJECT
    assert imports["google_service_account.this[0]"] == f"projects/{PROJECT}/serviceAccounts/{EMAIL}"
    assert imports['google_project_iam_member.roles["roles/aiplatform.expressUser"]'] == (
        f"{PROJECT} roles/aiplatform.expressUser serviceAccount:{EMAIL}"
    )
    assert imports['google_project_service.services["iam.googleapis.com"]'] == f"{PROJECT}/iam.googleapis.com"
    assert imports["google_apikeys_key.this[0]"] == (
        f"projects/{PROJECT}/locations/global/keys/{defaults.API_KEY_ID_PREFIX}1"
    )
    key_string = ApiKeysClient(GoogleSession.create(provision_env.host)).key_string(
        imports["google_apikeys_key.this[0]"]
    )
    written = "".join(p.read_text() for p in (tmp_path / "tf").iterdir())
    assert key_string and key_string.reveal() not in written  # no secrets in the export


def test_github_repo_exports_the_workload_identity_resources(provision_env: EmulatorControl, tmp_path: Path):
    settings = ("--create", "--organization", ORG, "--billing-account", BILLING, "--github-repo", REPO)
    apply(*settings)
    provision_env.clear_requests()

    imports = export(tmp_path, *settings)

    assert provision_env.writes() == []  # export only reads
    values = tfvars(tmp_path)
    assert values["github_repository"] == REPO and "sts.googleapis.com" in values["services"]
    assert set(values) <= set(ModuleInterface.read(MODULE).variables)
    skipped = NOT_IMPORTABLE | GITLAB_IDENTITY
    skipped |= {"google_billing_project_info.this", "google_service_account_iam_member.token_creators"}
    assert set(imports) == expected_addresses(values, skipped)
    assert {a.removesuffix("[0]") for a in imports} >= WORKLOAD_IDENTITY
    pool = f"projects/{PROJECT}/locations/global/workloadIdentityPools/{defaults.WORKLOAD_IDENTITY_POOL_ID}"
    assert imports["google_iam_workload_identity_pool.github[0]"] == pool
    assert imports["google_iam_workload_identity_pool_provider.github[0]"] == (
        f"{pool}/providers/{defaults.WORKLOAD_IDENTITY_PROVIDER_ID}"
    )
    # The member names the pool as the module does: by its name, which Google answers with the number.
    [pool_state] = provision_env.state()["backends"]["workload_identity"]["pools"]
    number = pool_state["project_number"]
    member = (
        f"principalSet://iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/"
        f"{defaults.WORKLOAD_IDENTITY_POOL_ID}/attribute.repository/{REPO}"
    )
    assert imports["google_service_account_iam_member.github_wif[0]"] == (
        f"projects/{PROJECT}/serviceAccounts/{EMAIL} roles/iam.workloadIdentityUser {member}"
    )


def test_gitlab_project_exports_its_federation_with_the_issuer_and_keys(
    provision_env: EmulatorControl, tmp_path: Path
):
    jwks = {
        "keys": [
            {"kty": "RSA", "kid": "k1", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri", "e": "AQAB"}
        ]
    }
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    settings = ("--create", "--organization", ORG, "--billing-account", BILLING, "--no-api-key")
    settings += ("--gitlab-project", "group/app", "--gitlab-issuer", "https://gitlab.example.com")
    settings += ("--gitlab-jwks", str(tmp_path / "jwks.json"))
    apply(*settings)

    imports = export(tmp_path / "tf", *settings)

    values = tfvars(tmp_path / "tf")
    assert values["gitlab_project"] == "group/app" and values["gitlab_issuer"] == "https://gitlab.example.com"
    assert json.loads(values["gitlab_jwks_json"]) == jwks and "sts.googleapis.com" in values["services"]
    assert set(values) <= set(ModuleInterface.read(MODULE).variables)
    skipped = NOT_IMPORTABLE | WORKLOAD_IDENTITY | {"google_apikeys_key.this"}  # --no-api-key
    skipped |= {"google_billing_project_info.this", "google_service_account_iam_member.token_creators"}
    assert set(imports) == expected_addresses(values, skipped)
    pool = f"projects/{PROJECT}/locations/global/workloadIdentityPools/gitlab"
    assert imports["google_iam_workload_identity_pool.gitlab[0]"] == pool
    assert imports["google_iam_workload_identity_pool_provider.gitlab[0]"] == f"{pool}/providers/gitlab-ci"
    [pool_state] = provision_env.state()["backends"]["workload_identity"]["pools"]
    member = (
        f"principalSet://iam.googleapis.com/projects/{pool_state['project_number']}/locations/global/"
        "workloadIdentityPools/gitlab/attribute.project_path/group/app"
    )
    assert imports["google_service_account_iam_member.gitlab_wif[0]"] == (
        f"projects/{PROJECT}/serviceAccounts/{EMAIL} roles/iam.workloadIdentityUser {member}"
    )


def test_tfvars_and_import_blocks_are_terraform_fmt_clean(provision_env: EmulatorControl, tmp_path: Path):
    settings = ("--create", "--organization", ORG, "--billing-account", BILLING, "--no-api-key")
    apply(*settings)
    export(tmp_path, *settings)
    values = tfvars(tmp_path)
    assert set(values) <= set(ModuleInterface.read(MODULE).variables)
    assert values["create_api_key"] is False
    command = [require_terraform(), "fmt", "-check", "-diff", "terraform.tfvars", "imports.tf"]
    check = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


@pytest.mark.gcloud
def test_existing_project_made_with_gcloud(provision_env: EmulatorControl, gcloud, tmp_path: Path) -> None:
    """State made beforehand with gcloud; gcp-setup adopts it; the export imports billing separately
    (the module's google_billing_project_info) and the impersonation grant made with gcloud. The script
    form: `terraform import` commands, addressed inside a module."""
    gcloud.run("projects", "create", PROJECT)
    apply("--billing-account", BILLING)
    creator = "user:dev@example.com"
    gcloud.run("iam", "service-accounts", "add-iam-policy-binding", EMAIL, f"--member={creator}",
               "--role=roles/iam.serviceAccountTokenCreator", project=PROJECT)  # fmt: skip

    imports = export(tmp_path, "--billing-account", BILLING, "--module", "gemini", "--import-style", "script")

    values = tfvars(tmp_path)
    assert values["create_project"] is False and values["impersonators"] == [creator]
    module_addresses = {a.removeprefix("module.gemini.") for a in imports}
    assert all(a.startswith("module.gemini.") for a in imports)
    skipped = NOT_IMPORTABLE | WORKLOAD_IDENTITY | GITLAB_IDENTITY | {"google_project.this"}
    assert module_addresses == expected_addresses(values, skipped)
    assert imports["module.gemini.google_billing_project_info.this[0]"] == f"projects/{PROJECT}"
    assert imports[f'module.gemini.google_service_account_iam_member.token_creators["{creator}"]'] == (
        f"projects/{PROJECT}/serviceAccounts/{EMAIL} roles/iam.serviceAccountTokenCreator {creator}"
    )


def test_nothing_created_yet_means_no_imports(provision_env: EmulatorControl, tmp_path: Path) -> None:
    assert export(tmp_path) == {}
    assert tfvars(tmp_path)["project_id"] == PROJECT


def test_refuses_to_overwrite_without_force(provision_env: EmulatorControl, tmp_path: Path) -> None:
    export(tmp_path)
    again = run("export", "terraform", "--out", str(tmp_path), "--project", PROJECT)
    assert again.exit_code == 2
    assert "exists; pass --force to overwrite" in again.output
    assert "Traceback" not in again.output
    export(tmp_path, "--force")


def test_import_style_comes_from_any_source_and_is_checked(
    provision_env: EmulatorControl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("gcp-setup.toml").write_text('import_style = "script"\n')
    from_file = run("export", "terraform", "--out", str(tmp_path / "from-file"), "--project", PROJECT)
    assert from_file.exit_code == 0, from_file.output
    assert sorted(p.name for p in (tmp_path / "from-file").iterdir()) == ["import.sh", "terraform.tfvars"]
    monkeypatch.setenv("GCP_SETUP_IMPORT_STYLE", "hcl")
    refused = run("export", "terraform", "--out", str(tmp_path / "refused"), "--project", PROJECT)
    assert (
        refused.exit_code == 2
        and "import style 'hcl' is unknown; use one of blocks, script" in refused.output
    )
    assert "Traceback" not in refused.output
