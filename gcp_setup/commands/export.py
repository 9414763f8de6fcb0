"""`gcp-setup export terraform`: move from the CLI to the Terraform module without recreating anything."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from gcp_setup.commands.options import SettingsCommand, config_of, settings_params
from gcp_setup.errors import UsageError


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
    help="Directory for terraform.tfvars and imports.tf (or import.sh) (created if missing).",
)
@click.option(
    "--module",
    "module_name",
    metavar="NAME",
    help='Prefix addresses with module.NAME (as in `module "NAME" { source = ".../terraform" }`); '
    "default: terraform/ is the root module.",
)
@click.option("--force", is_flag=True, help="Overwrite the files export writes when they exist.")
@click.option(
    "--source",
    metavar="PATH",
    help="Of a fleet file: the module's source in the root module written to --out "
    "(default: this checkout's terraform/, as a relative path).",
)
@click.pass_context
def terraform(
    click_ctx: click.Context,
    /,
    out_dir: Path,
    module_name: str | None,
    force: bool,
    source: str | None,
    **settings: Any,
) -> None:
    """Write terraform.tfvars for the module in terraform/ from the resolved settings, and an import of
    every resource of the module that exists already, as the steps observe it (read-only): `import {}`
    blocks in imports.tf (Terraform >= 1.5), or with --import-style script `terraform import` commands in
    import.sh. The imports are also printed on stdout. No secrets are written. Of a fleet file: a root
    module calling the module for each project (main.tf), one tfvars map and import.sh."""
    from gcp_setup.commands.fleet import fleet_file
    from gcp_setup.export.terraform import IMPORT_FILES, TFVARS_FILE
    from gcp_setup.export.terraform import export as export_setup
    from gcp_setup.google.session import GoogleSession

    if fleet_file(click_ctx):
        return _export_fleet(click_ctx, out_dir, force, source)
    config = config_of(click_ctx)
    targets = [out_dir / TFVARS_FILE, out_dir / IMPORT_FILES[config.import_style]]
    _refuse_overwriting(targets, force)
    result = export_setup(config, GoogleSession.create(config.emulator_host, config.billing_project))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in result.files(config.import_style, module_name).items():
        (out_dir / name).write_text(text)
    if config.import_style == "script":
        os.chmod(targets[1], 0o755)
    click.echo(targets[1].read_text(), nl=False)
    click.echo(f"wrote {targets[0]} and {targets[1]} ({len(result.imports)} imports)", err=True)


def _refuse_overwriting(targets: list[Path], force: bool) -> None:
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise UsageError(f"{', '.join(existing)} exists; pass --force to overwrite, or choose --out DIR")


def _export_fleet(click_ctx: click.Context, out_dir: Path, force: bool, source: str | None) -> None:
    """A root module calling terraform/ for each project of the fleet file (gcp_setup/fleet/export.py)."""
    from gcp_setup.commands.fleet import fleet_configs
    from gcp_setup.export.terraform import IMPORT_FILES, TFVARS_FILE
    from gcp_setup.fleet.export import ROOT_FILE, export_fleet
    from gcp_setup.fleet.run import fleet_endpoints, fleet_session
    from gcp_setup.settings.fleet import PARALLELISM

    configs = fleet_configs(click_ctx)
    targets = [out_dir / ROOT_FILE, out_dir / TFVARS_FILE, out_dir / IMPORT_FILES["script"]]
    _refuse_overwriting(targets, force)
    session = fleet_session(*fleet_endpoints(configs))
    result = export_fleet(configs, session, source or _module_source(out_dir), PARALLELISM)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets[0].write_text(result.main_tf)
    targets[1].write_text(result.tfvars)
    targets[2].write_text(result.import_script())
    os.chmod(targets[2], 0o755)
    click.echo(result.import_script(), nl=False)
    names = ", ".join(str(p) for p in targets)
    click.echo(f"wrote {names} ({len(configs)} projects, {len(result.imports)} imports)", err=True)


def _module_source(out_dir: Path) -> str:
    module = Path(__file__).resolve().parent.parent.parent / "terraform"
    if not (module / "main.tf").is_file():
        raise UsageError("terraform/ is not beside this installation; pass --source PATH of the module")
    relative = os.path.relpath(module, out_dir.resolve())
    return relative if relative.startswith("../") else f"./{relative}"
