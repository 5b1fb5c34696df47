"""docs/migrating.md: every pytest-fakeai example on the page passes as written.

The page fences pytest-fakeai code as ```python and the other tools' code (respx,
openai-responses) as ```py: the first kind is run, the second only compiled (those
libraries need not be installed, and respx cannot see openai 3.x's requests anyway).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "migrating.md"
FENCE = re.compile(r"^```(python|py)\n(.*?)^```", re.S | re.M)
OTHER_TOOLS = re.compile(r"^\s*(import|from)\s+(respx|openai_responses)\b", re.M)


def _blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(PAGE.read_text()) if kind == lang]


def _test_names(block: str) -> list[str]:
    return [n.name for n in ast.parse(block).body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def _missing(block: str) -> list[str]:
    needs = {"uvicorn"} if "fakeai_server" in block else set()
    for node in ast.parse(block).body:
        if isinstance(node, ast.Import):
            needs.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            needs.add(node.module.split(".")[0])
    return sorted(name for name in needs if importlib.util.find_spec(name) is None)


def test_page_fences_its_examples_consistently() -> None:
    ours, theirs = _blocks("python"), _blocks("py")
    assert len(ours) >= 8, "the page lost its pytest-fakeai examples"
    assert len(theirs) >= 2, "the page lost its before (respx / openai-responses) examples"
    for block in ours:
        assert "def test_" in block, f"a ```python block on the page is not a test file:\n{block}"
        assert not OTHER_TOOLS.search(block), f"another tool's code is fenced as ```python:\n{block}"
    for block in theirs:
        assert OTHER_TOOLS.search(block), f"a ```py block is not respx / openai-responses code:\n{block}"
        compile(block, str(PAGE), "exec")  # shown, not run: at least valid Python


def test_migrating_examples_pass(pytester: pytest.Pytester) -> None:
    blocks = [b for b in _blocks("python") if "def test_" in b]
    names = [name for block in blocks for name in _test_names(block)]
    assert len(names) == len(set(names)), f"test names repeat across the page's blocks: {sorted(names)}"
    # An example needs what it imports (httpx is not installed next to openai 3, which uses httpx2),
    # and the real-port one needs pytest-fakeai[server].
    blocks = [b for b in blocks if not _missing(b)]
    expected = sum(len(_test_names(b)) for b in blocks)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_migrating="\n\n".join(blocks))
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=expected)
