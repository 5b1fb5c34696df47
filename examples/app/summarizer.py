"""Summarise texts longer than a context window: map (summarise chunks), then reduce.

The text is split into chunks of at most ``chunk_tokens`` tokens (counted with the
model's tiktoken encoding, cut before a word where possible, never inside a
character). Each chunk is summarised with ``max_tokens=summary_tokens``; the partial
summaries are combined, in groups that fit the same budget, until one final summary
(``max_tokens=final_tokens``) remains.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import tiktoken
from openai import OpenAI

from .usage import Usage

__all__ = ["COMBINE_INSTRUCTIONS", "SUMMARIZE_INSTRUCTIONS", "Summarizer", "Summary", "SummaryStream"]

SUMMARIZE_INSTRUCTIONS = (
    "You summarise one part of a longer document. Keep names, numbers and decisions; "
    "drop examples and repetition. Answer with the summary only."
)
COMBINE_INSTRUCTIONS = (
    "You receive summaries of consecutive parts of one document, separated by blank lines. "
    "Combine them into a single coherent summary. Answer with the summary only."
)
SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Summary:
    text: str
    usage: Usage
    chunks: int


class Summarizer:
    """Map-reduce summariser.

    ``chunk_tokens`` bounds the text sent in any one request (a chunk, or a group of
    partial summaries); it must leave room for at least two partial summaries so the
    reduction always makes progress.
    """

    def __init__(
        self,
        client: OpenAI | None = None,
        *,
        model: str = "gpt-4o-mini",
        chunk_tokens: int = 3000,
        summary_tokens: int = 300,
        final_tokens: int = 600,
        temperature: float = 0.3,
    ) -> None:
        if chunk_tokens < 2 * summary_tokens + 8:
            raise ValueError(
                f"chunk_tokens ({chunk_tokens}) must hold two partial summaries of summary_tokens ({summary_tokens})"
            )
        self.client = client if client is not None else OpenAI()
        self.model = model
        self.chunk_tokens = chunk_tokens
        self.summary_tokens = summary_tokens
        self.final_tokens = final_tokens
        self.temperature = temperature
        try:
            self.encoding = tiktoken.encoding_for_model(model)
        except KeyError:  # a model tiktoken does not know: today's default encoding
            self.encoding = tiktoken.get_encoding("o200k_base")

    # -- chunking ---------------------------------------------------------------------------
    def count(self, text: str) -> int:
        return len(self.encoding.encode(text, disallowed_special=()))

    def split(self, text: str) -> list[str]:
        """Chunks of at most ``chunk_tokens`` tokens whose concatenation is ``text``."""
        enc = self.encoding
        tokens = enc.encode(text, disallowed_special=())
        chunks: list[str] = []
        start = 0
        while start < len(tokens):
            end = min(start + self.chunk_tokens, len(tokens))
            if end < len(tokens):
                end = self._word_boundary(tokens, start, end)
            chunk, end = self._decodable(tokens, start, end)
            chunks.append(chunk)
            start = end
        return chunks

    def _word_boundary(self, tokens: Sequence[int], start: int, end: int) -> int:
        """Move ``end`` back to just before a token that starts a word (not past half the budget)."""
        floor = start + self.chunk_tokens // 2
        for k in range(end, floor, -1):
            if self.encoding.decode_single_token_bytes(tokens[k])[:1] in (b" ", b"\n", b"\t"):
                return k
        return end

    def _decodable(self, tokens: Sequence[int], start: int, end: int) -> tuple[str, int]:
        """The longest chunk ``tokens[start:e]``, ``e <= end``, that is whole characters and fits the budget."""
        enc = self.encoding
        e = end
        while e > start:
            try:
                chunk = enc.decode_bytes(tokens[start:e]).decode("utf-8")
            except UnicodeDecodeError:  # the cut falls inside a multi-token character
                e -= 1
                continue
            if self.count(chunk) <= self.chunk_tokens:
                return chunk, e
            e -= 1  # re-encoded on its own the chunk came out longer: cut earlier
        # a single character spelled by more tokens than the budget: take it whole
        e = start + 1
        while True:
            try:
                return enc.decode_bytes(tokens[start:e]).decode("utf-8"), e
            except UnicodeDecodeError:
                e += 1

    def _groups(self, summaries: Sequence[str]) -> list[list[str]]:
        """Consecutive summaries grouped so that each group, joined, fits ``chunk_tokens``."""
        groups: list[list[str]] = [[]]
        for s in summaries:
            if groups[-1] and self.count(SEPARATOR.join([*groups[-1], s])) > self.chunk_tokens:
                groups.append([])
            groups[-1].append(s)
        return groups

    # -- requests -------------------------------------------------------------------------
    def _ask(self, instructions: str, text: str, max_tokens: int, usage: Usage) -> str:
        response = self.client.chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": instructions}, {"role": "user", "content": text}],
            max_tokens=max_tokens,
            temperature=self.temperature,
        )
        usage.add(response.usage)
        return response.choices[0].message.content or ""

    def _prepare(self, text: str, usage: Usage) -> tuple[str, str, int]:
        """Run every request but the last; return the last one's instructions and text, and the chunk count."""
        chunks = self.split(text)
        if len(chunks) <= 1:
            return SUMMARIZE_INSTRUCTIONS, text, len(chunks)
        partials = [self._ask(SUMMARIZE_INSTRUCTIONS, c, self.summary_tokens, usage).strip() for c in chunks]
        groups = self._groups(partials)
        while len(groups) > 1:
            if all(len(g) == 1 for g in groups):  # cannot happen with the constructor's check
                raise RuntimeError("partial summaries do not fit the chunk budget two at a time")
            # combine each group; a group of one is carried to the next round as it is
            partials = [
                self._ask(COMBINE_INSTRUCTIONS, SEPARATOR.join(g), self.summary_tokens, usage).strip()
                if len(g) > 1
                else g[0]
                for g in groups
            ]
            groups = self._groups(partials)
        return COMBINE_INSTRUCTIONS, SEPARATOR.join(groups[0]), len(chunks)

    # -- public -----------------------------------------------------------------------------
    def summarize(self, text: str) -> Summary:
        usage = Usage()
        if not text.strip():
            return Summary("", usage, 0)
        instructions, last, chunks = self._prepare(text, usage)
        return Summary(self._ask(instructions, last, self.final_tokens, usage), usage, chunks)

    def stream(self, text: str) -> SummaryStream:
        """Like :meth:`summarize`, but the final summary is streamed: iterate for text as it arrives."""
        return SummaryStream(self, text)


class SummaryStream:
    """Iterate for the final summary's text deltas; afterwards ``text``, ``usage`` and ``chunks`` are set."""

    def __init__(self, summarizer: Summarizer, text: str) -> None:
        self._summarizer = summarizer
        self._source = text
        self.text = ""
        self.usage = Usage()
        self.chunks = 0

    def __iter__(self) -> Iterator[str]:
        s = self._summarizer
        if not self._source.strip():
            return
        instructions, last, self.chunks = s._prepare(self._source, self.usage)
        stream = s.client.chat.completions.create(
            model=s.model,
            messages=[{"role": "system", "content": instructions}, {"role": "user", "content": last}],
            max_tokens=s.final_tokens,
            temperature=s.temperature,
            stream=True,
            stream_options={"include_usage": True},
        )
        final_usage: Any = None
        parts: list[str] = []
        with stream:
            for chunk in stream:
                if chunk.usage is not None:
                    final_usage = chunk.usage
                if chunk.choices and chunk.choices[0].delta.content:
                    delta = chunk.choices[0].delta.content
                    parts.append(delta)
                    yield delta
        self.text = "".join(parts)
        self.usage.add(final_usage)
