"""What a fleet run prints: progress on stderr (one live line per running project on a terminal, plain
lines otherwise), then a table with one row per project, or one JSON document with one member per
project (each the document a single-project run prints)."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from gcp_setup.fleet.run import ProjectResult
from gcp_setup.output import report, schema

CLEAR_LINE = "\x1b[2K"


def _up(lines: int) -> str:
    return f"\x1b[{lines}A" if lines else ""


class FleetProgress:
    """The fleet's Display. Live: the running projects' lines are redrawn in place, a finished project's
    line is printed above them for good. Plain: a line when a project starts, notes of long waits (at
    most one per project every `min_interval_s`), a line when it ends."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None, min_interval_s: float = 1.0):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.min_interval_s = min_interval_s
        self._running: dict[str, str] = {}
        self._started: dict[str, float] = {}
        self._last_note: dict[str, float] = {}
        self._drawn = 0
        self._lock = threading.Lock()

    def started(self, project: str) -> None:
        with self._lock:
            self._started[project] = time.monotonic()
            self._running[project] = "started"
            self._show(f"  {project}: started")

    def note(self, project: str, step: str, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            if (
                not self.live
                and now - self._last_note.get(project, -self.min_interval_s) < self.min_interval_s
            ):
                return
            self._last_note[project] = now
            self._running[project] = f"[{step}] {message}"
            self._show(f"  {project}: [{step}] {message}")

    def finished(self, result: ProjectResult) -> None:
        with self._lock:
            self._running.pop(result.project, None)
            self._show(f"  {result.project}: {status_of(result)} in {result.seconds:.1f} s", final=True)

    def _show(self, line: str, final: bool = False) -> None:
        if not self.live:
            print(line, file=self.stream, flush=True)
            return
        out = [_up(self._drawn)]
        if final:
            out.append(f"{CLEAR_LINE}{line}\n")
        now = time.monotonic()
        running = [
            f"{CLEAR_LINE}  {p}: {text} ({now - self._started[p]:.0f} s)\n"
            for p, text in self._running.items()
        ]
        out.extend(running)
        leftover = self._drawn - len(running) - (1 if final else 0)
        out.extend(f"{CLEAR_LINE}\n" for _ in range(max(leftover, 0)))
        out.append(_up(max(leftover, 0)))
        self._drawn = len(running)
        self.stream.write("".join(out))
        self.stream.flush()


class Quiet:
    """The Display of --format json: stderr stays quiet, as in a single-project run."""

    def started(self, project: str) -> None:
        pass

    def note(self, project: str, step: str, message: str) -> None:
        pass

    def finished(self, result: ProjectResult) -> None:
        pass


def status_of(result: ProjectResult) -> str:
    if not result.ok:
        return "failed"
    if result.run is None:  # verify
        return "passed"
    if result.run.mode == "apply":
        return "changed" if result.changed else "unchanged"
    return "changes pending" if result.changes_pending else "in sync"


def detail_of(result: ProjectResult) -> str:
    """Why a project failed, in one line; else nothing."""
    if result.error is not None:
        from gcp_setup.google.errors import explain

        return explain(result.error)
    failed = result.failed_steps
    if failed:
        hint = f" (fix: {failed[0].hint})" if failed[0].hint else ""
        return f"{failed[0].name}: {failed[0].detail}{hint}"
    if result.smoke is not None and not result.smoke.passed:
        what = "smoke test" if result.run is not None else "verify"
        return f"{what}: {result.smoke.failures() or result.smoke.problem}"
    return ""


def render_table(results: list[ProjectResult]) -> str:
    width = max([len("PROJECT"), *(len(r.project) for r in results)])
    lines = [f"  {'PROJECT':<{width}}  {'RESULT':<15}  {'CHANGED':>7}  {'SECONDS':>7}  DETAIL"]
    for r in results:
        row = f"  {r.project:<{width}}  {status_of(r):<15}  {r.changed:>7}  {r.seconds:>7.2f}  {detail_of(r)}"
        lines.append(row.rstrip())
    failed = sum(not r.ok for r in results)
    lines.append(f"{len(results)} project(s): {len(results) - failed} ok, {failed} failed.")
    return "\n".join(lines)


def to_json(command: str, results: list[ProjectResult], endpoint: str) -> str:
    """The fleet's document (gcp_setup/output/schema): one member per project, each the body of that project's
    own document."""
    body = {
        "endpoint": endpoint,
        "ok": all(r.ok for r in results),
        "changes_pending": any(r.changes_pending for r in results),
        "projects": {r.project: _project_document(r) for r in results},
    }
    return schema.dumps(schema.document(command, body))


def _project_document(result: ProjectResult) -> dict[str, Any]:

    smoke = result.smoke.document() if result.smoke is not None else None
    if result.run is None:  # verify's checks alone, or a run that raised before it had one
        document = {"project": result.project, "ok": result.ok, "steps": []}
        if smoke is not None:
            document.update(verify=smoke, seconds=round(result.seconds, 3))
        if not result.ok:
            document["error"] = detail_of(result)
        return document
    document = report.document(result.run, result.config, smoke)
    document["seconds"] = round(result.seconds, 3)
    if result.error is not None:
        document.update(ok=False, error=detail_of(result))
    return document
