"""The one exception family of gcp-setup.

Every error a user can cause or meet carries a one-line message that says the fix, and an exit code.
The CLI prints `Error: <message>` and exits with `exit_code`; tracebacks appear only with --verbosity debug.
"""

from __future__ import annotations

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CHANGES = 2
"""plan/status --detailed-exitcode: changes are pending (usage errors then exit EXIT_FAILED)."""


class GcpSetupError(Exception):
    """Base class. `retryable` tells callers whether the same call may succeed later."""

    exit_code = EXIT_FAILED
    retryable = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def one_line(self) -> str:
        text = str(self)
        return f"{text} ({self.hint})" if self.hint else text


class UsageError(GcpSetupError, ValueError):
    """Bad input: a flag, a config value, an ID that cannot be valid."""

    exit_code = EXIT_USAGE


class GoogleApiError(GcpSetupError):
    """A Google API (or the emulator) answered with an error; `reason` is the ErrorInfo reason."""

    def __init__(
        self,
        message: str,
        *,
        status: str = "",
        code: int = 0,
        reason: str = "",
        metadata: dict[str, str] | None = None,
        hint: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.reason = reason
        self.metadata = metadata or {}
        self.retry_after_s = retry_after_s
        """The delay Google's RetryInfo asks for before the same call, when it sent one."""
        self.retryable = code in (429, 500, 502, 503, 504) or status in ("ABORTED", "UNAVAILABLE")


class EmulatorError(GcpSetupError):
    """The emulator could not start (port in use, bad state file)."""
