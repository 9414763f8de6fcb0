"""A small offline stand-in for a CI runner: it runs the shell steps of a GitHub composite action or
workflow job (`run:`) and of a GitLab job (`script:`) with bash, after substituting `${{ inputs.* }}`,
`${{ steps.*.outputs.* }}` and `${{ env.* }}`, and keeps the GitHub runner's files in a temp dir:
$GITHUB_ENV and $GITHUB_PATH (read back into the environment of later steps, as the runner does),
$GITHUB_OUTPUT (one per step) and $GITHUB_STEP_SUMMARY. `uses:` steps are not run: a test does what
they would (e.g. write the credentials file google-github-actions/auth writes)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
CONDITION = re.compile(r"^(inputs\.[\w-]+)\s*(==|!=)\s*'([^']*)'$")
VENV_BIN = str(Path(sys.executable).parent)
"""Where this test run's gcp-setup is: the runner's PATH starts there, as after the install step."""


def parse_workflow_file(text: str) -> dict[str, str]:
    """A $GITHUB_ENV / $GITHUB_OUTPUT file: NAME=value lines and NAME<<DELIMITER blocks."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class Runner:
    """One job: its temp dir, its environment (carried from step to step), the steps it ran."""

    root: Path
    env: dict[str, str]
    runs: list[StepRun] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)
    """Google's URLs in a script -> the emulator's (the stand-in for DNS a credentials file needs)."""

    @classmethod
    def github(cls, root: Path, env: dict[str, str]) -> Runner:
        runner = cls.job(root, env, GITHUB_ACTIONS="true", RUNNER_TEMP=str(root))
        for name in ("env", "path", "step_summary"):
            (root / name).write_text("")
            runner.env[f"GITHUB_{name.upper()}"] = str(root / name)
        return runner

    @classmethod
    def gitlab(cls, root: Path, env: dict[str, str]) -> Runner:
        return cls.job(root, env, GITLAB_CI="true", CI_BUILDS_DIR=str(root))

    @classmethod
    def job(cls, root: Path, env: dict[str, str], **system: str) -> Runner:
        """A fresh job: its own HOME and gcloud config, the CI system's variables, then `env`."""
        root.mkdir(parents=True, exist_ok=True)
        base = {
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root / "home"),
            "CLOUDSDK_CONFIG": str(root / "home" / "gcloud"),
            "CI": "true",
        }
        return cls(root, {**base, **system, **env})

    def file(self, name: str) -> str:
        return (self.root / name).read_text()

    @property
    def exported(self) -> dict[str, str]:
        return parse_workflow_file(self.file("env")) if (self.root / "env").exists() else {}

    def run_script(self, name: str, script: str, env: dict[str, str] | None = None) -> StepRun:
        """One step: `bash -eo pipefail`, as the runner's `shell: bash`; then $GITHUB_ENV and
        $GITHUB_PATH flow into the environment of the next steps."""
        output_file = self.root / f"output-{len(self.runs)}"
        output_file.write_text("")
        step_env = {**self.env, **(env or {}), "GITHUB_OUTPUT": str(output_file)}
        for google, emulator in self.hosts.items():
            script = script.replace(google, emulator)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            env=step_env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
        )
        run = StepRun(
            name, done.returncode, done.stdout, done.stderr, parse_workflow_file(output_file.read_text())
        )
        self.runs.append(run)
        if "GITHUB_ENV" in self.env:
            self.env.update(self.exported)
            added = [p for p in self.file("path").splitlines() if p]
            self.env["PATH"] = ":".join([*reversed(added), self.env["PATH"]])
        return run

    def run_steps(self, steps: list[dict[str, Any]], inputs: dict[str, str]) -> dict[str, StepRun]:
        """The `run:` steps of a composite action or a job, in order; stops at the first failure."""
        by_id: dict[str, StepRun] = {}
        for index, step in enumerate(steps):
            if "run" not in step or not condition_holds(step.get("if"), inputs):
                continue
            context = {"inputs": inputs, "steps": by_id, "env": self.env}
            env = {k: substitute(str(v), context) for k, v in (step.get("env") or {}).items()}
            run = self.run_script(step.get("name", f"step {index}"), substitute(step["run"], context), env)
            by_id[step.get("id", f"step{index}")] = run
            if run.returncode != 0:
                break
        return by_id


def substitute(text: str, context: dict[str, Any]) -> str:
    """`${{ inputs.x }}`, `${{ steps.id.outputs.x }}`, `${{ env.X }}`, `${{ vars.X }}`,
    `${{ github.x }}`; any other expression fails."""

    def value(match: re.Match[str]) -> str:
        path = match.group(1).split(".")
        if path[0] == "steps" and len(path) == 4 and path[2] == "outputs":
            step = context["steps"].get(path[1])
            return step.outputs.get(path[3], "") if step else ""
        if path[0] in ("inputs", "env", "vars", "github") and len(path) == 2 and path[0] in context:
            return context[path[0]].get(path[1], "")
        raise AssertionError(f"the simulated runner does not evaluate ${{{{ {match.group(1)} }}}}")

    return EXPRESSION.sub(value, text)


def condition_holds(condition: str | None, inputs: dict[str, str]) -> bool:
    if condition is None:
        return True
    match = CONDITION.match(condition.strip())
    assert match, f"the simulated runner does not evaluate if: {condition}"
    actual = inputs.get(match.group(1).split(".", 1)[1], "")
    return (actual == match.group(3)) == (match.group(2) == "==")


def action_inputs(action: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """The inputs as the runner passes them: the given ones, else each input's default."""
    unknown = set(given) - set(action["inputs"])
    assert not unknown, f"not inputs of the action: {unknown}"
    return {name: str(given.get(name, spec.get("default", ""))) for name, spec in action["inputs"].items()}


def action_outputs(action: dict[str, Any], steps: dict[str, StepRun]) -> dict[str, str]:
    context = {"inputs": {}, "steps": steps, "env": {}}
    return {name: substitute(spec["value"], context) for name, spec in action["outputs"].items()}


UsesStandIn = Callable[[Runner, dict[str, str]], StepRun]
"""What a test does in place of a `uses:` step, given its `with:` inputs."""


def run_github_job(
    runner: Runner, workflow: dict[str, Any], job: str, context: dict[str, Any], uses: dict[str, UsesStandIn]
) -> dict[str, StepRun]:
    """A workflow job: its `run:` steps run, each `uses:` step by the stand-in for its action (matched
    by prefix); `context` gives `vars` and `github`. Stops at the first failure."""
    spec = workflow["jobs"][job]
    by_id: dict[str, StepRun] = {}
    base = {**context, "steps": by_id, "env": runner.env}
    for scope in (workflow, spec):
        runner.env.update({k: substitute(str(v), base) for k, v in (scope.get("env") or {}).items()})
    for index, step in enumerate(spec["steps"]):
        assert "if" not in step, "the simulated runner does not evaluate if: in workflows"
        env = {k: substitute(str(v), base) for k, v in (step.get("env") or {}).items()}
        if "uses" in step:
            stand_in = next((f for prefix, f in uses.items() if step["uses"].startswith(prefix)), None)
            assert stand_in, f"no stand-in for uses: {step['uses']}"
            run = stand_in(runner, {k: substitute(str(v), base) for k, v in (step.get("with") or {}).items()})
        else:
            run = runner.run_script(step.get("name", f"step {index}"), substitute(step["run"], base), env)
        by_id[step.get("id", f"step{index}")] = run
        if run.returncode != 0:
            break
    return by_id


def run_gitlab_job(
    runner: Runner, pipeline: dict[str, Any], job: str, id_token: Callable[[str], str]
) -> StepRun:
    """A .gitlab-ci.yml job: its variables, an ID token per `id_tokens:` entry (minted by `id_token`
    for its aud), then before_script and script in one shell, as the runner does."""
    spec = pipeline[job]
    env = {**(pipeline.get("variables") or {}), **(spec.get("variables") or {})}
    env |= {name: id_token(token["aud"]) for name, token in (spec.get("id_tokens") or {}).items()}
    lines = [*(spec.get("before_script") or pipeline.get("before_script") or []), *spec["script"]]
    return runner.run_script(job, "\n".join(lines), {k: str(v) for k, v in env.items()})
