"""instructor over ``OpenAI()`` / ``AsyncOpenAI()``, configured as usual, answered through interception.

instructor's point is validation with retries: when the model's output fails the
``response_model``, instructor sends the error back and asks again. The simulator is
scripted to be wrong first and right second; the retry is visible in ``fakeai.calls``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, field_validator

instructor = pytest.importorskip(
    "instructor",
    reason=(
        "instructor is not installed. instructor (<= 1.17) pins jiter<0.15 and every openai >= 3.3.1 "
        "needs jiter>=0.16, so pip cannot install it next to the dev environment's openai 3; "
        "`tox -e integrations` runs these tests on openai 2.x"
    ),
)

from instructor.core import InstructorRetryException  # noqa: E402
from openai import AsyncOpenAI, OpenAI  # noqa: E402

pytestmark = pytest.mark.usefixtures("openai_env")

MODEL = "gpt-4o-mini"
Mode = instructor.Mode
JSON_MODES = [Mode.JSON_SCHEMA, Mode.JSON, Mode.MD_JSON]  # the answer is the message's content
TOOL_MODES = [Mode.TOOLS, Mode.PARALLEL_TOOLS]  # the answer is a function call


class UserInfo(BaseModel):
    name: str
    age: int = Field(ge=0, le=130)

    @field_validator("name")
    @classmethod
    def name_is_upper_case(cls, value: str) -> str:
        if value != value.upper():
            raise ValueError("name must be in upper case")
        return value


class Ticket(BaseModel):
    title: str
    priority: Literal["low", "medium", "high"]
    tags: list[str] = Field(min_length=1, max_length=3)


# -- the application code under test: plain instructor ------------------------------------------
def extract_user(text: str, mode: Any = Mode.TOOLS, max_retries: int = 2) -> UserInfo:
    client = instructor.from_openai(OpenAI(), mode=mode)
    return client.chat.completions.create(  # type: ignore[no-any-return]
        model=MODEL,
        response_model=UserInfo,
        max_retries=max_retries,
        messages=[{"role": "user", "content": f"Extract the user: {text}"}],
    )


async def aextract_user(text: str, mode: Any = Mode.TOOLS) -> UserInfo:
    client = instructor.from_openai(AsyncOpenAI(), mode=mode)
    return await client.chat.completions.create(  # type: ignore[no-any-return]
        model=MODEL,
        response_model=UserInfo,
        max_retries=2,
        messages=[{"role": "user", "content": f"Extract the user: {text}"}],
    )


def script_wrong_then_right(fakeai: Any, mode: Any) -> Any:
    """The model answers a lower-case name first (the validator rejects it), then the right one."""
    wrong, right = {"name": "jason", "age": 25}, {"name": "JASON", "age": 25}
    if mode in TOOL_MODES:  # instructor offers the model as a function named after it
        return fakeai.on().reply(tool_call=("UserInfo", wrong)).reply(tool_call=("UserInfo", right))
    return fakeai.on().reply(json=wrong).reply(json=right)


def _feedback(call: Any) -> str:
    """What instructor told the model about its mistake: the last message of the retry."""
    return str(call.request.json["messages"][-1]["content"])


# -- response_model -----------------------------------------------------------------------------
def test_response_model_unscripted(fakeai, stack_transport):
    with fakeai.intercept():
        client = instructor.from_openai(OpenAI())
        ticket = client.chat.completions.create(
            model=MODEL, response_model=Ticket, messages=[{"role": "user", "content": "The printer is on fire."}]
        )

    assert isinstance(ticket, Ticket)  # generated valid for the function's parameters
    call = fakeai.calls.last
    assert call.transport == stack_transport
    sent = call.request.json
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "Ticket"}}
    assert sent["tools"][0]["function"]["parameters"]["properties"]["priority"]["enum"] == ["low", "medium", "high"]
    assert len(fakeai.calls) == 1


def test_response_model_json_schema_mode(fakeai):
    with fakeai.intercept():
        client = instructor.from_openai(OpenAI(), mode=Mode.JSON_SCHEMA)
        ticket, completion = client.chat.completions.create_with_completion(
            model=MODEL, response_model=Ticket, messages=[{"role": "user", "content": "The printer is on fire."}]
        )

    assert isinstance(ticket, Ticket)
    assert completion.choices[0].message.content == fakeai.calls.last.response.text
    assert fakeai.calls.last.request.json["response_format"]["json_schema"]["name"] == "Ticket"


# -- validation failure, retry, success ---------------------------------------------------------
@pytest.mark.parametrize("mode", [*JSON_MODES, Mode.TOOLS], ids=lambda m: m.name)
def test_retry_after_a_validation_failure(fakeai, mode):
    rule = script_wrong_then_right(fakeai, mode)
    with fakeai.intercept():
        user = extract_user("Jason is 25 years old.", mode=mode)

    assert user.model_dump() == {"name": "JASON", "age": 25}
    assert rule.used == 2
    first, retry = fakeai.calls
    assert [c.response.status for c in fakeai.calls] == [200, 200]
    assert all(c.rule is rule for c in fakeai.calls)
    # the retry carries the whole first exchange, then the validation error
    sent, again = first.request.json["messages"], retry.request.json["messages"]
    assert again[: len(sent)] == sent
    answer = again[len(sent)]
    assert answer["role"] == "assistant"
    if mode in TOOL_MODES:
        (tool_call,) = answer["tool_calls"]
        assert json.loads(tool_call["function"]["arguments"]) == {"name": "jason", "age": 25}
        assert again[-1]["role"] == "tool" and again[-1]["tool_call_id"] == tool_call["id"]
    else:
        assert json.loads(answer["content"]) == {"name": "jason", "age": 25}
        assert again[-1]["role"] == "user"
    assert "name must be in upper case" in _feedback(retry)


def test_retries_run_out(fakeai):
    fakeai.on().reply(json={"name": "jason", "age": 25})  # always wrong
    with fakeai.intercept(), pytest.raises(InstructorRetryException) as info:
        extract_user("Jason is 25 years old.", mode=Mode.JSON_SCHEMA, max_retries=2)

    assert info.value.n_attempts == 3  # the first attempt and two retries
    assert len(fakeai.calls) == 3
    assert [len(c.request.json["messages"]) for c in fakeai.calls] == [1, 3, 5]


def test_a_wrong_type_is_retried_too(fakeai):
    fakeai.on().reply(tool_call=("UserInfo", {"name": "JASON", "age": "twenty-five"})).reply(
        tool_call=("UserInfo", {"name": "JASON", "age": 25})
    )
    with fakeai.intercept():
        assert extract_user("Jason is 25").age == 25
    assert "age" in _feedback(fakeai.calls[1])


def test_parallel_tools_mode(fakeai):
    fakeai.on().reply(tool_calls=[("UserInfo", {"name": "ADA", "age": 36}), ("UserInfo", {"name": "ALAN", "age": 41})])
    with fakeai.intercept():
        client = instructor.from_openai(OpenAI(), mode=Mode.PARALLEL_TOOLS)
        users = list(
            client.chat.completions.create(
                model=MODEL,
                response_model=Iterable[UserInfo],
                messages=[{"role": "user", "content": "Ada is 36, Alan is 41."}],
            )
        )

    assert [u.name for u in users] == ["ADA", "ALAN"]
    assert fakeai.calls.last.request.json["tool_choice"] == "auto"


# -- streaming: partial objects and iterables ---------------------------------------------------
def test_create_partial_streams_growing_objects(fakeai):
    fakeai.on().reply(tool_call=("Ticket", {"title": "Printer on fire", "priority": "high", "tags": ["hardware"]}))
    with fakeai.intercept():
        client = instructor.from_openai(OpenAI())
        partials = list(
            client.chat.completions.create_partial(
                model=MODEL, response_model=Ticket, messages=[{"role": "user", "content": "The printer is on fire."}]
            )
        )

    assert len(partials) > 5
    assert partials[0].title is None
    assert partials[-1].model_dump() == {"title": "Printer on fire", "priority": "high", "tags": ["hardware"]}
    assert fakeai.calls.last.response.streamed


def test_create_iterable(fakeai):
    with fakeai.intercept():
        client = instructor.from_openai(OpenAI())
        tickets = list(
            client.chat.completions.create_iterable(
                model=MODEL, response_model=Ticket, messages=[{"role": "user", "content": "Printer on fire."}]
            )
        )

    assert tickets and all(isinstance(t, Ticket) for t in tickets)


# -- async: from_openai(AsyncOpenAI()) ----------------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize("mode", [Mode.TOOLS, Mode.JSON_SCHEMA], ids=lambda m: m.name)
async def test_async_retry_after_a_validation_failure(fakeai, mode, stack_transport):
    rule = script_wrong_then_right(fakeai, mode)
    async with fakeai.intercept():
        user = await aextract_user("Jason is 25 years old.", mode=mode)

    assert user.name == "JASON"
    assert rule.used == 2 and len(fakeai.calls) == 2
    assert "name must be in upper case" in _feedback(fakeai.calls[1])
    assert [c.transport for c in fakeai.calls] == [stack_transport] * 2


@pytest.mark.asyncio
@pytest.mark.fakeai(intercept=True)
async def test_async_create_partial(fakeai):
    client = instructor.from_openai(AsyncOpenAI())
    partials = [
        p
        async for p in client.chat.completions.create_partial(
            model=MODEL, response_model=Ticket, messages=[{"role": "user", "content": "The printer is on fire."}]
        )
    ]

    assert isinstance(Ticket.model_validate(partials[-1].model_dump()), Ticket)
    assert fakeai.calls.last.response.streamed
