"""`gcp-setup emulator`: serve the local emulator until interrupted."""

from __future__ import annotations

import gc
import json
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from gcp_setup import envvars
from gcp_setup.commands.options import settings_command
from gcp_setup.emulator.core import roles
from gcp_setup.emulator.core.realism import AUTH_ONLY, GEMINI_KEY_POLICIES, PROPAGATION_PRESETS, Realism
from gcp_setup.emulator.gcloud_config import gcloud_setup_lines
from gcp_setup.errors import UsageError

REMOTE_EXPOSURE = (
    "anyone who can reach it may call every emulated API without credentials, as the owner of every "
    "project in it, and read its API key strings and service-account private keys"
)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: an address only this machine reaches."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def state_directory(state_file: Path | None) -> Path:
    """Where the emulator keeps what outlives a run, its proxy's CA among them (a .env names the CA):
    beside --state's file, else $XDG_STATE_HOME/gcp-setup/emulator (~/.local/state by default)."""
    if state_file is not None:
        return state_file.resolve().parent
    return Path(os.environ.get("XDG_STATE_HOME") or "~/.local/state").expanduser() / "gcp-setup" / "emulator"


def write_adc_file(emu: Any, path: Path) -> None:
    """The default user's ADC, issued by the running emulator, written as a secret file (0600)."""
    from gcp_setup.emulator.oauth.models import OAuthBackend
    from gcp_setup.secrets.files import write_secret_file

    with emu.world.lock:
        document = emu.world.backend(OAuthBackend).user_adc(emu.world.default_caller)
    try:
        write_secret_file(path, json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        emu.stop()
        raise UsageError(f"--adc-file {path}: cannot write it ({exc.strerror or exc})") from None


@settings_command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Permit a --host other machines can reach (they get every emulated API, unauthenticated).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8085,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Every API request is answered this long after it arrived (or when done, if later).",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of API requests answered with 429/500/503.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for faults.")
@click.option(
    "--operation-polls",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Polls before a long-running operation reports done.",
)
@click.option(
    "--sa-propagation-s",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds a new service account stays unknown to setIamPolicy (wins over --propagation).",
)
@click.option(
    "--service-propagation-s",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds a newly enabled API still answers SERVICE_DISABLED (wins over --propagation).",
)
@click.option(
    "--propagation",
    type=click.Choice(PROPAGATION_PRESETS),
    default="none",
    show_default=True,
    help="Delays before a change takes effect: none, or Google's typical ones (a role grant 120 s, a new "
    "key 60 s, a Workload Identity pool or provider 300 s, a new service account or enabled API 60 s).",
)
@click.option(
    "--gemini-key-policy",
    type=click.Choice(GEMINI_KEY_POLICIES),
    default=AUTH_ONLY,
    show_default=True,
    help="API keys the Gemini API takes: auth keys only (since September 2026), also restricted standard "
    "keys (June to September 2026), or any key (before).",
)
@click.option(
    "--adc-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Once listening, write an authorized_user ADC file (mode 0600) for the emulator's default user: "
    "GOOGLE_APPLICATION_CREDENTIALS=FILE makes every command authenticate as that user.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Load the world from FILE if it exists, and save it there after every change.",
)
def emulator(
    host: str,
    allow_remote: bool,
    port: int,
    latency_ms: float,
    fault_rate: float,
    seed: int,
    operation_polls: int,
    sa_propagation_s: float,
    service_propagation_s: float,
    propagation: str,
    gemini_key_policy: str,
    adc_file: Path | None,
    state_file: Path | None,
    **settings: Any,
) -> None:
    """Run the local emulator of the Google APIs gcp-setup uses, until Ctrl-C.

    It serves Resource Manager, Cloud Billing, Service Usage, IAM, API Keys, OAuth2 tokens, the Gemini
    API and Vertex AI on one HTTP port, so gcp-setup, gcloud and Google's client libraries can run
    offline. Point them at it with the lines it prints.
    """
    from gcp_setup.emulator.server import Emulator

    if not is_loopback(host):
        if not allow_remote:
            raise UsageError(
                f"--host {host} serves the emulator to other machines: {REMOTE_EXPOSURE}; "
                "use --host 127.0.0.1, or add --allow-remote if that is what you want"
            )
        click.echo(f"warning: listening on {host}: {REMOTE_EXPOSURE}", err=True)
    delays: dict[str, Any] = Realism.propagation(propagation)  # Realism's fields, by name
    if sa_propagation_s:
        delays["service_account_propagation_s"] = sa_propagation_s
    if service_propagation_s:
        delays["service_enable_propagation_s"] = service_propagation_s
    realism = Realism(
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        seed=seed,
        operation_polls=operation_polls,
        gemini_key_policy=gemini_key_policy,
        **delays,
    )
    roles.snapshot()  # loaded now: the first permission check would otherwise wait the 0.1-0.4 s it takes
    emu = Emulator(host, port, realism, state_file, proxy_dir=state_directory(state_file))
    # What is loaded by now (the roles, the models, the modules) lives until exit: out of the garbage
    # collector's reach, so that no full collection walks it again in the middle of an answer.
    gc.freeze()
    emu.start()
    click.echo(f"gcp-setup emulator listening on {emu.url}", err=True)
    click.echo("Use it from this shell with:", err=True)
    click.echo(f"export {envvars.EMULATOR_HOST}={emu.host}")
    if adc_file is not None:
        write_adc_file(emu, adc_file)
        click.echo(f"export {envvars.CREDENTIALS}={shlex.quote(str(adc_file.resolve()))}")
    click.echo("For gcloud (a throwaway configuration, never your own):", err=True)
    for line in gcloud_setup_lines(emu.url):
        click.echo(line)
    click.echo("Press Ctrl-C to stop.", err=True)
    sys.stdout.flush()  # the lines are read by a shell or a script while the emulator runs on
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
        click.echo("emulator stopped", err=True)
