"""Shared by every test folder: keep it small."""

from __future__ import annotations

import pytest

from tests._support.drive import MODES, STACKS, skip_unavailable

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
