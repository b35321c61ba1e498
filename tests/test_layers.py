"""Dependencies flow one way (docs/architecture.md): no module imports a package above it,
not even lazily inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = {"sim": 0, "economy": 1, "stations": 2, "analysis": 3, "audio": 3, "tui": 4,
         "personafm": 5}  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(LAYER)


def test_no_module_imports_a_package_above_it() -> None:
    wrong = []
    for package, level in LAYER.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for imported in _imports(path):
                if imported != package and LAYER[imported] >= level:
                    wrong.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not wrong, "\n".join(wrong)
