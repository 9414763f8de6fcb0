"""What a provisioning step is: observe -> plan -> apply, as pyinfra separates facts from operations.

Writing a step (the whole contract a step's author must know):

    class ServiceAccountStep(Step):
        name = "service_account"
        depends_on = ("services",)
        reads = {"project": ("number",)}      # upstream outputs it reads (each among depends_on)

        def enabled(self, config):            # False -> outcome "skipped", dependents still run
            return config.service_account is not None

        def observe(self, ctx):               # read-only calls; return any value (a small dataclass)
            ...
        def plan(self, ctx, state):           # pure: [] means nothing to do
            return [Action("create", f"projects/{p}/serviceAccounts/{email}", "service account x", {...})]
        def describe(self, ctx, state):       # one line for `status` and the `=` lines of `plan`
            return f"{email} exists"
        def apply(self, ctx, action):         # the mutating call(s) for one action; raise on failure;
            ...                               # returns what the write answered (or None)
        def outputs(self, ctx, state):        # read by later steps as ctx.output("service_account", "email")
            return {"email": email}

A step may also save requests with the optional hooks engine/speculation.py owns and documents
(`early_reads`, `absent_state`, `state_after`, `created_anew`); without them the engine observes again
where it would have foreseen, and the step works the same.

Rules the engine relies on:
- `observe` and `plan` never mutate. After the actions are applied the plan of the state they left
  must be empty, otherwise the step fails ("did not converge"). A second `apply` therefore plans
  nothing and sends no mutating request.
- `observe` may run early, at the start of the run beside every other step's; the engine keeps that
  state only if no upstream step changed anything and the upstream outputs it read are the same when
  the step's turn comes, else it observes again. So read them only through `ctx.output`, and declare
  each in `reads` (an undeclared read raises UndeclaredRead). The project ID is `ctx.config.project`
  (validated, so it is the one the project step finds), not the project step's output: reading that
  would make every speculative observe wait for the project's.
- `apply` may be interrupted after any call; the next run's observe must see the partial state and
  plan only what is left (deterministic names: a fixed key ID, a fixed account ID).
- Raise `StepError` (or any GcpSetupError) with a one-line message and a `hint` naming the fix; the
  step's outcome becomes "failed" and its dependents are blocked. `plan` raises `PreconditionFailed`
  (or `StepInputError`, for a setting Google says is wrong) for what must stop the whole run before
  it writes anything. Google client exceptions are
  turned into one line by gcp_setup.google.errors.
- Long waits report progress with `ctx.progress_note("waiting for operation ... (3 s)")`; it goes to
  stderr in human mode and is silent in --format json.
- Steps are instances without per-run state: the same instance may run in several threads; keep
  everything per run in the state value and in the outputs.
- Secrets (an API key string) travel between steps only as `gcp_setup.secrets.secret.Secret` outputs, which
  nothing prints; only the steps that write them somewhere unwrap them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from gcp_setup.errors import GcpSetupError, UsageError

if TYPE_CHECKING:
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.settings.config import Config

ActionKind = Literal["create", "update", "delete"]

SYMBOLS: dict[str, str] = {"create": "+", "update": "~", "delete": "-"}
"""How `plan` marks an action, as terraform does; `=` marks an unchanged step."""


@dataclass(frozen=True)
class Action:
    """One change a step will make. `data` carries what `apply` needs (never secrets)."""

    kind: ActionKind
    resource: str
    """The Google resource name, e.g. "projects/p/serviceAccounts/gemini-client@p.iam.gserviceaccount.com"."""
    summary: str
    """One line for `plan`, e.g. "create service account gemini-client"."""
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.kind]


class Outcome(StrEnum):
    UNCHANGED = "unchanged"
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    PLANNED = "planned"
    """`plan` / `status` only: changes are pending."""
    FAILED = "failed"
    SKIPPED = "skipped"
    """Disabled by the configuration."""
    BLOCKED = "blocked"
    """Not run: a step it depends on failed, or a precondition of the run stopped every write."""


class StepError(GcpSetupError):
    """A step cannot do its job; the message says what, the hint says the fix.

    `blocks_dependents=False` lets later steps run anyway (billing missing blocks Vertex AI, not the
    Gemini API key); the step's outputs are still published then, from the observed state."""

    def __init__(self, message: str, *, hint: str | None = None, blocks_dependents: bool = True) -> None:
        super().__init__(message, hint=hint)
        self.blocks_dependents = blocks_dependents


class PreconditionFailed(StepError):
    """Something outside gcp-setup's reach (an organization policy) would refuse a later write after
    earlier ones had already been made. Found by the plan that every apply starts with, it stops the
    run before any write (exit 1), like StepInputError."""


class StepInputError(StepError, UsageError):
    """A setting Google says is wrong (a billing account, a service or a role it does not know). Found
    by the plan that every apply starts with, it stops the run before any write (exit 2)."""


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""What `state_after` returns when the write's answer does not tell the state: observe again."""


ProgressCallback = Callable[[str, str], None]
"""progress(step_name, message): a live note about a wait, shown on stderr in human mode."""


def _no_progress(step: str, message: str) -> None:
    """Progress sink for callers that show none (json output, tests)."""


@dataclass
class Context:
    """What every step gets. One per run; the engine gives each step a copy with `step` set, sharing
    `outputs` (step name -> that step's `outputs()`), which only the engine writes."""

    config: Config
    session: GoogleSession
    progress: ProgressCallback = _no_progress
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    dry_run: bool = False
    """True for `plan` and `status`: nothing may change."""
    step: str = ""
    reads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The step's declared reads (Step.reads): the only outputs `output()` answers."""

    def for_step(self, step: Step) -> Context:
        """The context `step` runs in. A step that declares it reads services.enabled_now gets a session
        that waits out SERVICE_DISABLED from the APIs the services step has just enabled."""
        ctx = replace(self, step=step.name, reads=step.reads)
        if "enabled_now" in step.reads.get("services", ()):
            project = self.outputs.get("project", {})
            ctx.session = self.session.expecting(
                self.outputs.get("services", {}).get("enabled_now", {}),
                tuple(str(project[k]) for k in ("project_id", "number") if project.get(k)),
            )
        return ctx

    def progress_note(self, message: str) -> None:
        self.progress(self.step, message)

    def output(self, step: str, key: str, default: Any = None) -> Any:
        """A value an earlier step published and this step declared it reads, e.g.
        ctx.output("project", "number")."""
        self.check_declared(step, key)
        return self.outputs.get(step, {}).get(key, default)

    def check_declared(self, step: str, key: str) -> None:
        if self.step and key not in self.reads.get(step, ()):
            raise UndeclaredRead(f"step {self.step} reads {step}.{key} without declaring it in Step.reads")


class UndeclaredRead(RuntimeError):
    """A step read an upstream output it did not declare: a bug in the step, not a user's error."""


class Step:
    """Base class of a provisioning step; see the module docstring for the contract."""

    name: ClassVar[str]
    depends_on: ClassVar[tuple[str, ...]] = ()
    reads: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Upstream step -> the keys of its outputs this step reads (each step among depends_on)."""

    def enabled(self, config: Config) -> bool:
        return True

    def observe(self, ctx: Context) -> Any:
        raise NotImplementedError

    def plan(self, ctx: Context, state: Any) -> list[Action]:
        raise NotImplementedError

    def apply(self, ctx: Context, action: Action) -> Any:
        """The mutating call(s) of one action. Returns what the write answered (the resource as the API
        now has it), for `state_after`; None when there is nothing to go by."""
        raise NotImplementedError

    def describe(self, ctx: Context, state: Any) -> str:
        """One line about the observed state (for `status`, and why a step is unchanged)."""
        return ""

    def outputs(self, ctx: Context, state: Any) -> dict[str, Any]:
        return {}
