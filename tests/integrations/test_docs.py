"""docs/integrations.md runs as written: its code blocks, per library, are a test file that passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "integrations.md"
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def _blocks(library: str) -> list[str]:
    """The page's blocks under ``## <library>``, after the blocks of sections every library needs."""
    common, own = [], []
    for section in re.split(r"^## ", PAGE.read_text(), flags=re.M)[1:]:
        title = section.splitlines()[0].lower()
        blocks = FENCE.findall(section)
        if title in ("langchain", "instructor"):
            if title == library:
                own += blocks
        else:
            common += blocks
    return common + own


@pytest.mark.parametrize(("library", "module"), [("langchain", "langchain_openai"), ("instructor", "instructor")])
def test_page_runs(pytester: pytest.Pytester, library: str, module: str) -> None:
    pytest.importorskip(module, reason=f"{module} is not installed here (see docs/integrations.md, Versions)")
    source = "\n\n".join(_blocks(library))
    tests = len(re.findall(r"^(?:async )?def test_", source, re.M))
    assert tests >= 3, f"docs/integrations.md has too few {library} examples"
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_integration_doc=source)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=tests)
