"""Step: $GITHUB_ENV (--github-env, inside GitHub Actions): the variables of steps/exported.py appended
as NAME=value lines for the job's later steps (its later lines win), every key string masked first
with the `::add-mask::` workflow command."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gcp_setup import envvars
from gcp_setup.secrets.github_env import append_github_env, github_env_has
from gcp_setup.secrets.secret import Secret, revealed_all
from gcp_setup.steps.base import Action, Context, Step
from gcp_setup.steps.exported import (
    KEY_VARIABLES,
    READS,
    UPSTREAM,
    existing_keys,
    exported_values,
    key_string,
)


@dataclass
class GithubEnvState:
    path: Path | None
    """$GITHUB_ENV; None outside GitHub Actions."""
    values: dict[str, str | Secret]
    current: bool = True


class GithubEnvStep(Step):
    name = "github_env"
    depends_on = (*UPSTREAM, "env_file")
    reads = {**READS, "env_file": tuple(KEY_VARIABLES)}  # the key strings the .env already holds

    def enabled(self, config: Any) -> bool:
        return bool(config.github_env)

    def observe(self, ctx: Context) -> GithubEnvState:
        path = Path(os.environ[envvars.GITHUB_ENV]) if os.environ.get(envvars.GITHUB_ENV) else None
        if path is None:
            return GithubEnvState(None, {})
        keys = {
            variable: key_string(ctx, step, ctx.output("env_file", variable))
            for variable, step in existing_keys(ctx).items()
        }
        values = exported_values(ctx, keys)
        return GithubEnvState(path, values, github_env_has(path, revealed_all(values)))

    def plan(self, ctx: Context, state: GithubEnvState) -> list[Action]:
        if state.current or state.path is None:
            return []
        summary = f"export {', '.join(state.values)} to $GITHUB_ENV"
        return [Action("update", "$GITHUB_ENV", summary, {"path": state.path, "values": state.values})]

    def apply(self, ctx: Context, action: Action) -> None:
        append_github_env(action.data["path"], action.data["values"])

    def state_after(
        self, ctx: Context, state: GithubEnvState, action: Action, answer: None
    ) -> GithubEnvState:
        return replace(state, current=True)

    def describe(self, ctx: Context, state: GithubEnvState) -> str:
        return "no $GITHUB_ENV: not in GitHub Actions" if state.path is None else "$GITHUB_ENV"

    def outputs(self, ctx: Context, state: GithubEnvState) -> dict[str, Any]:
        return {v: value for v, value in state.values.items() if v in KEY_VARIABLES}
