"""The default implementations of the ``pytest_fakeai_*`` hooks: ordinary ``trylast`` hooks, so
a conftest's or a plugin's own implementation runs before them (hookspecs.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .api.router import Router
    from .api.types import ApiRequest, ApiResponse
    from .engine.registry import ModelRegistry
    from .simulator import FakeAI

__all__ = ["pytest_fakeai_configure", "pytest_fakeai_models", "pytest_fakeai_response", "pytest_fakeai_routes"]


@pytest.hookimpl(trylast=True)
def pytest_fakeai_configure(simulator: FakeAI) -> None:
    """Nothing to add: the simulator is configured by its settings."""


@pytest.hookimpl(trylast=True)
def pytest_fakeai_models(registry: ModelRegistry) -> None:
    """The catalog is already there (engine/catalog.py)."""


@pytest.hookimpl(trylast=True)
def pytest_fakeai_routes(router: Router) -> None:
    """The default routes are already there (api/router.py default_router)."""


@pytest.hookimpl(trylast=True)
def pytest_fakeai_response(response: ApiResponse, request: ApiRequest) -> ApiResponse:
    """The response as the simulator made it."""
    return response
