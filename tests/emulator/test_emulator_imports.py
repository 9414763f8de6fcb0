"""The emulator's import rule: a service reads another service's state through its `models` and nothing
else of it; what services share lives in core, which imports no service's handlers; `models` modules hold
state and take no HTTP requests."""

from __future__ import annotations

import ast
from pathlib import Path

from gcp_setup.emulator.core.routes import SERVICES

EMULATOR = Path(__file__).resolve().parent.parent.parent / "gcp_setup" / "emulator"
PREFIX = "gcp_setup.emulator."


def imported_modules(path: Path) -> set[str]:
    """Every gcp_setup.emulator module `path` imports, `from package import module` resolved to the module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                relative = candidate.removeprefix(PREFIX).replace(".", "/")
                if (EMULATOR / f"{relative}.py").exists() or (EMULATOR / relative).is_dir():
                    found.add(candidate)
    return {m for m in found if m.startswith(PREFIX)}


def service_part(module: str) -> tuple[str, str] | None:
    """("iam", "models") for gcp_setup.emulator.iam.models; None outside the service packages."""
    parts = module.removeprefix(PREFIX).split(".")
    return (parts[0], ".".join(parts[1:])) if parts[0] in SERVICES else None


def test_every_service_package_is_in_the_register() -> None:
    packages = {p.parent.name for p in EMULATOR.glob("*/responses.py")}
    assert packages == set(SERVICES)


def test_a_service_imports_only_the_models_of_another() -> None:
    wrong = []
    for path in EMULATOR.rglob("*.py"):
        own = path.relative_to(EMULATOR).parts[0]
        for module in imported_modules(path):
            target = service_part(module)
            if target and target[0] != own and target[1] != "models":
                wrong.append(f"{path.relative_to(EMULATOR)} imports {module}")
    assert wrong == []


def test_models_take_no_requests() -> None:
    wrong = [
        str(path.relative_to(EMULATOR))
        for path in EMULATOR.glob("*/models.py")
        if PREFIX + "core.routes" in imported_modules(path)
    ]
    assert wrong == []


def test_the_rule_sees_a_sideways_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from gcp_setup.emulator.iam import responses\nimport gcp_setup.emulator.core.errors\n")
    assert imported_modules(sample) >= {PREFIX + "iam.responses", PREFIX + "core.errors"}
    assert service_part(PREFIX + "iam.responses") == ("iam", "responses")
