"""Helpers for the plugin tests: each runs an inner pytest session with ``pytester``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

# Every inner run: no cache files, no pytest-asyncio warning about its unset loop
# scope, and no hypothesis plugin (it would re-import hypothesis, ~1 s, per run).
_INNER = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:hypothesispytest",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
)


@pytest.fixture
def run(pytester: pytest.Pytester) -> Callable[..., pytest.RunResult]:
    """``run(*args, subprocess=False)``: an inner pytest run in the pytester directory.

    In process by default (fast); ``subprocess=True`` where a fresh interpreter
    matters (module imports, cross-process determinism).
    """

    def go(*args: str, subprocess: bool = False) -> pytest.RunResult:
        if subprocess:
            return pytester.runpytest_subprocess(*_INNER, *args)
        return pytester.runpytest(*_INNER, *args)

    return go
