"""The parsers and checks of the settings a fleet and an ephemeral project add to the table in
gcp_setup/settings/table.py: --ttl, --project-prefix, --parallelism."""

from __future__ import annotations

import re
from typing import Any

from gcp_setup.errors import UsageError
from gcp_setup.settings.checks import project_id_problem

MAX_PARALLELISM = 64
PARALLELISM = 32
"""Projects of a fleet worked on at once by default: the fastest of those bench/fleet.py tried on 2 cores
(bench/README.md, "Tuning constants")."""
GENERATED_SUFFIX = 8
"""Random lowercase letters and digits after --project-prefix."""

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def as_duration(text: Any) -> float | None:
    """A time to live: 90s, 30m, 2h, 7d, or plain seconds; empty or none: no expiry."""
    value = "" if text is None or text is False else str(text).strip()
    if not value or value.lower() == "none":
        return None
    found = _DURATION.match(value.lower())
    if found is None or float(found[1]) <= 0:
        raise UsageError(f"{text!r} is not a duration; use e.g. --ttl 2h (s, m, h or d)")
    return float(found[1]) * _UNIT_S[found[2]]


def as_parallelism(text: Any) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= MAX_PARALLELISM:
        raise UsageError(f"{text!r} is not a parallelism; use a whole number from 1 to {MAX_PARALLELISM}")
    return value


def check_project_prefix(prefix: str | None) -> str | None:
    """A prefix that, with GENERATED_SUFFIX characters after it, makes a valid project ID."""
    if prefix is None:
        return None
    problem = project_id_problem(prefix + "a" * GENERATED_SUFFIX)
    if problem is None and len(prefix) > 30 - GENERATED_SUFFIX:
        problem = f"is {len(prefix)} characters long; at most {30 - GENERATED_SUFFIX} leave room for the ID"
    if problem:
        raise UsageError(f"project prefix {prefix!r} {problem}")
    return prefix
