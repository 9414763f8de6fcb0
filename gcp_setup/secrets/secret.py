"""The typed secret: a value (an API key string) that prints as *** everywhere, and is revealed only by the
code that writes it where it belongs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Secret:
    """A value that must not be printed (an API key string): str(), repr(), format() and a JSON encoder's
    `default=str` all give ***. Only the code that writes it where it belongs calls `reveal()`."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)


def revealed(value: str | Secret) -> str:
    return value.reveal() if isinstance(value, Secret) else value


def revealed_all(values: Mapping[str, str | Secret]) -> dict[str, str]:
    """`values` with every Secret unwrapped: for the writers that put them where they belong."""
    return {name: revealed(value) for name, value in values.items()}
