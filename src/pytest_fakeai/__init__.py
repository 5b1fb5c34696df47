"""pytest-fakeai: an OpenAI-compatible LLM API simulator that runs inside the test process.

``from pytest_fakeai import FakeAI`` works without pytest.  Names load lazily so
that importing the package (which pytest does for every run) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .adapters.intercept import NetworkBlockedError
    from .api.errors import ApiError
    from .api.recorder import Call, Calls
    from .api.router import Router
    from .api.script import Rule
    from .api.types import ApiRequest, ApiResponse, TimedStream
    from .engine.registry import ModelRegistry, ModelSpec
    from .settings import Settings, SettingsError
    from .simulator import FakeAI, FakeAIInternalError

__all__ = [
    "ApiError",
    "ApiRequest",
    "ApiResponse",
    "Call",
    "Calls",
    "FakeAI",
    "FakeAIInternalError",
    "ModelRegistry",
    "ModelSpec",
    "NetworkBlockedError",
    "Router",
    "Rule",
    "Settings",
    "SettingsError",
    "TimedStream",
    "__version__",
]

_LAZY = {
    "ApiError": ".api.errors",
    "ApiRequest": ".api.types",
    "ApiResponse": ".api.types",
    "Call": ".api.recorder",
    "Calls": ".api.recorder",
    "FakeAI": ".simulator",
    "FakeAIInternalError": ".simulator",
    "ModelRegistry": ".engine.registry",
    "ModelSpec": ".engine.registry",
    "NetworkBlockedError": ".adapters.intercept",
    "Router": ".api.router",
    "Rule": ".api.script",
    "Settings": ".settings",
    "SettingsError": ".settings",
    "TimedStream": ".api.types",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_fakeai' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
