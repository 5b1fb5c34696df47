"""Shared by every test folder: keep it small."""

from __future__ import annotations

import pytest

from tests._support.drive import AVAILABLE_STACKS, MODES, STACKS, skip_unavailable

pytest_plugins = ["pytester"]


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    """Each HTTP stack this environment can drive the openai SDK with."""
    skip_unavailable(request.param)
    return str(request.param)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """sync or async."""
    return str(request.param)


@pytest.fixture(scope="session", autouse=True)
def _warm_simulator() -> None:
    """Import openai, both stacks, tiktoken's encodings and the simulator's lazily loaded parts once,
    before any in-process ``pytester`` run.

    ``pytester`` restores ``sys.modules`` after each test, so whatever an in-process
    inner run imports first is imported again by the next, while the simulator's
    caches (its transport classes, the SDK retry hook) would keep the first copies;
    what is loaded here stays. ``runpytest_subprocess`` runs still start from nothing.
    """
    from pytest_fakeai import FakeAI

    sim = FakeAI()
    for stack in AVAILABLE_STACKS:
        with sim.client(stack=stack) as client:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "warm up"}])
            client.completions.create(model="gpt-3.5-turbo-instruct", prompt="warm up")
        sim.async_client(stack=stack)
