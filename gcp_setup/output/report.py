"""What the provisioning commands print: live progress on stderr, a terraform-like plan, a summary
table, and with --format json one machine-readable document (no secrets, ever)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from gcp_setup.engine import RunResult, StepResult
from gcp_setup.output import schema
from gcp_setup.secrets.secret import Secret
from gcp_setup.settings.config import Config
from gcp_setup.settings.table import FILE_SETTINGS
from gcp_setup.steps.base import Outcome

Render = Callable[[RunResult], str]
"""How a run is printed (render_plan, render_summary, render_status)."""

MARKS: dict[Outcome, str] = {
    Outcome.UNCHANGED: "=",
    Outcome.CREATED: "+",
    Outcome.UPDATED: "~",
    Outcome.DELETED: "-",
    Outcome.FAILED: "!",
    Outcome.SKIPPED: " ",
    Outcome.BLOCKED: " ",
}


LIVE_LINE = "\r\x1b[2K"
"""Back to the line's start and clear it: the live line is rewritten in place."""
_live_shown: set[int] = set()
"""The streams (by id) with a live line on screen, which the next output clears first."""


class Progress:
    """The engine's progress callback for a terminal: one stderr line per note, at most one per step
    every `min_interval_s`, so a long wait shows it is alive without flooding the screen; and on a
    terminal a live line (`live`), rewritten in place, with what has just finished."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 1.0) -> None:
        self.stream = stream or sys.stderr
        self.min_interval_s = min_interval_s
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, step: str, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(step, -self.min_interval_s) < self.min_interval_s:
                return
            self._last[step] = now
            clear_live_line(self.stream)
            print(f"  [{step}] {message}", file=self.stream, flush=True)

    def live(self, step: str, message: str) -> None:
        show_live_line(f"[{step}] {message}", self.stream)


def show_live_line(text: str, stream: TextIO | None = None) -> None:
    """`text` on the live line of `stream` (stderr), on a terminal only: a log gets nothing from it."""
    stream = stream or sys.stderr
    if stream.isatty():
        stream.write(f"{LIVE_LINE}  {text}")
        stream.flush()
        _live_shown.add(id(stream))


def clear_live_line(stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    if id(stream) in _live_shown:
        _live_shown.discard(id(stream))
        stream.write(LIVE_LINE)
        stream.flush()


def header(config: Config, command: str) -> str:
    where = f"emulator at {config.emulator_host}" if config.emulator_host else "Google Cloud"
    return f"gcp-setup {command}: project {config.project} ({where})"


def _mark(result: StepResult) -> str:
    if result.outcome is Outcome.PLANNED and result.actions:
        return result.actions[0].symbol
    return MARKS.get(result.outcome, " ")


def name_width(run: RunResult) -> int:
    """The step-name column: as wide as the longest name, so every view lines up."""
    return max((len(r.name) for r in run.results), default=4)


def _failure_line(result: StepResult, width: int) -> str:
    hint = f"\n      fix: {result.hint}" if result.hint else ""
    return f"  ! {result.name:<{width}} {result.detail}{hint}"


def render_plan(run: RunResult) -> str:
    """`+` create, `~` update, `-` delete, `=` unchanged, as terraform marks them."""
    lines = []
    width = name_width(run)
    for result in run.results:
        if result.outcome is Outcome.FAILED:
            lines.append(_failure_line(result, width))
        elif result.actions:
            lines.extend(f"  {a.symbol} {result.name:<{width}} {a.summary}" for a in result.actions)
        else:
            lines.append(f"  {_mark(result)} {result.name:<{width}} {result.detail}")
    actions = [a for r in run.results for a in r.actions]
    counts = {kind: sum(a.kind == kind for a in actions) for kind in ("create", "update", "delete")}
    failed = sum(r.outcome is Outcome.FAILED for r in run.results)
    if actions:
        create, change, destroy = counts["create"], counts["update"], counts["delete"]
        lines.append(f"Plan: {create} to create, {change} to change, {destroy} to destroy.")
    elif not failed:
        lines.append("No changes: everything is already set up.")
    if failed:
        lines.append(f"Plan incomplete: {failed} step(s) failed; fix them and run plan again.")
    return "\n".join(lines)


def render_summary(run: RunResult) -> str:
    """The table `apply` ends with: one row per step, then the fixes for failed ones."""
    width = name_width(run)
    lines = [f"  {'STEP':<{width}}  {'OUTCOME':<9}  {'SECONDS':>7}  DETAIL"]
    for r in run.results:
        lines.append(f"  {r.name:<{width}}  {r.outcome.value:<9}  {r.seconds:>7.2f}  {r.detail}")
    for r in run.results:
        if r.outcome is Outcome.FAILED and r.hint:
            lines.append(f"  fix {r.name}: {r.hint}")
    changed = sum(r.outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.DELETED) for r in run.results)
    failed = sum(r.outcome is Outcome.FAILED for r in run.results)
    lines.append(
        f"{changed} changed, {len(run.results) - changed - failed} unchanged or skipped, {failed} failed."
    )
    return "\n".join(lines)


def render_status(run: RunResult, config: Config | None = None) -> str:
    """The observed state of each step; `config`: the settings it was resolved with, which the last line
    names when they are only the defaults (an apply run with flags is then not what was compared)."""
    lines = []
    width = name_width(run)
    for r in run.results:
        if r.outcome is Outcome.FAILED:
            lines.append(_failure_line(r, width))
            continue
        pending = f"  (pending: {'; '.join(a.summary for a in r.actions)})" if r.actions else ""
        lines.append(f"  {_mark(r)} {r.name:<{width}} {r.detail}{pending}")
    unread = sum(r.outcome in (Outcome.FAILED, Outcome.BLOCKED) for r in run.results)
    if unread:
        lines.append(f"Status incomplete: {unread} step(s) could not be read; fix them and run status again.")
    else:
        again = command_hint(config, "apply") if config else "gcp-setup apply"
        lines.append(f"Changes pending: run `{again}`." if run.changes_pending else in_sync(config))
    return "\n".join(lines)


def command_hint(config: Config, command: str, *args: str) -> str:
    """A gcp-setup command line to print in a hint: with --project when the project came from a flag, so
    that it runs as printed."""
    project = ("--project", config.project) if config.sources.get("project", "").startswith("flag") else ()
    return " ".join(("gcp-setup", command, *project, *args))


UNCOMPARED = ("project", "verify", "show_secrets")
"""Settings that choose nothing apply provisions (the project is named by the header)."""


def in_sync(config: Config | None) -> str:
    sources = config.sources if config else {}
    chosen = [n for n, s in sources.items() if s != "default" and n in FILE_SETTINGS and n not in UNCOMPARED]
    if config is None or chosen:
        return "In sync."
    return (
        "In sync. Compared with the default settings only: no flag, variable or gcp-setup.toml set "
        "any. An apply run with other flags (--credentials, --env-file...) is not what was compared; "
        f"`{command_hint(config, 'init')} --yes` with those flags writes them to gcp-setup.toml, which "
        "every command reads."
    )


def public(outputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs without the secret ones (Secret values: an API key string), for printing."""
    return {k: v for k, v in outputs.items() if not isinstance(v, Secret)}


def revealed_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs with their secrets unwrapped: --show-secrets only."""
    return {k: v.reveal() if isinstance(v, Secret) else v for k, v in outputs.items()}


def render_secrets(run: RunResult) -> str:
    """The secret outputs (the API key strings, each once), for --show-secrets only."""
    shown: dict[str, str] = {}
    for r in run.results:
        for k, v in r.outputs.items():
            if isinstance(v, Secret) and v and v.reveal() not in shown:
                shown[v.reveal()] = f"  {r.name}.{k}: {v.reveal()}"
    return "\n".join(shown.values())


def to_json(run: RunResult, config: Config, command: str, verify: dict[str, Any] | None = None) -> str:
    """The steps' document of `command` (gcp_setup/output/schema); after apply's smoke test also "verify"
    (verify's own document without the project and emulator said here), and "ok" then requires that the
    smoke test passed too."""
    return schema.dumps(schema.document(command, document(run, config, verify)))


def document(run: RunResult, config: Config, verify: dict[str, Any] | None = None) -> dict[str, Any]:
    """to_json's body, without the version and command (a fleet's document holds one per project)."""
    body = {
        "project": config.project,
        "endpoint": f"emulator {config.emulator_host}" if config.emulator_host else "google",
        "ok": run.ok and (verify is None or verify["ok"]),
        "changes_pending": run.changes_pending,
        "steps": [
            {
                "name": r.name,
                "outcome": r.outcome.value,
                "detail": r.detail,
                "hint": r.hint,
                "seconds": round(r.seconds, 3),
                "actions": [
                    {"kind": a.kind, "resource": a.resource, "summary": a.summary} for a in r.actions
                ],
                "outputs": revealed_outputs(r.outputs) if config.show_secrets else public(r.outputs),
            }
            for r in run.results
        ],
    }
    if verify is not None:
        body["verify"] = verify
    return body
