"""The settings' parsers: text (an environment variable, a flag) or a TOML value -> the setting's value,
or a UsageError naming the fix. The checks that follow parsing are in settings.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gcp_setup import defaults
from gcp_setup.errors import UsageError

VERBOSITIES = ("debug", "info", "warning", "error")
MAX_TIMEOUT_S = 3600


def as_bool(text: Any) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise UsageError(f"{text!r} is not a boolean; use true or false")


def as_list(text: Any) -> tuple[str, ...]:
    items = text if isinstance(text, list | tuple) else str(text).split(",")
    return tuple(s.strip() for item in items for s in str(item).split(",") if s.strip())


def as_labels(text: Any) -> dict[str, str]:
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    labels = {}
    for pair in as_list(text):
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"label {pair!r} is not KEY=VALUE; use e.g. --label team=ml")
        labels[key.strip()] = value.strip()
    return labels


def as_text(text: Any) -> str | None:
    if text is False or text is None:
        return None
    return str(text).strip() or None


def as_account(text: Any) -> str | None:
    """An account ID, or None for no service account (false/none/off, or --no-service-account)."""
    value = as_text(text)
    return None if value is None or value.lower() in ("false", "none", "no", "off") else value


def merged_services(text: Any) -> tuple[str, ...]:
    """defaults.SERVICES, then the ones asked for, without duplicates."""
    return tuple(dict.fromkeys((*defaults.SERVICES, *as_list(text))))


def as_seconds(text: Any) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = 0.0
    if not 0 < value <= MAX_TIMEOUT_S:
        raise UsageError(f"{text!r} is not a number of seconds; use e.g. 30 (at most {MAX_TIMEOUT_S})")
    return value


def as_wait(text: Any) -> float:
    """Seconds to wait, 0 (do not wait) included."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = -1.0
    if not 0 <= value <= MAX_TIMEOUT_S:
        raise UsageError(f"{text!r} is not a number of seconds; use e.g. 90, or 0 not to wait")
    return value


def as_verbosity(text: Any) -> str:
    value = str(text).strip().lower()
    if value not in VERBOSITIES:
        raise UsageError(f"{text!r} is not one of {', '.join(VERBOSITIES)}")
    return value
