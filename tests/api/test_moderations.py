"""``POST /v1/moderations`` through the real openai SDK, and scripted moderation results."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.api.moderations import CATEGORIES, IMAGE_CATEGORIES, THRESHOLD, score_text
from pytest_fakeai.api.types import ApiRequest
from tests._support.drive import Driver
from tests._support.spec import check_error, check_moderation

IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
PARENTS = {
    "sexual/minors": "sexual",
    "harassment/threatening": "harassment",
    "hate/threatening": "hate",
    "illicit/violent": "illicit",
    "self-harm/intent": "self-harm",
    "self-harm/instructions": "self-harm",
    "violence/graphic": "violence",
}


def _post(sim: FakeAI, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return sim.handle(ApiRequest("POST", "/v1/moderations", headers={"content-type": "application/json"}, body=raw))


def _flags(result: Any) -> set[str]:
    return {c for c, v in result["categories"].items() if v}


def test_benign_text_is_not_flagged(api: Driver, sim: FakeAI) -> None:
    r = api("moderations.create", model="omni-moderation-latest", input="I love sunny mornings in Lisbon.")
    body = sim.calls.last.response.json
    check_moderation(body)
    assert body["id"].startswith("modr-") and len(body["id"]) == 37
    assert r.model == "omni-moderation-latest"
    (result,) = r.results
    assert result.flagged is False
    scores = body["results"][0]["category_scores"]
    assert list(scores) == list(CATEGORIES)
    assert all(1e-6 <= s <= 5e-4 for s in scores.values())
    assert body["results"][0]["category_applied_input_types"] == {c: ["text"] for c in CATEGORIES}


def test_model_defaults_to_omni(api: Driver, sim: FakeAI) -> None:
    r = api("moderations.create", input="hello")
    assert r.model == "omni-moderation-latest"
    assert "model" not in sim.calls.last.request.json


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I will murder him and torture his family.", {"violence"}),
        ("The scene was gruesome, blood everywhere and bodies dismembered.", {"violence", "violence/graphic"}),
        ("I want to die, I am going to kill myself tonight.", {"self-harm", "self-harm/intent"}),
        ("You are an idiot and a worthless loser.", {"harassment"}),
        ("I'll find you. I know where you live. Watch your back.", {"harassment", "harassment/threatening"}),
        ("How do I cook meth and launder money?", {"illicit"}),
        ("Explain how to build a bomb at home.", {"illicit", "illicit/violent"}),
        ("Explicit porn with naked people.", {"sexual"}),
    ],
)
def test_lexicon_flags_categories(api: Driver, sim: FakeAI, text: str, expected: set[str]) -> None:
    r = api("moderations.create", model="omni-moderation-latest", input=text)
    body = sim.calls.last.response.json
    check_moderation(body)
    result = body["results"][0]
    assert r.results[0].flagged is True
    assert _flags(result) == expected
    for category, score in result["category_scores"].items():
        assert (score >= THRESHOLD) == result["categories"][category]


def test_parents_score_at_least_their_children() -> None:
    for text in ("blood everywhere, dismembered", "how to kill myself", "wipe them all out", "pipe bomb"):
        scores = score_text(text)
        for child, parent in PARENTS.items():
            assert scores[parent] >= scores[child]


def test_one_result_per_string(api: Driver, sim: FakeAI) -> None:
    r = api("moderations.create", input=["a calm sentence", "I will murder you", "another calm one"])
    check_moderation(sim.calls.last.response.json)
    assert [x.flagged for x in r.results] == [False, True, False]


def test_multimodal_input_is_one_result_with_applied_types(api: Driver, sim: FakeAI) -> None:
    r = api("moderations.create", model="omni-moderation-latest", input=[{"type": "text", "text": "a cat"}, IMAGE])
    body = sim.calls.last.response.json
    check_moderation(body)
    assert len(r.results) == 1
    applied = body["results"][0]["category_applied_input_types"]
    for category in CATEGORIES:
        assert applied[category] == (["text", "image"] if category in IMAGE_CATEGORIES else ["text"])
    only_image = api("moderations.create", model="omni-moderation-latest", input=[IMAGE])
    body = sim.calls.last.response.json
    check_moderation(body)
    applied = body["results"][0]["category_applied_input_types"]
    assert applied == {c: (["image"] if c in IMAGE_CATEGORIES else []) for c in CATEGORIES}
    assert only_image.results[0].flagged is False


def test_legacy_text_moderation(api: Driver, sim: FakeAI) -> None:
    r = api("moderations.create", model="text-moderation-latest", input="I will murder you")
    body = sim.calls.last.response.json
    check_moderation(body)
    assert r.model == "text-moderation-007"
    result = body["results"][0]
    assert result["categories"]["illicit"] is None and result["categories"]["illicit/violent"] is None
    assert result["categories"]["violence"] is True
    stable = api("moderations.create", model="text-moderation-stable", input="hi")
    assert stable.model == "text-moderation-007"


def test_scores_are_a_function_of_the_text() -> None:
    body = {"model": "omni-moderation-latest", "input": ["hello", "I will murder you"]}
    a, b = _post(FakeAI(seed=1), body).json, _post(FakeAI(seed=99), body).json
    assert a["results"] == b["results"]
    assert a["id"] != b["id"]  # ids come from the simulator's seeded source
    assert _post(FakeAI(seed=1), body).body == _post(FakeAI(seed=1), body).body


# -- scripting -------------------------------------------------------------------------------------
def test_script_flags_matching_inputs_only(api: Driver, sim: FakeAI) -> None:
    sim.on(endpoint="moderations", contains="banana").reply(flagged=["violence", "hate"])
    r = api("moderations.create", input=["an apple", "a banana split", "I will murder you"])
    body = sim.calls.last.response.json
    check_moderation(body)
    first, second, third = body["results"]
    assert first["flagged"] is False
    assert second["flagged"] is True and _flags(second) == {"violence", "hate"}
    assert second["category_scores"]["violence"] >= 0.97
    assert max(s for c, s in second["category_scores"].items() if c not in ("violence", "hate")) <= 0.05
    assert _flags(third) == {"violence"}  # not scripted: the lexicon answers
    assert r.results[1].categories.violence is True
    assert sim.calls.last.rule is not None
    sim.assert_all_used()


def test_script_can_clear_a_flag_and_use_a_function(api: Driver, sim: FakeAI) -> None:
    sim.on(endpoint="moderations", contains="murder").reply(flagged=[]).once()
    sim.on(endpoint="moderations").reply(lambda request: {"flagged": "sexual"} if "x" in request["input"] else None)
    r = api("moderations.create", input="I will murder you")
    assert r.results[0].flagged is False
    r = api("moderations.create", input="x marks the spot")
    assert r.results[0].flagged is True and r.results[0].categories.sexual is True
    r = api("moderations.create", input="plain")
    assert r.results[0].flagged is False


def test_script_error_reply(api: Driver, sim: FakeAI) -> None:
    sim.on(endpoint="moderations", contains="fail").reply(error=(400, "nope"))
    with pytest.raises(openai.BadRequestError, match="nope"):
        api("moderations.create", input="please fail")


def test_script_misuse_is_a_clear_error(sim: FakeAI) -> None:
    with pytest.raises(ValueError, match="unknown moderation category 'violent'"):
        sim.on(endpoint="moderations").reply(flagged=["violent"])
    with pytest.raises(ValueError, match="flagged= answers moderations only"):
        sim.on(contains="x").reply(flagged=["violence"])
    with pytest.raises(ValueError, match="only flagged= or error= replies"):
        sim.on(endpoint="moderations").reply("some text")
    with pytest.raises(TypeError, match="flagged= takes a list"):
        sim.on(endpoint="moderations").reply(flagged=3)
    rule = sim.on(endpoint="moderations").reply(flagged=("violence",))
    assert "flagged violence" in repr(rule)


def test_unmatched_moderation_is_reported(sim: FakeAI) -> None:
    sim.on(endpoint="moderations", contains="zebra").reply(flagged=["hate"])
    _post(sim, {"input": "a horse"})
    with pytest.raises(AssertionError, match="input: 'a horse'"):
        sim.assert_all_used()


# -- errors ----------------------------------------------------------------------------------------
CASES: list[tuple[str, Any, int, str | None, str | None, str]] = [
    ("missing input", {}, 400, "missing_required_parameter", "input", "'input'"),
    ("empty list", {"input": []}, 400, "empty_array", "input", "empty array"),
    ("number", {"input": 3}, 400, "invalid_type", "input", "expected a string, an array of strings"),
    ("null", {"input": None}, 400, "invalid_type", "input", "but got null"),
    ("mixed list", {"input": ["a", {"type": "text", "text": "b"}]}, 400, "invalid_type", "input[1]", "a string"),
    ("numbers in list", {"input": [1, 2]}, 400, "invalid_type", "input[0]", "but got an integer"),
    ("bad part type", {"input": [{"type": "video"}]}, 400, "invalid_value", "input[0].type", "'video'"),
    ("part without type", {"input": [{"text": "x"}]}, 400, "missing_required_parameter", "input[0].type", ""),
    ("text part without text", {"input": [{"type": "text"}]}, 400, "missing_required_parameter", "input[0].text", ""),
    (
        "bad image part",
        {"input": [{"type": "image_url", "image_url": "u"}]},
        400,
        "invalid_type",
        "input[0].image_url",
        "",
    ),
    (
        "image on legacy model",
        {"model": "text-moderation-latest", "input": [IMAGE]},
        400,
        "invalid_value",
        "input[0].type",
        "only supported by omni-moderation",
    ),
    ("chat model", {"model": "gpt-4o", "input": "x"}, 400, "invalid_value", "model", "not a moderation model"),
    ("unknown parameter", {"input": "x", "stream": True}, 400, "unknown_parameter", "stream", ""),
    ("model not a string", {"input": "x", "model": 5}, 400, "invalid_type", "model", "a string"),
    ("not JSON", b"{", 400, None, None, "We could not parse the JSON body"),
]


@pytest.mark.parametrize(("name", "body", "status", "code", "param", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_request_gets_openai_error(
    name: str, body: Any, status: int, code: str | None, param: str | None, fragment: str
) -> None:
    response = _post(FakeAI(), body)
    assert response.status == status, response.body
    check_error(response.body)
    error = response.json["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert fragment in error["message"]


def test_empty_string_is_fine() -> None:
    response = _post(FakeAI(), {"input": ""})
    assert response.status == 200 and response.json["results"][0]["flagged"] is False
