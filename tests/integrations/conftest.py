"""Agent frameworks that build their own ``OpenAI()`` clients, tested through ``fakeai.intercept()``.

The libraries are configured exactly as an application configures them: an
``OPENAI_API_KEY`` in the environment (any value) and nothing else. No base URL, no
injected client: interception routes what they send to ``api.openai.com`` into the
test's simulator.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployed application's environment: a key, and nothing pointing anywhere else."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stack_transport() -> str:
    """``call.transport`` of an intercepted call: the stack the installed openai SDK is built on."""
    from pytest_fakeai.adapters.transports import openai_major

    return "intercept:httpx2" if (openai_major() or 0) >= 3 else "intercept:httpx"
