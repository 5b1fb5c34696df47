"""The layout is the architecture: engine → api → adapters → plugin, dependencies pointing down only."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_fakeai

SRC = Path(pytest_fakeai.__file__).parent
FORBIDDEN = {
    "engine": {
        "httpx",
        "httpx2",
        "pytest",
        "uvicorn",
        "openai",
        "pydantic",
        "pytest_fakeai.api",
        "pytest_fakeai.adapters",
        "pytest_fakeai.plugin",
    },
    "api": {"httpx", "httpx2", "pytest", "uvicorn", "openai", "pytest_fakeai.adapters", "pytest_fakeai.plugin"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    package = "pytest_fakeai." + ".".join(path.relative_to(SRC).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down(layer: str) -> None:
    for path in (SRC / layer).glob("*.py"):
        for name in _imports(path):
            for banned in FORBIDDEN[layer]:
                assert not (name == banned or name.startswith(banned + ".")), f"{path.name} imports {name}"


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, pytest_fakeai.plugin\n"
        "heavy = ['numpy','tiktoken','prometheus_client','uvicorn','openai','httpx','httpx2','pydantic','jsonschema']\n"
        "print(' '.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_module_declares_complete_all() -> None:
    for info in pkgutil.walk_packages([str(SRC)], "pytest_fakeai."):
        module = importlib.import_module(info.name)
        if info.name.endswith("__init__") or (info.ispkg and not hasattr(module, "__all__")):
            continue
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{info.name} has no __all__"
        assert len(set(exported)) == len(exported), f"{info.name}.__all__ has duplicates"  # order: ruff RUF022
        for name in exported:
            assert hasattr(module, name) or name in getattr(module, "_LAZY", {}), f"{info.name}.{name}"
