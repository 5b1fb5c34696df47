"""Every ``python`` block in docs/fixtures.md and docs/settings.md runs, as a test module, and passes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests._support.drive import AVAILABLE_STACKS

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
TEST = re.compile(r"^(?:async )?def test_|^    (?:async )?def test_", re.MULTILINE)


@pytest.mark.parametrize("doc", ["fixtures.md", "settings.md"])
def test_python_blocks_run(pytester: pytest.Pytester, run: Callable[..., pytest.RunResult], doc: str) -> None:
    blocks = BLOCK.findall((DOCS / doc).read_text(encoding="utf-8"))
    assert blocks, f"no python blocks in docs/{doc}"
    # blocks showing the httpx2 stack need openai 3 (an environment limit of the openai 2 matrix env)
    blocks = [b for b in blocks if "httpx2" not in b or "httpx2" in AVAILABLE_STACKS]
    # ... and blocks showing the httpx stack need httpx (the openai3-httpx2 env has only httpx2)
    blocks = [b for b in blocks if "import httpx\n" not in b or "httpx" in AVAILABLE_STACKS]
    stem = doc.removesuffix(".md")
    for n, code in enumerate(blocks):
        # module-level code (the blocks that are scripts) runs when the module is collected
        pytester.makepyfile(**{f"test_{stem}_{n}": code})
    result = run()
    tests = sum(len(TEST.findall(code)) for code in blocks)
    result.assert_outcomes(passed=tests)
