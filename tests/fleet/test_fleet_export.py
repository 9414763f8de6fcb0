"""`export terraform` of a fleet file: the root module calling terraform/ with for_each passes the offline
schema check (module interface included) and `terraform fmt`, and its tfvars map holds, per project,
exactly what the single-project export writes for it (the parity of the two paths)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import hcl2
import pytest
from click.testing import CliRunner
from tf_schema_check import (
    GOOGLE_SCHEMAS,
    HCL_OPTIONS,
    check_directory,
    load_schemas,
    parse,
    require_terraform,
)

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT

OPEN = OPEN_ACCOUNT.removeprefix("billingAccounts/")
FLEET = f"""
billing-account = "{OPEN}"
create = true

[[projects]]
project = "tf-fleet-01"
folder = "4242"
labels = {{ team = "ml" }}

[[projects]]
project = "tf-fleet-02"
vertex-express = true

[[projects]]
project = "tf-fleet-03"
create = false
"""


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def exported(provision_env, clean_config: Path) -> Path:
    (clean_config / "gcp-setup.toml").write_text(FLEET)
    applied = gcp_setup("apply", "--yes", "--only", "tf-fleet-02")
    assert applied.exit_code == 0, applied.output
    out = clean_config / "fleet-tf"
    result = gcp_setup("export", "terraform", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("google_schema", GOOGLE_SCHEMAS, ids=lambda p: p.stem)
def test_the_generated_root_passes_the_offline_schema_check(exported: Path, google_schema: Path):
    assert check_directory(exported, load_schemas(google_schema)) == []
    module = parse(exported / "main.tf")["module"][0]["gemini"]
    assert module["for_each"] == "${var.projects}"


def test_the_generated_files_are_as_terraform_fmt_writes_them(exported: Path):
    run = subprocess.run(
        [require_terraform(), "fmt", "-check", "-diff", str(exported)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_each_project_gets_what_its_own_export_writes(exported: Path, clean_config: Path):
    fleet = hcl2.loads((exported / "terraform.tfvars").read_text(), serialization_options=HCL_OPTIONS)
    for project in ("tf-fleet-01", "tf-fleet-02", "tf-fleet-03"):
        alone = clean_config / project
        args = ["--project", project, "--out", str(alone), "--config", str(clean_config / "single.toml")]
        (clean_config / "single.toml").write_text(_single_entry(project))
        result = gcp_setup("export", "terraform", *args)
        assert result.exit_code == 0, result.output
        single = hcl2.loads((alone / "terraform.tfvars").read_text(), serialization_options=HCL_OPTIONS)
        assert fleet["projects"][project] == {k: v for k, v in single.items() if k != "__is_block__"}
    script = (exported / "import.sh").read_text()
    assert "terraform import 'module.gemini[\"tf-fleet-02\"].google_project.this[0]' tf-fleet-02" in script


def _single_entry(project: str) -> str:
    """The fleet file's shared settings with one entry's over them, as a single-project file."""
    shared, *entries = FLEET.split("[[projects]]")
    entry = next(e for e in entries if f'"{project}"' in e)
    own = {line.split("=")[0].strip() for line in entry.strip().splitlines()}
    kept = [line for line in shared.strip().splitlines() if line.split("=")[0].strip() not in own]
    return "\n".join(kept + [line for line in entry.strip().splitlines() if not line.startswith("project ")])
