from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_fakeai import FakeAI
from tests._support.drive import Driver


@pytest.fixture
def sim() -> Iterator[FakeAI]:
    with FakeAI(seed=1234) as s:
        yield s


@pytest.fixture
def api(sim: FakeAI, stack: str, mode: str) -> Driver:
    """The real openai SDK on every (stack × sync/async) combination."""
    return Driver(sim, stack, mode)
