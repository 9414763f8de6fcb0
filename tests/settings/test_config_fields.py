"""Config (gcp_setup/config.py) against the settings table (gcp_setup/settings.py): a field per setting
that Config holds, in the table's order, each carrying its setting, of its type, with its default; and
no field without a setting but `sources`. `drift` is shown to catch each kind of disagreement."""

from __future__ import annotations

from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from gcp_setup.settings.config import SETTING, Config, _setting
from gcp_setup.settings.table import BY_NAME, SETTINGS

REQUIRED = {"project"}
"""Config fields without a default: a run works on one project."""
NOT_SETTINGS = {"sources"}


def default_of(f: Field[Any]) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def drift(config_class: type) -> list[str]:
    """Where a Config-like dataclass and the settings table disagree, one line each."""
    problems = []
    hints = get_type_hints(config_class)
    by_field = {f.name: f for f in fields(config_class)}
    wanted = [s.name for s in SETTINGS if s.in_config]
    problems += [f"setting {name} has no field" for name in wanted if name not in by_field]
    problems += [f"field {name} has no setting" for name in by_field if name not in {*wanted, *NOT_SETTINGS}]
    present = [name for name in by_field if name in wanted]
    if present != [name for name in wanted if name in by_field]:
        problems.append("the fields are not in the table's order")
    for name in present:
        f, setting = by_field[name], BY_NAME[name]
        if f.metadata.get(SETTING) is not setting:
            problems.append(f"field {name} does not carry its setting")
        if hints[name] != setting.type:
            problems.append(f"field {name} is {hints[name]}, its setting {setting.type}")
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if has_default == (name in REQUIRED):
            problems.append(f"field {name} {'has' if has_default else 'lacks'} a default")
        elif has_default and default_of(f) != setting.checked(setting.parse(setting.default)):
            problems.append(f"field {name} defaults to {default_of(f)!r}, its setting to {setting.default!r}")
    return problems


def test_config_matches_the_settings_table():
    assert drift(Config) == []


def test_the_table_can_be_read_from_config():
    assert [f.metadata[SETTING] for f in fields(Config) if SETTING in f.metadata] == [
        s for s in SETTINGS if s.in_config
    ]


@dataclass(frozen=True)
class Drifted:
    project: str | None = _setting("project")
    organization: str | None = _setting("create")
    folder: int = _setting("folder")
    location: str = field(default="us-central1", metadata={SETTING: BY_NAME["location"]})
    services: tuple[str, ...] = _setting("services")
    colour: str = "blue"
    env_file: Path | None = None


def test_drift_names_each_disagreement():
    problems = drift(Drifted)
    assert "setting create has no field" in problems
    assert "setting api_key has no field" in problems
    assert "field colour has no setting" in problems
    assert "field project has a default" in problems
    assert "field organization does not carry its setting" in problems
    assert "field folder is <class 'int'>, its setting str | None" in problems
    assert "field location defaults to 'us-central1', its setting to 'global'" in problems
    assert "field env_file does not carry its setting" in problems
    assert not [p for p in problems if p.startswith("field services")]
