"""The README's quickstart and the docs' examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def _blocks(name: str) -> list[str]:
    return FENCE.findall((ROOT / name).read_text())


def test_readme_quickstart_passes_as_a_test_file(pytester: pytest.Pytester) -> None:
    tests = [b for b in _blocks("README.md") if "def test_" in b]
    assert tests, "README has no quickstart test"
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_quickstart="\n".join(tests))
    result = pytester.runpytest("-p", "asyncio", "-q")
    result.assert_outcomes(passed=sum(b.count("def test_") for b in tests))


def test_readme_library_use_runs() -> None:
    for block in _blocks("README.md"):
        if "def test_" not in block:
            exec(compile(block, "README.md", "exec"), {})


@pytest.mark.parametrize("name", ["docs/quickstart.md", "docs/faults.md", "docs/recipes/retries.md", "docs/latency.md"])
def test_doc_tests_pass(pytester: pytest.Pytester, name: str) -> None:
    blocks = [b for b in _blocks(name) if "def test_" in b and "my_app_function" not in b and _runnable(b)]
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_doc="\n\n".join(blocks))
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=sum(b.count("def test_") for b in blocks))


def _runnable(block: str) -> bool:
    """A block importing httpx needs it installed (the openai3-httpx2 environment has only httpx2)."""
    import importlib.util

    return "import httpx\n" not in block or importlib.util.find_spec("httpx") is not None


def test_stacks_doc_runs() -> None:
    from tests._support.drive import skip_unavailable

    skip_unavailable("httpx2")  # the page shows both stacks; openai < 3 cannot run the httpx2 lines
    skip_unavailable("httpx")  # ... and openai 3 without httpx cannot run the httpx lines
    for block in _blocks("docs/stacks.md"):
        namespace: dict[str, object] = {}
        if 'sim.transport("httpx")' in block:
            from pytest_fakeai import FakeAI

            namespace["sim"] = FakeAI()
        exec(compile(block, "docs/stacks.md", "exec"), namespace)
