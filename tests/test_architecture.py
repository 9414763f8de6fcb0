"""The package's shape, read with ast: no file in gcp_setup over 400 lines, and no import from a lower layer
to a higher one (commands → report → engine → steps → Google clients → errors and settings). The emulator
imports nothing of gcp-setup but the foundation (errors, defaults, envvars), and only the command line
starts it; how its services import each other is tests/test_emulator_imports.py's rule."""

from __future__ import annotations

import ast
from pathlib import Path

import gcp_setup

PACKAGE = Path(gcp_setup.__file__).resolve().parent
MAX_LINES = 400

LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__", "cli", "demo", "commands", "preflight"),
    (
        *("report", "outputs", "permissions", "terraform_export", "verify", "github_actions"),
        *("fleet", "fleet_report", "fleet_export", "reap"),
    ),
    ("engine",),
    ("steps",),
    ("federations", "google"),
    (
        *("errors", "config", "settings", "settings_parsers", "settings_ci", "fleet_settings"),
        *("defaults", "envvars", "secrets", "locks", "schema"),
    ),
)
"""Top first: a module may import its own layer and those below it. Module names are gcp_setup.NAME."""
FOUNDATION = LAYERS[-1]
EMULATOR = "emulator"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every gcp_setup module `path` imports, anywhere in it (function-local imports too);
    `from gcp_setup import x` counts as gcp_setup.x when x is a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= (
                {f"{node.module}.{a.name}" for a in node.names}
                if node.module == "gcp_setup"
                else {node.module}
            )
    return {name for name in found if name.startswith("gcp_setup.") and is_module(name)}


def is_module(name: str) -> bool:
    """gcp_setup.steps is; gcp_setup.__version__ (an attribute of the package) is not."""
    relative = PACKAGE.parent / name.replace(".", "/")
    return relative.is_dir() or relative.with_suffix(".py").exists()


def top(module: str) -> str:
    """gcp_setup.steps.adc.user -> steps."""
    return module.split(".")[1]


def layer_of(module: str) -> int:
    name = top(module)
    return next(i for i, names in enumerate(LAYERS) if name in names)


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_file_in_gcp_setup_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_module_is_in_a_layer() -> None:
    outside = {top(module_name(p)) for p in modules() if module_name(p) != "gcp_setup"}
    assert outside - {n for names in LAYERS for n in names} == {EMULATOR}


def test_no_import_runs_up_a_layer() -> None:
    upward = []
    for path in modules():
        module = module_name(path)
        if module == "gcp_setup" or top(module) == EMULATOR:
            continue
        for target in imported(path):
            if top(target) != EMULATOR and layer_of(target) < layer_of(module):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_the_emulator_imports_only_the_foundation_and_only_the_command_line_imports_it() -> None:
    wrong = []
    for path in modules():
        module = module_name(path)
        inside = module != "gcp_setup" and top(module) == EMULATOR
        for target in imported(path):
            if inside and top(target) not in (EMULATOR, *FOUNDATION):
                wrong.append(f"{module} imports {target}")
            if not inside and top(target) == EMULATOR and layer_of(module) != 0:
                wrong.append(f"{module} imports {target}")
    assert wrong == []
