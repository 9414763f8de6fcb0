"""A fleet: every `[[projects]]` entry of gcp-setup.toml, worked on by one process.

One GoogleSession serves the whole fleet (its clients, one connection pool per API, and its limiter:
limiter.py); a bounded pool runs `parallelism` projects at once, each through the same steps and engine
as a single-project run. A project that fails, by a failed step or by an exception, is one failed row: the
others go on.

    configs = entry_configs(entries, resolve_entry)      # bad input: UsageError naming the entry
    results = run_fleet(configs, work, session=fleet_session(host), parallelism=16, display=display)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from gcp_setup.engine.speculation import Schedule
from gcp_setup.errors import UsageError
from gcp_setup.google.limiter import MonotonicClock, QuotaLimiter
from gcp_setup.google.session import GoogleSession
from gcp_setup.google.transport import import_client_libraries
from gcp_setup.settings.config import Config, TomlSection
from gcp_setup.steps.base import Outcome

CHANGED = (Outcome.CREATED, Outcome.UPDATED, Outcome.DELETED)


@dataclass
class ProjectResult:
    """One entry's run: its steps' RunResult (and apply's smoke test), verify's checks alone, or the
    error that stopped it."""

    project: str
    config: Config
    run: Any = None
    """The engine's RunResult; None for `verify` (no steps), or when the project's run raised first."""
    smoke: Any = None
    """verify's checks (verify/smoke.py SmokeTest): apply's smoke test, or a fleet `verify`'s."""
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        ran = self.run.ok if self.run is not None else self.smoke is not None
        return self.error is None and ran and (self.smoke is None or self.smoke.passed)

    @property
    def changes_pending(self) -> bool:
        return self.run is not None and self.run.changes_pending

    @property
    def changed(self) -> int:
        return 0 if self.run is None else sum(r.outcome in CHANGED for r in self.run.results)

    @property
    def failed_steps(self) -> list[Any]:
        return [] if self.run is None else [r for r in self.run.results if r.outcome is Outcome.FAILED]


class Display(Protocol):
    def started(self, project: str) -> None: ...

    def note(self, project: str, step: str, message: str) -> None: ...

    def finished(self, result: ProjectResult) -> None: ...


Work = Callable[[Config, Any, Callable[[str, str], None]], tuple[Any, Any]]
"""work(config, session, progress) -> (RunResult or None, smoke test or None): one project's run."""


def selected(entries: Sequence[TomlSection], only: Sequence[str]) -> list[TomlSection]:
    """The entries --only names (all without it); an ID the file does not hold is a usage error."""
    if not only:
        return list(entries)
    ids = [e.values.get("project") for e in entries]
    unknown = [p for p in only if p not in ids]
    if unknown:
        raise UsageError(
            f"--only {','.join(unknown)}: not a project of the fleet file, which holds "
            + ", ".join(map(str, ids))
        )
    return [e for e in entries if e.values.get("project") in only]


def entry_configs(entries: Sequence[TomlSection], resolve: Callable[[TomlSection], Config]) -> list[Config]:
    """Each entry's Config; bad input in any entry stops the fleet before a request, naming it."""
    configs = []
    for entry in entries:
        try:
            configs.append(resolve(entry))
        except UsageError as exc:
            message = exc.one_line()  # named after the entry already when one of its settings is wrong
            raise UsageError(
                message if message.startswith(entry.label) else f"{entry.label}: {message}"
            ) from None
    projects = [c.project for c in configs]
    twice = sorted({p for p in projects if projects.count(p) > 1})
    if twice:
        raise UsageError(
            f"the fleet file names project {', '.join(twice)} more than once; keep one entry each"
        )
    return configs


FIRST_READ_BURSTS = 4
"""How many projects of a fleet send their first reads at once (engine/speculation.py): enough to keep
the round trips full, few enough that one project's reads go out together (bench/README.md, "Tuning
constants")."""


def fleet_endpoints(configs: Sequence[Config]) -> tuple[str | None, str | None]:
    """The emulator and billing project a fleet's one session uses (every entry shares them)."""
    return (configs[0].emulator_host, configs[0].billing_project) if configs else (None, None)


def fleet_session(
    emulator_host: str | None, billing_project: str | None = None, clock: Any = None
) -> GoogleSession:
    """The one session of a fleet run, with its shared quota limiter."""
    import_client_libraries()  # once, before the threads: an import inside them would serialise them
    session = GoogleSession.create(emulator_host, billing_project)
    session.limiter = QuotaLimiter(clock or MonotonicClock())
    return session


def fleet_schedule() -> Schedule:
    """The engine's schedule for a fleet's runs: a few projects send their first reads at once, and each
    speculates below its project only once that has answered (engine/speculation.py)."""
    return Schedule(threading.BoundedSemaphore(FIRST_READ_BURSTS), after_roots=True)


def run_fleet(
    configs: Sequence[Config], work: Work, *, session: Any, parallelism: int, display: Display
) -> list[ProjectResult]:
    """Every project through `work`, at most `parallelism` at once; results in the order of `configs`."""
    if not configs:
        return []
    with ThreadPoolExecutor(max_workers=min(parallelism, len(configs)), thread_name_prefix="fleet") as pool:
        futures = [pool.submit(_run_one, config, work, session, display) for config in configs]
        return [future.result() for future in futures]


def _run_one(config: Config, work: Work, session: Any, display: Display) -> ProjectResult:
    project = config.project
    display.started(project)
    result = ProjectResult(project, config)
    started = time.monotonic()
    try:
        result.run, result.smoke = work(config, session, lambda step, msg: display.note(project, step, msg))
    except Exception as exc:  # one project's failure is its row; the fleet goes on
        result.error = exc
    result.seconds = time.monotonic() - started
    display.finished(result)
    return result
