"""apply's smoke test: verify's checks on what apply just set up.

The project and location are the config's; the API keys are those gcp-setup manages (their strings read
once, kept in memory, never printed); the ADC is what the credentials mode implies (the file apply wrote
for impersonate / key-file, the user's own otherwise). Its model calls go through the one retry policy,
as every verify check's do (core.call).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gcp_setup import defaults, envvars
from gcp_setup.secrets.secret import Secret

if TYPE_CHECKING:
    from gcp_setup.engine import RunResult
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.settings.config import Config
    from gcp_setup.verify.core import CheckResult, VerifyContext


KEY_CHECKS = ("gemini-api", "interactions", "vertex-express")
"""The checks that call Gemini with the keys apply manages."""
IAM_CHANGES = {
    "service_account": "a new service account",
    "roles": "role grants",
    "credentials": "a Token Creator grant or a new key",
    "workload_identity": "a Workload Identity pool",
    "gitlab_identity": "a Workload Identity pool",
}
"""What a step that changed something changed in IAM, which Google applies after a delay."""


class SmokeTest:
    """verify's checks on one project and their verdict: apply's smoke test, or one project of a fleet's
    `verify` (`asked`: the checks its --only named; `allow_skipped`: --allow-skipped)."""

    def __init__(
        self,
        vctx: VerifyContext,
        results: list[CheckResult],
        asked: tuple[str, ...] = (),
        allow_skipped: bool = True,
    ) -> None:
        self.vctx = vctx
        self.results = results
        self.asked = asked
        self.allow_skipped = allow_skipped

    @classmethod
    def run(
        cls,
        config: Config,
        run: RunResult,
        session: GoogleSession,
        say: Callable[[str], None],
        on_check: Callable[[Any], None] | None = None,
    ) -> SmokeTest:
        """The checks on what `run` set up; `on_check` is told each check's result as it finishes."""
        from gcp_setup.verify import CHECK_NAMES, smoke_test
        from gcp_setup.verify.core import VerifyContext

        credentials_file = step_output(run, "credentials", "credentials_file")
        environ = {**os.environ, envvars.PROJECT: config.project, envvars.LOCATION: config.location}
        if credentials_file:
            environ[envvars.CREDENTIALS] = credentials_file
        from gcp_setup.verify.credentials import resolve as resolve_credentials

        vctx = VerifyContext(
            resolve_credentials=resolve_credentials,
            emulator_host=config.emulator_host,
            project=config.project,
            location=config.location,
            model=None,
            generate=True,
            api_key_env=None,
            api_key=managed_key_string(run, session, say, "api_key"),
            express_key=managed_key_string(run, session, say, "express_key"),
            propagation_wait_s=config.propagation_wait,
            just_changed=just_changed(run),
            say=say,
            environ=environ,
        )
        vctx.on_check = on_check
        vctx.key_infos.update(_known_key_infos(run, vctx))
        if step_output(run, "billing", "enabled") is False:
            waits = f"{defaults.VERTEX_AI} waits for billing on {config.project} (see the billing step)"
            vctx.vertex_waits = waits
        names = tuple(n for n in CHECK_NAMES if n != "vertex-express" or config.vertex_express)
        return cls(vctx, smoke_test(vctx, names))

    @property
    def problem(self) -> str | None:
        """Why the checks failed; for apply a skip is no failure (it proves what it was asked to set up)."""
        from gcp_setup.verify.render import verdict

        return verdict(self.results, self.asked, self.allow_skipped)

    @property
    def proves_the_keys(self) -> bool:
        """The checks of the keys apply manages ran and passed (a skip proves nothing): what deleting
        the keys they replace waits for."""
        from gcp_setup.verify.render import verdict

        asked = tuple(n for n in KEY_CHECKS if any(r.name == n for r in self.results))
        return verdict(self.results, asked) is None

    @property
    def passed(self) -> bool:
        return self.problem is None

    def failures(self) -> str:
        return "; ".join(f"{r.name} ({r.reason or 'failed'})" for r in self.results if r.status == "failed")

    def table(self) -> str:
        from gcp_setup.verify.core import redact_all
        from gcp_setup.verify.render import render_table

        return "Smoke test (gcp-setup verify):\n" + redact_all(
            render_table(self.vctx, self.results), self.vctx.secrets()
        )

    def document(self) -> dict[str, Any]:
        """verify's JSON document without what the apply or fleet document already says (emulator,
        project)."""
        import json

        from gcp_setup.verify.core import redact_all
        from gcp_setup.verify.render import document

        body = {
            k: v
            for k, v in document(self.vctx, self.results, self.problem).items()
            if k not in ("emulator", "project")
        }
        redacted: dict[str, Any] = json.loads(redact_all(json.dumps(body), self.vctx.secrets()))
        return redacted


def managed_key_string(
    run: RunResult, session: GoogleSession, say: Callable[[str], None], step: str
) -> Secret | None:
    """The string of the API key `step` manages: the one a writer of this run holds (the .env's,
    $GITHUB_ENV's) or the key's creation answered, else one getKeyString; None without a key or when it
    cannot be read (its checks are then skipped, and `say` tells why)."""
    from gcp_setup.errors import GcpSetupError
    from gcp_setup.google.apikeys import ApiKeysClient
    from gcp_setup.steps.exported import KEY_VARIABLES

    name = step_output(run, step, "name")
    if not step_output(run, step, "exists"):
        return None
    variable = next(v for v, s in KEY_VARIABLES.items() if s == step)
    held = step_output(run, "env_file", variable) or step_output(run, "github_env", variable)
    known = held or step_output(run, step, "key_string")
    if known:
        held_key: Secret = known
        return held_key
    try:
        return ApiKeysClient(session).key_string(name)
    except GcpSetupError as exc:
        say(f"smoke test: cannot read the string of {name} ({exc.one_line()}); its checks are skipped")
        return None


def _known_key_infos(run: RunResult, vctx: VerifyContext) -> dict[str, Any]:
    """What apply knows of the keys it made, so that the smoke test need not look them up."""
    from gcp_setup.verify.keys import AUTH, STANDARD, KeyInfo

    infos = {}
    for step, key in (("api_key", vctx.api_key), ("express_key", vctx.express_key)):
        if key:
            account = step_output(run, step, "bound_to") or ""
            infos[key.reveal()] = KeyInfo(
                AUTH if account else STANDARD, account, step_output(run, step, "name"), "apply"
            )
    return infos


def just_changed(run: RunResult) -> tuple[str, ...]:
    """What `run` changed in IAM (IAM_CHANGES), each said once."""
    from gcp_setup.steps import Outcome

    changed = (r.name for r in run.results if r.outcome in (Outcome.CREATED, Outcome.UPDATED))
    return tuple(dict.fromkeys(IAM_CHANGES[name] for name in changed if name in IAM_CHANGES))


def step_output(run: RunResult, step: str, key: str) -> Any:
    """Output `key` of `step` in `run`, None when the step did not run or has no such output."""
    result = run.by_name(step)
    return result.outputs.get(key) if result else None
