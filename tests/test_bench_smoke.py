"""The benchmark harness in its quick mode, so that bench/ cannot rot: every measurement runs once, against
an emulator process, with the real gcloud script, and the two end states must agree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.gcloud
def test_quick_bench_measures_everything_and_both_sides_agree(tmp_path: Path) -> None:
    if shutil.which("gcloud") is None:
        if IN_CI:
            pytest.fail("gcloud is not installed; CI must run the benchmark smoke test")
        pytest.skip("gcloud is not installed; the bootstrap comparison needs it")
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(results.read_text())
    metrics = {row["metric"] for row in data["rows"]}
    for prefix in ("bootstrap:", "no-op re-run:", "cold start:", "LRO polling", "scale:", "fleet:"):
        assert any(m.startswith(prefix) for m in metrics), f"no {prefix} row in {sorted(metrics)}"
    assert data["errors"] == []
    assert "| metric | gcp-setup | gcloud script | ratio | floor |" in done.stdout
