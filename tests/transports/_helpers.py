"""Drive the application module (``_app``) and bare clients on one stack, sync or async."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

from tests.transports import _app

__all__ = ["AppRunner"]


class AppRunner:
    """``_app`` as the test sees it: the same calls whether the stack is httpx or httpx2, sync or async.

    On httpx2 the app uses the SDK's default client (openai 3); on httpx it passes
    ``httpx.Client()`` / ``httpx.AsyncClient()``, as apps on that stack do.
    """

    def __init__(self, stack: str, mode: str) -> None:
        self.stack, self.mode = stack, mode
        self.http = importlib.import_module(stack)
        self.asynchronous = mode == "async"

    def __repr__(self) -> str:
        return f"<AppRunner {self.stack} {self.mode}>"

    def http_client(self) -> Any:
        if self.stack == "httpx2":
            return None  # the SDK's own default
        return self.http.AsyncClient() if self.asynchronous else self.http.Client()

    def summarizer(self) -> Any:
        """A long-lived app object: its client is built now."""
        cls = _app.AsyncSummarizer if self.asynchronous else _app.Summarizer
        return cls(self.http_client())

    def summarize(self, text: str = "The harbor in Lisbon.", summarizer: Any = None) -> str:
        if summarizer is not None:
            return str(self._run(summarizer.summarize(text)))
        if self.asynchronous:
            return asyncio.run(_app.asummarize(text, http_client=self.http_client()))
        return _app.summarize(text, http_client=self.http_client())

    def stream(self, text: str = "The harbor in Lisbon.", after_each: Callable[[], None] = lambda: None) -> list[str]:
        """The streamed pieces; ``after_each`` runs as each one arrives."""
        summarizer = self.summarizer()
        if not self.asynchronous:
            pieces = []
            for piece in summarizer.stream(text):
                after_each()
                pieces.append(piece)
            return pieces

        async def go() -> list[str]:
            pieces = []
            async for piece in summarizer.stream(text):
                after_each()
                pieces.append(piece)
            return pieces

        return asyncio.run(go())

    def openai(self, **kwargs: Any) -> Any:
        """An ``OpenAI`` / ``AsyncOpenAI`` client on this stack, built as the app builds one."""
        import openai

        cls = openai.AsyncOpenAI if self.asynchronous else openai.OpenAI
        return cls(http_client=self.http_client(), **kwargs)

    def call(self, method: Callable[..., Any], /, **kwargs: Any) -> Any:
        """``method(**kwargs)``, awaited when async."""
        result = method(**kwargs)
        return self._run(result) if self.asynchronous else result

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """One request through a bare ``Client`` / ``AsyncClient`` of this stack."""
        if not self.asynchronous:
            with self.http.Client() as client:
                return client.request(method, url, **kwargs)

        async def go() -> Any:
            async with self.http.AsyncClient() as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    def _run(self, result: Any) -> Any:
        if not self.asynchronous:
            return result

        async def go() -> Any:  # SDK paginators are awaitable but not coroutines
            return await result

        return asyncio.run(go())
