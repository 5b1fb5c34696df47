"""What a Responses API answer is made of, and its stream of typed server-sent events.

An :class:`Outcome` is decided once per request (reasoning, then output items made of
token pieces); the non-streamed response object and the stream are two renderings
of it.  Events carry increasing ``sequence_number`` values from 0 and are timed like
chat's stream, by the request's serving timeline (engine/serving.py): an event is due
when the output token it brings is out -- reasoning tokens first, unseen, then each
item's tokens in order; ``response.created`` and ``response.in_progress`` at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic_core import to_json

from ..engine.core import random_token

__all__ = ["Out", "Outcome", "response_events"]


@dataclass(slots=True)
class Out:
    """One output item as planned: a message, a refusal, a function call or a file search, in token pieces."""

    kind: Literal["message", "refusal", "function_call", "file_search_call"]
    pieces: list[str]
    tokens: list[int]  # tokens per piece
    complete: bool = True  # False: cut by max_output_tokens
    name: str = ""  # function calls
    call_id: str = ""
    extra: int = 0  # tokens beyond the pieces (a call's name and framing)
    logprobs: list[dict[str, Any]] | None = None  # chat-shaped entries, one per piece
    id: str = ""
    annotations: list[dict[str, Any]] | None = None  # a message's file citations
    queries: list[str] | None = None  # a file search's queries
    results: list[dict[str, Any]] | None = None  # and its results, when the request includes them

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def output_tokens(self) -> int:
        return sum(self.tokens) + self.extra


@dataclass(slots=True)
class Outcome:
    """Everything a response says: reasoning (tokens, summary parts as pieces) and output items."""

    reasoning: int
    items: list[Out]
    cut: bool  # max_output_tokens ended the response early
    summary: list[list[str]] = field(default_factory=list)
    reasoning_item: bool = False  # whether the output starts with a reasoning item

    @property
    def output_tokens(self) -> int:
        return self.reasoning + sum(o.output_tokens for o in self.items)


def _stream_logprobs(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat-shaped logprob entries as the stream's delta events carry them (no ``bytes``)."""
    return [
        {
            "token": e["token"],
            "logprob": e["logprob"],
            "top_logprobs": [{"token": t["token"], "logprob": t["logprob"]} for t in e.get("top_logprobs") or ()],
        }
        for e in entries
    ]


class _Events:
    """Encodes events, numbering them (``sequence_number`` counts from 0)."""

    __slots__ = ("obfuscate", "rng", "seq")

    def __init__(self, rng: random.Random, obfuscate: bool) -> None:
        self.seq = 0
        self.rng = rng
        self.obfuscate = obfuscate

    def event(self, kind: str, payload: dict[str, Any], *, padded: bool = False) -> bytes:
        body: dict[str, Any] = {"type": kind, "sequence_number": self.seq, **payload}
        if padded and self.obfuscate:
            body["obfuscation"] = self.padding()
        self.seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + to_json(body) + b"\n\n"

    def padding(self) -> str:
        return random_token(self.rng, 1 + self.rng.getrandbits(4))


def response_events(
    head: dict[str, Any],
    final: dict[str, Any],
    outcome: Outcome,
    *,
    queued: bool,
    due_of: Callable[[int], float],
    end: float,
    per_chunk: int,
    obfuscate: bool,
    rng: random.Random,
) -> Iterator[tuple[float, bytes]]:
    """The events of one response, lazily: ``head`` is the object while in progress, ``final`` at the end.

    ``due_of(k)`` is when the ``k``-th output token (1-based, reasoning included) is out; ``end``
    when the response is done."""
    ev = _Events(rng, obfuscate)
    if queued:
        waiting = {**head, "status": "queued"}
        yield 0.0, ev.event("response.created", {"response": waiting})
        yield 0.0, ev.event("response.queued", {"response": waiting})
    else:
        yield 0.0, ev.event("response.created", {"response": head})
    yield 0.0, ev.event("response.in_progress", {"response": head})
    output = final["output"]
    emitted = outcome.reasoning  # output tokens out before the next event's
    position = 0
    if outcome.reasoning_item:
        item = output[0]
        item_id = item["id"]
        yield due_of(1), ev.event("response.output_item.added", {"output_index": 0, "item": {**item, "summary": []}})
        due = due_of(emitted)  # the summary comes once the reasoning is done
        for k, pieces in enumerate(outcome.summary):
            where = {"item_id": item_id, "output_index": 0, "summary_index": k}
            empty = {"type": "summary_text", "text": ""}
            yield due, ev.event("response.reasoning_summary_part.added", {**where, "part": empty})
            for start in range(0, len(pieces), per_chunk):
                delta = "".join(pieces[start : start + per_chunk])
                yield due, ev.event("response.reasoning_summary_text.delta", {**where, "delta": delta}, padded=True)
            text = "".join(pieces)
            yield due, ev.event("response.reasoning_summary_text.done", {**where, "text": text})
            part = {"type": "summary_text", "text": text}
            yield due, ev.event("response.reasoning_summary_part.done", {**where, "part": part})
        yield due, ev.event("response.output_item.done", {"output_index": 0, "item": item})
        position = 1
    for index, (out, item) in enumerate(zip(outcome.items, output[position:], strict=True), start=position):
        if out.kind == "file_search_call":
            begin = 0.0 if emitted == 0 else due_of(emitted)
            where = {"output_index": index, "item_id": out.id}
            added = {**item, "status": "in_progress", "queries": [], "results": None}
            yield begin, ev.event("response.output_item.added", {"output_index": index, "item": added})
            yield begin, ev.event("response.file_search_call.in_progress", where)
            yield begin, ev.event("response.file_search_call.searching", where)
            emitted += out.extra
            yield due_of(emitted), ev.event("response.file_search_call.completed", where)
            yield due_of(emitted), ev.event("response.output_item.done", {"output_index": index, "item": item})
            continue
        if out.kind == "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
            yield due_of(emitted + 1), ev.event("response.output_item.added", {"output_index": index, "item": added})
            emitted += out.extra  # the name comes before the arguments
            where = {"item_id": out.id, "output_index": index}
            for start in range(0, len(out.pieces), per_chunk):
                delta = "".join(out.pieces[start : start + per_chunk])
                payload = {**where, "delta": delta}
                yield due_of(emitted + 1), ev.event("response.function_call_arguments.delta", payload, padded=True)
                emitted += sum(out.tokens[start : start + per_chunk])
            done = {**where, "name": out.name, "arguments": out.text}
            yield due_of(emitted), ev.event("response.function_call_arguments.done", done)
            yield due_of(emitted), ev.event("response.output_item.done", {"output_index": index, "item": item})
            continue
        due = due_of(emitted + 1)
        added = {**item, "status": "in_progress", "content": []}
        yield due, ev.event("response.output_item.added", {"output_index": index, "item": added})
        where = {"item_id": out.id, "output_index": index, "content_index": 0}
        part = item["content"][0]
        if out.kind == "refusal":
            yield due, ev.event("response.content_part.added", {**where, "part": {"type": "refusal", "refusal": ""}})
            for start in range(0, len(out.pieces), per_chunk):
                delta = "".join(out.pieces[start : start + per_chunk])
                yield due_of(emitted + 1), ev.event("response.refusal.delta", {**where, "delta": delta})
                emitted += sum(out.tokens[start : start + per_chunk])
            yield due_of(emitted), ev.event("response.refusal.done", {**where, "refusal": out.text})
        else:
            blank: dict[str, Any] = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            yield due, ev.event("response.content_part.added", {**where, "part": blank})
            yield from _text_deltas(ev, out, index, emitted, due_of, per_chunk)
            emitted += sum(out.tokens)
            for k, annotation in enumerate(part.get("annotations") or ()):
                cited = {**where, "annotation_index": k, "annotation": annotation}
                yield due_of(emitted), ev.event("response.output_text.annotation.added", cited)
            logprobs = _stream_logprobs(out.logprobs or [])
            yield (
                due_of(emitted),
                ev.event("response.output_text.done", {**where, "text": out.text, "logprobs": logprobs}),
            )
        yield due_of(emitted), ev.event("response.content_part.done", {**where, "part": part})
        yield due_of(emitted), ev.event("response.output_item.done", {"output_index": index, "item": item})
    kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
    yield end, ev.event(kind, {"response": final})


def _text_deltas(
    ev: _Events, out: Out, index: int, emitted: int, due_of: Callable[[int], float], per_chunk: int
) -> Iterator[tuple[float, bytes]]:
    """``response.output_text.delta`` events; they differ only in text, number and padding, so the
    fixed parts are encoded once (the bytes are what :meth:`_Events.event` would produce)."""
    prefix = b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":'
    middle = (
        b',"item_id":' + to_json(out.id) + b',"output_index":' + str(index).encode() + b',"content_index":0,"delta":'
    )
    pieces, tokens, lps = out.pieces, out.tokens, out.logprobs
    for start in range(0, len(pieces), per_chunk):
        text = "".join(pieces[start : start + per_chunk])
        logprobs = b"[]" if lps is None else to_json(_stream_logprobs(lps[start : start + per_chunk]))
        tail = b',"obfuscation":' + to_json(ev.padding()) if ev.obfuscate else b""
        yield (
            due_of(emitted + 1),
            prefix + str(ev.seq).encode() + middle + to_json(text) + b',"logprobs":' + logprobs + tail + b"}\n\n",
        )
        ev.seq += 1
        emitted += sum(tokens[start : start + per_chunk])
