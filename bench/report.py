"""The results table, as Markdown (printed, and kept in bench/README.md between two markers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"

HEADER = ("metric", "gcp-setup", "gcloud script", "ratio", "floor", "vs floor", "goal", "note")


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s":
        return f"{value:.3f} s"
    return f"{value:g}"


def _times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _goal(row: dict[str, Any]) -> str:
    if not row["goal"]:
        return ""
    verdict = {True: "met", False: "missed", None: "n/a"}[row["met"]]
    return f"{row['goal']} ({verdict})"


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    s = results["settings"]
    lines = [
        f"Ran {m['date']} on {m['nproc']} x {m['cpu']} (load average {m['load average']} at the start), "
        f"Python {m['python']}, {m['gcloud']}, "
        f"gcp-setup {m['gcp-setup']}; emulator latency {s['latency_ms']:g} ms per request, operations "
        f"done after {s['operation_polls']} polls; median of {s['repeats']} runs "
        f"({s['cold_runs']} for cold start){' (quick mode)' if s['quick'] else ''}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in results["rows"]:
        unit = row["unit"]
        cells = (
            row["metric"],
            _number(row["gcp_setup"], unit),
            _number(row["gcloud_script"], unit),
            _times(row["ratio"]),
            _number(row["floor"], unit),
            _times(row["vs_floor"]),
            _goal(row),
            row["note"],
        )
        lines.append("| " + " | ".join(cells) + " |")
    if results["errors"]:
        lines += ["", *(f"Not measured: {error.splitlines()[0]}" for error in results["errors"])]
    return "\n".join(lines)


def update_readme(readme: Path, table: str) -> None:
    """Replace what is between the two markers of bench/README.md."""
    text = readme.read_text()
    before, start, rest = text.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"{readme} has no {START} ... {END} markers")
    readme.write_text(f"{before}{START}\n{table}\n{END}{after}")
