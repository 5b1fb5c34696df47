"""The summariser against the simulator: budgets, usage accounting, reduction, streaming."""

from __future__ import annotations

import random
from typing import Any

import pytest
import tiktoken
from app.summarizer import COMBINE_INSTRUCTIONS, SUMMARIZE_INSTRUCTIONS, Summarizer

ENCODING = tiktoken.get_encoding("o200k_base")  # gpt-4o-mini's encoding

_SOURCE = (
    "the board approved a budget of 4.2 million for the Zürich office migration; "
    "naïve estimates missed the café renovation, the 東京 data-centre lease and 🚀 launch costs. "
    "Quarterly revenue rose while the reactor team reported delays"
)
_WORDS = _SOURCE.split()


def document(words: int, seed: int = 7) -> str:
    """A long deterministic text with multi-byte characters (é, ü, 東京, 🚀) and paragraph breaks."""
    rng = random.Random(seed)
    out = []
    for i in range(words):
        out.append(rng.choice(_WORDS))
        if i % 90 == 89:
            out.append("\n\n")
    return " ".join(out)


def tokens(text: str) -> int:
    return len(ENCODING.encode(text, disallowed_special=()))


def user_text(call: Any) -> str:
    return call.request.json["messages"][-1]["content"]


def instructions(call: Any) -> str:
    return call.request.json["messages"][0]["content"]


def response_usage(call: Any) -> dict[str, int]:
    if call.response.streamed:
        return call.response.events[-1]["usage"]
    return call.response.json["usage"]


def split_answers(text: str, candidates: dict[int, str]) -> list[int]:
    """Which of ``candidates`` (in order) ``text`` joins with blank lines; [] if it is not such a join."""
    for i, answer in candidates.items():
        if text == answer:
            return [i]
        if text.startswith(answer + "\n\n"):
            rest = split_answers(text[len(answer) + 2 :], {j: a for j, a in candidates.items() if j != i})
            if rest:
                return [i, *rest]
    return []


def test_chunks_respect_the_token_budget(fakeai, fakeai_client):
    doc = document(2500)
    summarizer = Summarizer(fakeai_client, chunk_tokens=400, summary_tokens=60, final_tokens=120)

    summary = summarizer.summarize(doc)

    calls = list(fakeai.calls)
    map_calls = [c for c in calls if instructions(c) == SUMMARIZE_INSTRUCTIONS]
    chunks = [user_text(c) for c in map_calls]
    assert "".join(chunks) == doc  # nothing lost or duplicated, no character cut in two
    assert len(chunks) == summary.chunks
    assert len(chunks) >= -(-tokens(doc) // 400)
    for c in calls:
        assert tokens(user_text(c)) <= 400
        # the server's own count agrees: the chunk plus the fixed instructions, nothing more
        assert c.response.json["usage"]["prompt_tokens"] <= 400 + tokens(instructions(c)) + 16
    # every chunk but the last is close to full: the budget is used, not wasted
    assert all(tokens(chunk) > 200 for chunk in chunks[:-1])
    assert [c.request.json["max_tokens"] for c in calls] == [60] * (len(calls) - 1) + [120]
    for c in calls:
        assert c.response.json["usage"]["completion_tokens"] <= c.request.json["max_tokens"]


def test_usage_totals_equal_the_sum_of_the_calls(fakeai, fakeai_client):
    summarizer = Summarizer(fakeai_client, chunk_tokens=500, summary_tokens=80, final_tokens=150)

    summary = summarizer.summarize(document(2000))

    assert fakeai.calls.total == len(fakeai.calls) == summary.usage.requests > 2
    assert all(c.response.status == 200 for c in fakeai.calls)
    assert summary.usage.prompt_tokens == sum(response_usage(c)["prompt_tokens"] for c in fakeai.calls)
    assert summary.usage.completion_tokens == sum(response_usage(c)["completion_tokens"] for c in fakeai.calls)
    assert summary.usage.total_tokens == sum(response_usage(c)["total_tokens"] for c in fakeai.calls)
    assert summary.text == fakeai.calls.last.response.text != ""


@pytest.mark.fakeai(output_tokens=80)  # every partial summary is exactly 80 tokens: they overflow the budget
def test_partial_summaries_are_reduced_in_groups_that_fit(fakeai, fakeai_client):
    summarizer = Summarizer(fakeai_client, chunk_tokens=200, summary_tokens=80, final_tokens=100)

    summary = summarizer.summarize(document(1500))

    calls = list(fakeai.calls)
    combine_calls = [c for c in calls if instructions(c) == COMBINE_INSTRUCTIONS]
    assert len(combine_calls) > 1, "the partial summaries needed more than one level of reduction"
    assert calls[-1] is combine_calls[-1]
    # each reduce request joins >= 2 earlier answers, and every answer but the final one is used exactly once
    answers = {c.index: c.response.text.strip() for c in calls}
    unused = dict(answers)
    for c in combine_calls:
        assert tokens(user_text(c)) <= 200
        parts = split_answers(user_text(c), {i: a for i, a in unused.items() if i < c.index})
        assert len(parts) >= 2, f"call {c.index} combines {parts} of the earlier answers"
        for i in parts:
            del unused[i]
    assert list(unused) == [calls[-1].index]
    assert summary.text == calls[-1].response.text


def test_short_text_is_one_request(fakeai, fakeai_client):
    text = "The meeting moved to Thursday. Bring the signed contracts."
    summary = Summarizer(fakeai_client, final_tokens=50).summarize(text)

    assert len(fakeai.calls) == 1
    request = fakeai.calls.last.request.json
    assert request["model"] == "gpt-4o-mini"
    assert request["messages"][-1]["content"] == text
    assert request["max_tokens"] == 50
    assert summary.chunks == 1
    assert summary.text == fakeai.calls.last.response.text


def test_empty_text_sends_nothing(fakeai, fakeai_client):
    summary = Summarizer(fakeai_client).summarize("  \n")
    assert summary.text == ""
    assert summary.usage.requests == 0
    assert fakeai.calls.total == 0


def test_streamed_summary_is_what_the_server_sent(fakeai, fakeai_client):
    summarizer = Summarizer(fakeai_client, chunk_tokens=500, summary_tokens=80, final_tokens=150)
    stream = summarizer.stream(document(1500))

    pieces = iter(stream)
    first = next(pieces)
    assert not fakeai.calls.last.response.complete, "text arrives while the response is still streaming"
    rest = list(pieces)

    last = fakeai.calls.last
    assert last.request.json["stream"] is True
    assert last.response.streamed and last.response.complete
    assert len(rest) >= 1
    assert first + "".join(rest) == stream.text == last.response.text != ""
    # the streamed request combined the partial summaries the earlier calls returned
    partials = [c.response.text.strip() for c in list(fakeai.calls)[:-1]]
    assert user_text(last) == "\n\n".join(partials)
    assert stream.usage.requests == len(fakeai.calls) == stream.chunks + 1
    assert stream.usage.prompt_tokens == sum(response_usage(c)["prompt_tokens"] for c in fakeai.calls)
    assert stream.usage.completion_tokens == sum(response_usage(c)["completion_tokens"] for c in fakeai.calls)
