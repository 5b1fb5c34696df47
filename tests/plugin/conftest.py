"""Helpers for the plugin tests: each runs an inner pytest session with ``pytester``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest

from pytest_fakeai.adapters.transports import openai_major

#: The stacks an openai client can use here: openai 3 takes both, openai 1/2 only httpx.
AVAILABLE_STACKS = [
    stack
    for stack in ("httpx", "httpx2")
    if importlib.util.find_spec(stack) is not None and (stack == "httpx" or (openai_major() or 0) >= 3)
]

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


@pytest.fixture(scope="session", autouse=True)
def _warm_simulator() -> None:
    """Import openai, both stacks and tiktoken's encodings once, before any ``pytester``.

    ``pytester`` restores ``sys.modules`` after each test, so whatever an in-process
    inner run imports first is imported again by the next; what is loaded here stays.
    The ``subprocess=True`` runs still start from nothing.
    """
    from pytest_fakeai import FakeAI

    sim = FakeAI()
    for stack in AVAILABLE_STACKS:
        with sim.client(stack=stack) as client:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "warm up"}])
            client.completions.create(model="gpt-3.5-turbo-instruct", prompt="warm up")
        sim.async_client(stack=stack)


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
