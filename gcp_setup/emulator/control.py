"""A client of the emulator's /_emulator control endpoints, for tests, benchmarks and the demo.

It works the same against an in-process emulator and one started elsewhere with `gcp-setup emulator`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class EmulatorControl:
    url: str
    """http://HOST:PORT"""

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    def _call(self, method: str, what: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{what}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def healthy(self) -> bool:
        try:
            return self._call("GET", "health").get("status") == "ok"
        except requests.RequestException:
            return False

    def reset(self) -> None:
        self._call("POST", "reset")

    def requests(self) -> list[dict[str, Any]]:
        return self._call("GET", "requests")["requests"]

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r["kind"] == "write" and r["status"] < 400]

    def set_realism(self, **switches: Any) -> dict[str, Any]:
        return self._call("PATCH", "realism", switches)

    def concurrency(self) -> dict[str, int]:
        """{"in_flight", "max_in_flight", "barrier_timeouts"} since the request log was last cleared."""
        return self._call("GET", "concurrency")

    def held(self) -> bool:
        """A write's answer is being held (Realism.hold_after_writes)."""
        return self._call("GET", "hold")["held"]

    def release(self) -> None:
        self._call("POST", "hold/release")

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's time forward (propagation delays, token expiry); its new now()."""
        return self._call("POST", "clock", {"advance_s": seconds})["now"]

    def advance_clock_per_request(self, seconds: float) -> float:
        """Every API request moves the emulator's time `seconds` forward (until the next reset): a client
        waiting out a propagation delay crosses it in a known number of requests; its now()."""
        return self._call("POST", "clock", {"advance_per_request_s": seconds})["now"]

    def freeze_clock(self) -> float:
        """Stop the emulator's time (until the next reset): it moves only by advance_clock, so that a test
        counting requests per minute never crosses a minute it did not cross itself; its now()."""
        return self._call("POST", "clock", {"freeze": True})["now"]

    def set_org_policies(self, **policies: Any) -> dict[str, Any]:
        return self._call("PATCH", "org-policies", policies)

    def credentials(self, principal: str | None = None) -> dict[str, Any]:
        """A credentials file for `principal` (default: the emulator's default user): an authorized_user
        ADC for a user, a new key file for serviceAccount:EMAIL."""
        return self._call("POST", "credentials", {"principal": principal} if principal else {})

    def proxy(self) -> dict[str, str]:
        """The emulator as an HTTPS proxy of Google's hosts: {"proxy": URL, "caBundle": PATH}."""
        return self._call("GET", "proxy")

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")
