"""`make demo`: the whole job against the built-in emulator, offline, in a few seconds.

Starts an emulator in this process (with a little latency and slow operations, so the progress shows),
runs `plan`, `apply --create` (which ends with verify's smoke test through the real google-genai and
openai libraries), a second `apply` that changes nothing and verifies again, and the standalone
`verify --env-file` on the .env apply wrote; then prints how to do the same by hand.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

from gcp_setup import envvars
from gcp_setup.cli import cli
from gcp_setup.commands.emulator import write_adc_file
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.emulator.core.realism import Realism
from gcp_setup.emulator.server import Emulator

PROJECT = "gemini-demo-1"
BILLING_ACCOUNT = OPEN_ACCOUNT.removeprefix("billingAccounts/")


def gcp_setup(*args: str, brief: bool = False) -> int:
    """Run one gcp-setup command in this process, as the shell would; returns its exit code. `brief`:
    show only its summary lines (the step table's and the checks' counts), so the demo fits a screen."""
    click.secho(f"\n$ gcp-setup {' '.join(args)}", bold=True, err=True)
    if not brief:
        return _run(args)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _run(args)
    lines = (out.getvalue() + err.getvalue()).splitlines()
    shown = [line for line in lines if SUMMARY.match(line)] if code == 0 else lines
    click.echo("\n".join(f"  {line}" for line in shown))
    return code


SUMMARY = re.compile(r"^(Plan: |No changes|\d+ changed, |\d+ of \d+ checks ran)")
"""The lines a brief command shows: what it planned or changed, and how its checks went."""


def _run(args: tuple[str, ...]) -> int:
    try:
        code = cli.main(list(args), prog_name="gcp-setup", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return code or 0


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="gcp-setup-demo-"))
    os.environ[envvars.CLOUDSDK_CONFIG] = str(workdir / "gcloud")  # never read the user's gcloud settings
    os.chdir(workdir)
    realism = Realism(latency_ms=20, operation_polls=3)
    with Emulator(realism=realism) as emu:
        os.environ[envvars.EMULATOR_HOST] = emu.host
        # The user's own login, as `gcloud auth application-default login` would leave it: the emulator
        # issues it (`gcp-setup emulator --adc-file`), and every command authenticates with it.
        adc_file = workdir / "application_default_credentials.json"
        write_adc_file(emu, adc_file)
        os.environ[envvars.CREDENTIALS] = str(adc_file)
        click.echo(f"gcp-setup demo: emulator of the Google APIs on {emu.url} (nothing leaves this machine)")
        env_file = workdir / ".env"
        settings = ["--project", PROJECT, "--create", "--billing-account", BILLING_ACCOUNT]
        steps = [
            ("plan", gcp_setup("plan", *settings, brief=True)),
            ("apply", gcp_setup("apply", *settings, "--env-file", str(env_file), "--yes")),
        ]
        emu.log.clear()
        again = gcp_setup("apply", *settings, "--env-file", str(env_file), "--yes", brief=True)
        steps.append(("second apply", again))
        second_apply = SecondApply.of(emu)
        steps.append(("verify", gcp_setup("verify", "--env-file", str(env_file), brief=True)))
    summarise(steps, second_apply, env_file)
    return 0 if all(code == 0 for _, code in steps) else 1


@dataclass(frozen=True)
class SecondApply:
    """What the no-op apply sent, from the emulator's request log."""

    writes: int
    reads: int
    """Control-plane reads, and the two model lists of the smoke test (logged as reads)."""
    model_lists: int
    key_string_reads: int
    model_calls: int

    @classmethod
    def of(cls, emu: Emulator) -> SecondApply:
        reads = [e.path for e in emu.log.reads()]
        return cls(
            writes=len(emu.log.writes()),
            reads=len(reads),
            model_lists=sum(path.endswith("/models") for path in reads),
            key_string_reads=sum(path.endswith("/keyString") for path in reads),
            model_calls=sum(e.kind == "data" for e in emu.log.entries()),
        )


def summarise(steps: list[tuple[str, int]], second: SecondApply, env_file: Path) -> None:
    click.secho("\nWhat happened: " + ", ".join(f"{name} exit {code}" for name, code in steps), bold=True)
    mode = f" (mode {env_file.stat().st_mode & 0o777:o})" if env_file.exists() else ""
    click.echo(
        f"  The second apply sent {second.writes} mutating requests and {second.reads} reads"
        f" ({second.model_lists} of them the smoke test's model lists,"
        f" {second.key_string_reads} getKeyString); the smoke test made {second.model_calls} model calls."
        f" The .env: {env_file}{mode}."
    )
    click.secho("\nTry it by hand", bold=True)
    click.echo("  In one shell:   .venv/bin/gcp-setup emulator --operation-polls 2 --adc-file adc.json")
    click.echo(
        f"  In another:     export {envvars.EMULATOR_HOST}=127.0.0.1:8085 {envvars.CREDENTIALS}=$PWD/adc.json"
    )
    settings = f"--project my-demo-1 --create --billing-account {BILLING_ACCOUNT} --env-file .env"
    click.echo(
        f"                  .venv/bin/gcp-setup init {settings} --yes   # remembered in gcp-setup.toml"
    )
    click.echo("                  .venv/bin/gcp-setup apply --yes; .venv/bin/gcp-setup output")


if __name__ == "__main__":
    sys.exit(main())
