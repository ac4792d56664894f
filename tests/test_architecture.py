"""The floors of ARCHITECTURE.md, enforced: what each package of prefect_server may
import from the others (every import statement, function-local ones included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "prefect_server"

# package -> the packages of ours it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "utilities": set(),
    "schedules": set(),
    "database": {"settings", "utilities"},
    "observability": {"database", "settings"},
    "orchestration": {"database", "observability", "schedules", "settings", "utilities"},
    "services": {"database", "observability", "orchestration", "settings", "utilities"},
    "graphql": {"database", "orchestration", "settings", "utilities"},
    "ui": {"database", "orchestration", "schedules", "settings", "utilities"},
    "http": {"database", "graphql", "observability", "settings", "utilities"},
}


def _imports(path: Path) -> set[str]:
    """The first part below prefect_server of every module ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "prefect_server" and len(parts) > 1:
                found.add(parts[1])
    return found


def _package_of(part: str) -> str:
    return part.removesuffix(".py")


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_from_the_floors_below(package: str) -> None:
    known = {_package_of(p.name) for p in ROOT.iterdir() if not p.name.startswith("__")}
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        extra = (_imports(path) & known) - ALLOWED[package] - {package}
        if extra:
            wrong[str(path.relative_to(ROOT))] = sorted(extra)
    assert wrong == {}, f"imports from a floor above (see ARCHITECTURE.md): {wrong}"


def test_the_rule_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from prefect_server.graphql import schema\n")
    assert _imports(module) == {"graphql"}
