"""Legacy completions and /v1/models through the real openai SDK."""

from __future__ import annotations

import openai
import pytest
import tiktoken

from pytest_fakeai import FakeAI
from tests._support.drive import Driver
from tests._support.spec import check_completion, check_model, check_model_deleted, check_model_list

INSTRUCT = "gpt-3.5-turbo-instruct"
CL100K = tiktoken.get_encoding("cl100k_base")


def test_completion_defaults_to_16_tokens(api: Driver, sim: FakeAI) -> None:
    r = api(
        "completions.create",
        model=INSTRUCT,
        prompt="Write a story about a lighthouse keeper.",
        extra_body={"ignore_eos": True},
    )
    check_completion(sim.calls.last.response.json)
    assert r.object == "text_completion" and r.id.startswith("cmpl-")
    assert r.usage.completion_tokens == 16 == len(CL100K.encode(r.choices[0].text))
    assert r.usage.prompt_tokens == len(CL100K.encode("Write a story about a lighthouse keeper."))
    assert r.choices[0].finish_reason == "length"


def test_completion_prompt_list_n_echo_logprobs(api: Driver, sim: FakeAI) -> None:
    prompts = ["Alpha beta", "Gamma delta"]
    r = api(
        "completions.create",
        model=INSTRUCT,
        prompt=prompts,
        n=2,
        max_tokens=6,
        echo=True,
        logprobs=2,
        extra_body={"ignore_eos": True},
    )
    check_completion(sim.calls.last.response.json)
    assert [c.index for c in r.choices] == [0, 1, 2, 3]
    for i, c in enumerate(r.choices):
        prompt = prompts[i // 2]
        assert c.text.startswith(prompt)
        generated = c.text[len(prompt) :]
        assert "".join(c.logprobs.tokens) == generated
        assert c.logprobs.text_offset[0] == len(prompt)
        assert all(len(t) == 2 for t in c.logprobs.top_logprobs)
    assert r.usage.prompt_tokens == sum(len(CL100K.encode(p)) for p in prompts)
    assert r.usage.completion_tokens == 4 * 6


def test_completion_token_prompt(api: Driver) -> None:
    r = api("completions.create", model=INSTRUCT, prompt=[1212, 318, 257], max_tokens=3)
    assert r.usage.prompt_tokens == 3


def test_completion_stream(api: Driver, sim: FakeAI) -> None:
    chunks = api(
        "completions.create",
        model=INSTRUCT,
        prompt="Hello",
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ignore_eos": True},
    )
    events = sim.calls.last.response.events
    for event in events[:-1]:
        check_completion(event, chunk=True)
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 12
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert len(CL100K.encode(text)) == 12
    assert chunks[-2].choices[0].finish_reason == "length"


def test_completion_stop(api: Driver) -> None:
    free = api("completions.create", model=INSTRUCT, prompt="Go", max_tokens=60, seed=4).choices[0].text
    cut = api("completions.create", model=INSTRUCT, prompt="Go", max_tokens=60, seed=4, stop=".").choices[0]
    assert cut.text == free[: free.index(".")]
    assert cut.finish_reason == "stop"


def test_chat_model_on_completions_is_404(api: Driver) -> None:
    with pytest.raises(openai.NotFoundError, match="This is a chat model"):
        api("completions.create", model="gpt-4o", prompt="x")


def test_open_models_serve_completions(api: Driver) -> None:
    r = api(
        "completions.create",
        model="meta-llama/Llama-3.1-8B-Instruct",
        prompt="Hi",
        max_tokens=4,
        extra_body={"ignore_eos": True},
    )
    assert r.usage.completion_tokens == 4


def test_best_of_must_cover_n(api: Driver) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        api("completions.create", model=INSTRUCT, prompt="x", n=3, best_of=2)
    assert info.value.param == "best_of"


# -- models ---------------------------------------------------------------------------------------
def test_list_models(api: Driver, sim: FakeAI) -> None:
    page = api("models.list")
    check_model_list(sim.calls.last.response.json)
    ids = [m.id for m in page.data]
    assert len(ids) >= 40
    assert {"gpt-4o", "o3-mini", "text-embedding-3-small", "meta-llama/Llama-3.1-8B-Instruct"} <= set(ids)


def test_retrieve_model_with_slash(api: Driver, sim: FakeAI) -> None:
    m = api("models.retrieve", model="meta-llama/Llama-3.1-8B-Instruct")
    check_model(sim.calls.last.response.json)
    assert m.id == "meta-llama/Llama-3.1-8B-Instruct" and m.owned_by == "meta"


def test_retrieve_unknown_model(stack: str, mode: str) -> None:
    strict = Driver(FakeAI(strict_models=True), stack, mode)
    with pytest.raises(openai.NotFoundError) as info:
        strict("models.retrieve", model="no-such-model")
    assert info.value.code == "model_not_found"
    lenient = Driver(FakeAI(), stack, mode)
    assert lenient("models.retrieve", model="acme/new-model-9b").id == "acme/new-model-9b"
    assert "acme/new-model-9b" in [m.id for m in lenient("models.list").data]


def test_delete_fine_tuned_model(api: Driver, sim: FakeAI) -> None:
    ft = "ft:gpt-4o-mini-2024-07-18:acme::abc123"
    api.chat(model=ft, max_tokens=3)  # first use registers it, inheriting from its base
    deleted = api("models.delete", model=ft)
    check_model_deleted(sim.calls.last.response.json)
    assert deleted.deleted is True and deleted.id == ft
    with pytest.raises(openai.PermissionDeniedError):
        api("models.delete", model="gpt-4o")
    with pytest.raises(openai.NotFoundError):
        api("models.delete", model=ft)


def test_every_response_has_request_id_and_processing_ms(api: Driver) -> None:
    for raw in (
        api.raw("chat.completions.create", model="gpt-4o", messages=[{"role": "user", "content": "x"}]),
        api.raw("chat.completions.create", model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True),
        api.raw("models.list"),
        api.raw("completions.create", model=INSTRUCT, prompt="x"),
    ):
        assert raw.headers["x-request-id"].startswith("req_")
        assert int(raw.headers["openai-processing-ms"]) >= 1


def test_recorded_calls_are_a_bounded_ring(stack: str, mode: str) -> None:
    sim = FakeAI(max_calls=3)
    api = Driver(sim, stack, mode)
    for i in range(5):
        api.chat(messages=[{"role": "user", "content": f"message {i}"}], max_tokens=2)
    assert len(sim.calls) == 3 and sim.calls.total == 5
    assert [c.index for c in sim.calls] == [2, 3, 4]
    assert sim.calls.last.request.json["messages"][0]["content"] == "message 4"
    assert sim.calls.filter(path="/v1/chat/completions", status=200) == list(sim.calls)
