"""The documentation site: mkdocs.yml builds strictly, and its nav lists every page in docs/.

The build needs the ``docs`` extra (``pip install -e ".[docs]"``) and is skipped without it;
the nav check needs nothing, so a page added to docs/ without a nav entry fails everywhere.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"
# What docs/reference/api.md must document (mkdocstrings gives each object an anchor of its path).
API_OBJECTS = [
    *(f"pytest_fakeai.{name}" for name in ("FakeAI", "Settings", "ApiRequest", "ApiResponse", "TimedStream")),
    *(f"pytest_fakeai.{name}" for name in ("ApiError", "Rule", "Call", "Calls", "Router")),
    *(f"pytest_fakeai.{name}" for name in ("ModelSpec", "ModelRegistry")),
    "pytest_fakeai.FakeAI.on",
    "pytest_fakeai.hookspecs",
    *(f"pytest_fakeai.api.metrics.{name}" for name in ("Metrics", "Distribution", "Snapshot", "Tokens")),
]


def _nav_pages() -> list[str]:
    """The .md paths named in mkdocs.yml's ``nav`` (relative to docs/), in order."""
    text = CONFIG.read_text()
    start = re.search(r"^nav:\s*$", text, re.M)
    assert start, "mkdocs.yml has no nav"
    end = re.search(r"^\S", text[start.end() :], re.M)  # the next top-level key, if any
    nav = text[start.end() : start.end() + end.start()] if end else text[start.end() :]
    return re.findall(r"^\s*-\s+(?:[^\n]*?:\s+)?([\w./-]+\.md)\s*$", nav, re.M)


def test_every_docs_page_is_in_the_nav() -> None:
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    nav = _nav_pages()
    missing = [p for p in pages if p not in nav]
    assert not missing, f"docs pages missing from mkdocs.yml's nav (add them under a section): {missing}"
    dangling = [p for p in nav if not (DOCS / p).is_file()]
    assert not dangling, f"mkdocs.yml's nav names pages that do not exist: {dangling}"
    repeated = sorted({p for p in nav if nav.count(p) > 1})
    assert not repeated, f"pages listed twice in the nav: {repeated}"


def test_site_builds_strictly(tmp_path: Path) -> None:
    missing = [m for m in ("mkdocs", "material", "mkdocstrings_handlers.python") if _absent(m)]
    if missing:
        pytest.skip(f"the docs extra is not installed (no {', '.join(missing)}): pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # material's banner about MkDocs 2.0 is not a build warning
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(CONFIG), "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    warnings = [line for line in output.splitlines() if re.match(r"\s*(WARNING|ERROR)\b", line)]
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{output}"
    assert not warnings, "mkdocs build warned:\n" + "\n".join(warnings)
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    lost = [name for name in API_OBJECTS if f'id="{name}"' not in api]
    assert not lost, f"docs/reference/api.md no longer documents {lost}"


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True
