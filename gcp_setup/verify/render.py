"""What verify prints, standalone and at the end of `apply`: a table, or one JSON document
    {"ok": bool, "emulator": "HOST:PORT" | null, "project": str | null, "location": str,
     "model": str | null, "checks": [{"name", "title", "status", "latency_ms", "detail", "hint", "reason"}]}
Callers pass the text through `core.redact_all` before printing it."""

from __future__ import annotations

import json
from typing import Any

from gcp_setup.verify.core import FAILED, CheckResult, VerifyContext

MARKS = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}


def passed(results: list[CheckResult]) -> bool:
    """Every check that ran (was not skipped) passed: verify's exit status 0."""
    return not any(r.status == FAILED for r in results)


def document(vctx: VerifyContext, results: list[CheckResult]) -> dict[str, Any]:
    return {
        "ok": passed(results),
        "emulator": vctx.emulator_host,
        "project": vctx.vertex_project,
        "location": vctx.location,
        "model": vctx.model,
        "checks": [r.to_json() for r in results],
    }


def render_json(vctx: VerifyContext, results: list[CheckResult]) -> str:
    return json.dumps(document(vctx, results), indent=2)


def render_table(vctx: VerifyContext, results: list[CheckResult]) -> str:
    width = max((len(r.name) for r in results), default=10)
    lines = []
    if vctx.emulator_host:
        lines.append(f"(emulator at {vctx.emulator_host})")
    for r in results:
        latency = f"{r.latency_ms:>6} ms" if r.status != "skipped" else " " * 9
        lines.append(f"{MARKS[r.status]} {r.name:<{width}} {latency}  {r.detail or r.title}")
        if r.hint:
            lines.append(f"     {'':<{width}} {'':9}  -> {r.hint}")
    counts = {s: sum(r.status == s for r in results) for s in MARKS}
    lines.append(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return "\n".join(lines)
