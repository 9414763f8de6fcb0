"""What verify prints, standalone and at the end of `apply`: a table, or one JSON document
    {"format_version": 1, "command": "verify", "ok": bool, "problem": str | null,
     "emulator": "HOST:PORT" | null, "project": str | null, "location": str, "model": str | null,
     "checks": [{"name", "title", "status", "latency_ms", "detail", "hint", "reason"}]}
(gcp_setup/output/schema/document.schema.json). Callers pass the text through `core.redact_all` before
printing.

When verify passes (`verdict`): no check failed, and, unless skips are allowed, at least one check ran
and passed and every check asked for by name (--only) ran. A CI job cannot go green on nothing."""

from __future__ import annotations

from typing import Any

from gcp_setup.verify.core import FAILED, PASSED, SKIPPED, CheckResult, VerifyContext

MARKS = {PASSED: "ok  ", FAILED: "FAIL", SKIPPED: "skip"}


def verdict(
    results: list[CheckResult], asked: tuple[str, ...] = (), allow_skipped: bool = False
) -> str | None:
    """Why verify fails, in one line naming the fix; None when it passes. `asked`: the checks named by
    --only; `allow_skipped`: skips are accepted (only a failure fails)."""
    failed = [r.name for r in results if r.status == FAILED]
    if failed:
        return f"{len(failed)} check(s) failed: {', '.join(failed)} (each says its fix above)"
    if allow_skipped:
        return None
    if not any(r.status == PASSED for r in results):
        return (
            "no check ran, so nothing was verified: give the checks what they need (the reasons are "
            "above), or pass --allow-skipped to accept that"
        )
    missed = [r.name for r in results if r.name in asked and r.status == SKIPPED]
    if missed:
        return (
            f"asked for by --only but skipped: {', '.join(missed)}; give it what it needs (the reason is "
            "above), or pass --allow-skipped to accept that"
        )
    return None


def summary(results: list[CheckResult]) -> str:
    """The last line of the table: how many checks ran, always."""
    counts = {s: sum(r.status == s for r in results) for s in MARKS}
    ran = counts[PASSED] + counts[FAILED]
    return (
        f"{ran} of {len(results)} checks ran: "
        f"{counts[PASSED]} passed, {counts[FAILED]} failed, {counts[SKIPPED]} skipped"
    )


def document(vctx: VerifyContext, results: list[CheckResult], problem: str | None) -> dict[str, Any]:
    return {
        "ok": problem is None,
        "problem": problem,
        "emulator": vctx.emulator_host,
        "project": vctx.vertex_project,
        "location": vctx.location,
        "model": vctx.model,
        "checks": [r.to_json() for r in results],
    }


def render_json(vctx: VerifyContext, results: list[CheckResult], problem: str | None) -> str:
    from gcp_setup.output import schema

    return schema.dumps(schema.document("verify", document(vctx, results, problem)))


def render_table(vctx: VerifyContext, results: list[CheckResult]) -> str:
    width = max((len(r.name) for r in results), default=10)
    lines = []
    if vctx.emulator_host:
        lines.append(f"(emulator at {vctx.emulator_host})")
    for r in results:
        latency = f"{r.latency_ms:>6} ms" if r.status != SKIPPED else " " * 9
        lines.append(f"{MARKS[r.status]} {r.name:<{width}} {latency}  {r.detail or r.title}")
        if r.hint:
            lines.append(f"     {'':<{width}} {'':9}  -> {r.hint}")
    lines.append(summary(results))
    return "\n".join(lines)
