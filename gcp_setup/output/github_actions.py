"""GitHub Actions, natively: inside a job (GITHUB_ACTIONS=true) `apply` and `verify` leave step outputs
in $GITHUB_OUTPUT and a Markdown summary in $GITHUB_STEP_SUMMARY, so a workflow reads
`steps.<id>.outputs.service_account` instead of scraping the JSON document.

Outputs are public values only: the runner drops an output that holds a masked value, and a secret
must not be an output anyway (it goes to $GITHUB_ENV, masked: steps/github_env.py). Outside GitHub
Actions nothing here writes anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gcp_setup import envvars
from gcp_setup.google.federations import GITHUB, GITLAB
from gcp_setup.secrets.github_env import append_workflow_file
from gcp_setup.secrets.secret import Secret
from gcp_setup.verify.core import redact_all

if TYPE_CHECKING:
    from gcp_setup.engine import RunResult
    from gcp_setup.settings.config import Config
    from gcp_setup.verify.core import CheckResult
    from gcp_setup.verify.smoke import SmokeTest

PROVIDER_OUTPUTS = {
    "workload_identity_provider": GITHUB.step,
    "gitlab_workload_identity_provider": GITLAB.step,
}
"""Output name -> the step whose `workload_identity_provider` output it is."""


def active() -> bool:
    return os.environ.get(envvars.GITHUB_ACTIONS) == "true"


def publish(outputs: Mapping[str, Any], summary: str) -> None:
    """Write `outputs` (None values left out) and append `summary` to the job's files, when in Actions."""
    if not active():
        return
    values = {name: str(value) for name, value in outputs.items() if value is not None}
    if any(isinstance(value, Secret) for value in outputs.values()):
        raise ValueError("a secret must never be a step output")  # a bug of ours, not the user's
    if path := os.environ.get(envvars.GITHUB_OUTPUT):
        append_workflow_file(Path(path), values)
    if path := os.environ.get(envvars.GITHUB_STEP_SUMMARY):
        with open(path, "a", encoding="utf-8") as f:
            f.write(summary.rstrip("\n") + "\n\n")


def publish_apply(config: Config, run: RunResult, smoke: SmokeTest | None) -> None:
    """apply's outputs and summary: what it set up, and its smoke test when one ran."""
    if not active():
        return
    outputs = {**run_outputs(config, run), **(checks_outputs(smoke.results) if smoke else {})}
    summary = run_markdown(f"gcp-setup {run.mode}: project `{config.project}`", run)
    if smoke:
        summary += "\n\n" + checks_markdown("Smoke test", smoke.results, smoke.vctx.secrets())
    publish(outputs, summary)


def publish_verify(project: str | None, checks: list[CheckResult], secrets: list[str]) -> None:
    if not active():
        return
    outputs = {"project_id": project, **checks_outputs(checks)}
    publish(outputs, checks_markdown(f"gcp-setup verify: project `{project}`", checks, secrets))


def run_outputs(config: Config, run: RunResult) -> dict[str, Any]:
    def output(step: str, key: str) -> Any:
        result = run.by_name(step)
        value = result.outputs.get(key) if result else None
        return None if isinstance(value, Secret) or value in ("", None) else value

    outputs = {
        "project_id": config.project,
        "project_number": output("project", "number"),
        "service_account": output("service_account", "email")
        if output("service_account", "exists")
        else None,
    }
    for name, step in PROVIDER_OUTPUTS.items():
        outputs[name] = output(step, "workload_identity_provider")
    return outputs


def checks_outputs(checks: Iterable[CheckResult]) -> dict[str, str]:
    """`checks_passed`: the names of the checks that passed, comma-separated (a workflow tests
    `contains(steps.s.outputs.checks_passed, 'vertex')`); `checks_failed` likewise."""
    checks = list(checks)
    return {
        "checks_passed": ",".join(c.name for c in checks if c.status == "passed"),
        "checks_failed": ",".join(c.name for c in checks if c.status == "failed"),
    }


def _cell(text: Any) -> str:
    return str(text or "").replace("\r", " ").replace("\n", " ").replace("|", "\\|")


def _table(header: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def run_markdown(title: str, run: RunResult) -> str:
    """One row per step: its outcome, and what it did or would do (the plan's actions) or saw."""
    rows = [
        (f"`{r.name}`", r.outcome.value, "; ".join(a.summary for a in r.actions) or r.detail, r.hint)
        for r in run.results
    ]
    return f"### {title}\n\n" + _table(("Step", "Outcome", "Detail", "Fix"), rows)


def checks_markdown(title: str, checks: list[CheckResult], secrets: list[str]) -> str:

    rows = [(f"`{c.name}`", c.status, c.detail or c.title, c.hint) for c in checks]
    counts = {s: sum(c.status == s for c in checks) for s in ("passed", "failed", "skipped")}
    tail = f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped."
    return redact_all(f"### {title}\n\n" + _table(("Check", "Status", "Detail", "Hint"), rows), secrets) + (
        f"\n\n{tail}"
    )
