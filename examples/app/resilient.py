"""A chat client that retries, trims and falls back instead of failing.

- 429, 5xx and connection errors: retried up to ``max_retries`` times, waiting what
  ``retry-after-ms`` / ``retry-after`` say when the server sends them (at most
  ``max_delay``), else exponential backoff with jitter.
- ``context_length_exceeded``: the oldest non-system messages are dropped (an
  assistant message with ``tool_calls`` together with its ``tool`` results, so the
  conversation stays valid) and the request is sent again; the system messages and
  the last message are always kept.
- ``model_not_found``: the next model of ``fallback_models`` is used, and kept for
  later calls.
Every other error is raised at once.

The SDK's own retries are switched off (``max_retries=0``): this class owns the policy.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import openai
from openai import OpenAI

__all__ = ["Attempt", "ResilientChat", "trim_oldest"]

RETRYABLE = (openai.RateLimitError, openai.APIConnectionError, openai.InternalServerError)


@dataclass(frozen=True)
class Attempt:
    model: str
    messages: int  # how many messages were sent
    outcome: str  # "ok", or the error: "rate_limit", "context_length_exceeded", "model_not_found", ...
    slept: float = 0.0


def trim_oldest(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """``messages`` without the oldest non-system message (and what depends on it); None if nothing can go."""
    out = list(messages)
    droppable = [i for i, m in enumerate(out[:-1]) if m.get("role") not in ("system", "developer")]
    if not droppable:
        return None
    i = droppable[0]
    out.pop(i)
    # tool results whose assistant message (with the tool_calls) is gone are invalid on their own
    while i < len(out) - 1 and out[i].get("role") == "tool":
        out.pop(i)
    return out


class ResilientChat:
    def __init__(
        self,
        client: OpenAI | None = None,
        *,
        model: str = "gpt-4o",
        fallback_models: Sequence[str] = (),
        max_retries: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        jitter: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        client = client if client is not None else OpenAI()
        self.client = client.with_options(max_retries=0)
        self.model = model
        self.fallback_models = list(fallback_models)
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.sleep = sleep
        self.attempts: list[Attempt] = []  # every attempt of every call, oldest first
        self._random = random.Random()

    def _delay(self, retry: int, exc: Exception) -> float:
        response = getattr(exc, "response", None)
        if response is not None:  # the server says how long to wait: milliseconds first, as the SDK reads it
            for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
                try:
                    return min(self.max_delay, max(0.0, float(response.headers[name]) * scale))
                except (KeyError, ValueError):  # absent, or an HTTP date: try the next, else back off
                    continue
        delay = min(self.max_delay, self.base_delay * 2**retry)
        if self.jitter:
            delay *= self._random.uniform(0.5, 1.0)
        return delay

    def create(self, messages: Sequence[dict[str, Any]], **kwargs: Any) -> Any:
        """``chat.completions.create`` with this class's policy; returns the ``ChatCompletion``."""
        sent = list(messages)
        retries = 0
        while True:
            model = self.model
            try:
                response = self.client.chat.completions.create(model=model, messages=sent, **kwargs)
            except RETRYABLE as exc:
                if retries >= self.max_retries:
                    self.attempts.append(Attempt(model, len(sent), _outcome(exc)))
                    raise
                delay = self._delay(retries, exc)
                self.attempts.append(Attempt(model, len(sent), _outcome(exc), delay))
                self.sleep(delay)
                retries += 1
            except openai.BadRequestError as exc:
                self.attempts.append(Attempt(model, len(sent), _outcome(exc)))
                trimmed = trim_oldest(sent) if exc.code == "context_length_exceeded" else None
                if trimmed is None:
                    raise
                sent = trimmed
            except openai.NotFoundError as exc:
                self.attempts.append(Attempt(model, len(sent), _outcome(exc)))
                if exc.code != "model_not_found" or not self.fallback_models:
                    raise
                self.model = self.fallback_models.pop(0)
            else:
                self.attempts.append(Attempt(model, len(sent), "ok"))
                return response


def _outcome(exc: Exception) -> str:
    if isinstance(exc, openai.RateLimitError):
        return "rate_limit"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, openai.InternalServerError):
        return f"server_error_{exc.status_code}"
    return str(getattr(exc, "code", None) or type(exc).__name__)
