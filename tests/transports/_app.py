"""Application code as it is written: it builds its own OpenAI client; the tests patch nothing here.

``http_client=None`` is the SDK's default client (httpx2 on openai 3); apps on the
httpx stack pass ``httpx.Client()`` / ``httpx.AsyncClient()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from openai import AsyncOpenAI, OpenAI

MODEL = "gpt-4o-mini"


def _messages(text: str) -> list[Any]:
    return [{"role": "system", "content": "Summarize."}, {"role": "user", "content": text}]


class Summarizer:
    """Builds its client once, when constructed (as long-lived services do)."""

    def __init__(self, http_client: Any = None) -> None:
        self.client = OpenAI(http_client=http_client)

    def summarize(self, text: str) -> str:
        reply = self.client.chat.completions.create(model=MODEL, messages=_messages(text))
        return reply.choices[0].message.content or ""

    def stream(self, text: str) -> Iterator[str]:
        for chunk in self.client.chat.completions.create(model=MODEL, messages=_messages(text), stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content


class AsyncSummarizer:
    def __init__(self, http_client: Any = None) -> None:
        self.client = AsyncOpenAI(http_client=http_client)

    async def summarize(self, text: str) -> str:
        reply = await self.client.chat.completions.create(model=MODEL, messages=_messages(text))
        return reply.choices[0].message.content or ""

    async def stream(self, text: str) -> AsyncIterator[str]:
        async for chunk in await self.client.chat.completions.create(
            model=MODEL, messages=_messages(text), stream=True
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content


def summarize(text: str, *, http_client: Any = None) -> str:
    """Builds a fresh client on every call."""
    return Summarizer(http_client).summarize(text)


async def asummarize(text: str, *, http_client: Any = None) -> str:
    return await AsyncSummarizer(http_client).summarize(text)
