"""The ``pytest_fakeai_*`` hooks: extend every simulator the plugin makes, from a ``conftest.py`` or a plugin.

Implement them like any pytest hook (a function of that name in a ``conftest.py`` or a
registered plugin, taking any subset of the arguments by name)::

    # conftest.py
    def pytest_fakeai_models(registry):
        from pytest_fakeai import ModelSpec
        registry.register(ModelSpec(id="acme-large", provider="acme", owned_by="acme", kind="chat",
                                    context_window=32_000, max_output_tokens=4_096, created=1_700_000_000))

    def pytest_fakeai_response(simulator, request, response):
        response.headers.append(("x-acme-region", "eu-west-1"))

pytest calls them with keyword arguments.  The plugin ships a default for each as an
ordinary ``trylast`` implementation (``pytest_fakeai.hookimpls``), so a conftest's own
implementation runs first.  Hooks only run for the simulators the plugin makes (the
``fakeai`` fixture and the session's port); a ``FakeAI()`` built by hand takes
``response_hooks`` and its ``router`` / ``models`` directly.  See docs/hooks.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import pytest

    from .api.router import Router
    from .api.types import ApiRequest, ApiResponse
    from .engine.registry import ModelRegistry
    from .simulator import FakeAI

hookspec = pluggy.HookspecMarker("pytest")

__all__ = [
    "pytest_fakeai_configure",
    "pytest_fakeai_models",
    "pytest_fakeai_response",
    "pytest_fakeai_routes",
]


@hookspec
def pytest_fakeai_configure(simulator: FakeAI, config: pytest.Config, node: pytest.Item | None) -> None:
    """A new simulator is ready (``node``: the test it serves; None for the session port's idle one).

    Change its settings-derived state, script it (``simulator.on(...)``), wrap it: it is
    called before the test (or the request) uses it.
    """


@hookspec
def pytest_fakeai_models(registry: ModelRegistry, simulator: FakeAI) -> None:
    """Add or change models: ``registry.register(ModelSpec(...), replace=True)``."""


@hookspec
def pytest_fakeai_routes(router: Router, simulator: FakeAI) -> None:
    """Add routes: ``router.add("GET", "/v1/things/{thing_id}", handler)``; a handler takes
    ``(engine, request, **path_params)`` and returns an ``ApiResponse`` (or raises ``ApiError``)."""


@hookspec(firstresult=True)
def pytest_fakeai_response(simulator: FakeAI, request: ApiRequest, response: ApiResponse) -> ApiResponse | Any:
    """Change a response before it is sent (in place), or return a replacement.

    The first implementation to return something other than None wins; the default returns
    ``response`` itself.  Called for every exchange of the simulator, errors included.
    """
