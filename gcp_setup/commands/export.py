"""`gcp-setup export terraform`: move from the CLI to the Terraform module without recreating anything."""

from __future__ import annotations

import os
from pathlib import Path

import click

from gcp_setup.commands.options import SettingsCommand, config_of, settings_params
from gcp_setup.errors import UsageError

TFVARS_FILE = "terraform.tfvars"
IMPORT_SCRIPT = "import.sh"


@click.group("export")
def export() -> None:
    """Export the setup to other tools."""


@export.command("terraform", cls=SettingsCommand, params=settings_params("export"))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help=f"Directory for {TFVARS_FILE} and {IMPORT_SCRIPT} (created if missing).",
)
@click.option(
    "--module",
    "module_name",
    metavar="NAME",
    help='Prefix addresses with module.NAME (as in `module "NAME" { source = ".../terraform" }`); '
    "default: terraform/ is the root module.",
)
@click.option("--force", is_flag=True, help=f"Overwrite an existing {TFVARS_FILE} or {IMPORT_SCRIPT}.")
@click.pass_context
def terraform(
    click_ctx: click.Context, out_dir: Path, module_name: str | None, force: bool, **settings
) -> None:
    """Write terraform.tfvars for the module in terraform/ from the resolved settings, and a
    `terraform import` for every resource of the module that exists already (read through the
    APIs, read-only). The import commands are also printed on stdout. No secrets are written."""
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.terraform_export import export as export_setup

    config = config_of(click_ctx)
    targets = [out_dir / TFVARS_FILE, out_dir / IMPORT_SCRIPT]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise UsageError(f"{', '.join(existing)} exists; pass --force to overwrite, or choose --out DIR")
    result = export_setup(config, GoogleSession.create(config.emulator_host, quota_project=config.project))
    out_dir.mkdir(parents=True, exist_ok=True)
    script = result.import_script(module_name)
    targets[0].write_text(result.tfvars)
    targets[1].write_text(script)
    os.chmod(targets[1], 0o755)
    click.echo(script, nl=False)
    click.echo(f"wrote {targets[0]} and {targets[1]} ({len(result.imports)} imports)", err=True)
