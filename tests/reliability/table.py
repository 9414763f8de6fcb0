"""Prints the table of `make reliability` from the tally its tests wrote (tests/reliability/conftest.py).

python -m tests.reliability.table .reliability.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

ROWS = (
    ("faults", "fault seeds converged (rates 0.05-0.5, smoke test included)", ("seeds", "converged")),
    (
        "kills",
        "SIGKILL at each write (fresh apply, credentials and key migrations, destroy)",
        ("kills", "converged"),
    ),
    (
        "kill_damage",
        "  after the kills: duplicates, orphaned keys, temp files, lost foreign bindings, .env on a dead key",
        ("duplicates", "orphaned_keys", "temp_files", "lost_bindings", "env_dead_keys"),
    ),
    (
        "concurrent",
        "concurrent applies (2 and 5 at once, same project and files)",
        ("runs", "exit_0", "extra_keys"),
    ),
    (
        "bad_inputs",
        "bad inputs tried (one-line error; writes where checkable first)",
        ("tried", "one_line", "writes"),
    ),
    (
        "fuzz",
        "emulator fuzz (every route x malformed bodies)",
        ("requests", "answers_5xx", "not_emulated_501"),
    ),
    (
        "secrets",
        "secrets found in every captured output (streams, secret values checked, found)",
        ("streams", "secrets_known", "found"),
    ),
)


def totals(path: Path) -> dict[str, dict[str, int]]:
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in path.read_text().splitlines():
        record = json.loads(line)
        row = record.pop("row")
        for name, value in record.items():
            sums[row][name] += value
    return sums


def render(sums: dict[str, dict[str, int]]) -> str:
    lines = ["| what | figures |", "| --- | --- |"]
    for row, label, columns in ROWS:
        counts = sums.get(row, {})
        lines.append(f"| {label} | {', '.join(f'{c} {counts.get(c, 0)}' for c in columns)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(totals(Path(sys.argv[1]))))
