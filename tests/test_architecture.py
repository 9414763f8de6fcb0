"""The package's shape, read with ast: no file in gcp_setup over 400 lines, no import cycle, and no import
from a lower layer to a higher one (commands → fleet → workflow → output, export, verify and guards → engine
→ steps → Google clients → settings, secrets and errors). The emulator imports nothing of gcp-setup but the
foundation (errors, defaults, envvars), and only the command line starts it; how its services import each
other is tests/emulator/test_emulator_imports.py's rule."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import gcp_setup

PACKAGE = Path(gcp_setup.__file__).resolve().parent
MAX_LINES = 400
TOP_MODULES = {"__init__", "__main__", "cli", "errors", "envvars", "defaults"}

LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__", "cli", "commands"),
    ("fleet",),
    ("workflow",),
    ("output", "export", "verify", "guards"),
    ("engine",),
    ("steps",),
    ("google",),
    ("settings", "secrets", "errors", "defaults", "envvars"),
)
"""Top first: a module may import its own layer and those below it. A name is a package of gcp_setup (or one
of the few modules at its top)."""
FOUNDATION = LAYERS[-1]
EMULATOR = "emulator"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every gcp_setup module `path` imports, anywhere in it (function-local imports too);
    `from a.b import c` counts as a.b.c when c is a module, else as a.b."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if is_module(submodule) else node.module)
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


def test_only_the_entry_points_and_the_foundation_sit_at_the_top() -> None:
    assert {p.stem for p in PACKAGE.glob("*.py")} <= TOP_MODULES


def with_packages(module: str, targets: set[str]) -> set[str]:
    """`targets` and the packages Python runs first to import them (a.b.c runs a/__init__ and a/b/__init__),
    but not `module`'s own packages, which have run already when it is imported."""
    own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    parents = {".".join(t.split(".")[:i]) for t in targets for i in range(2, t.count(".") + 1)}
    return (targets | parents) - own - {module}


def test_no_import_cycle_between_modules() -> None:
    """Any import counts: at module level, in a function, or for types only (`if TYPE_CHECKING:`), since a
    cycle of types is still a cycle in the design. A package's __init__ is a module like any other, and
    importing a.b.c imports a.b too."""
    graph = {module_name(path): with_packages(module_name(path), imported(path)) for path in modules()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
