"""``POST /v1/moderations``: omni-moderation and the legacy text-moderation models.

Scores are a deterministic function of the text (docs/moderations.md): a small keyword
lexicon per category, each match adding weight, ``score = 1 - exp(-weight)``, on top of a
tiny per-text noise floor (1e-6 .. 5e-4, as the real classifier gives benign text).  A
category is flagged at a score of :data:`THRESHOLD` or more; a parent category scores at
least as high as its sub-categories.  ``fakeai.on(endpoint="moderations", ...)
.reply(flagged=[...])`` scripts the result of matching inputs.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .common import json_response, resolve_model
from .errors import ApiError, invalid_type, invalid_value
from .script import MODERATIONS_PATH
from .validation import describe_json_type, load_json, parse_data
from .wire_embeddings import ModerationRequest

if TYPE_CHECKING:
    from ..engine.core import Engine
    from .script import Script
    from .types import ApiRequest, ApiResponse

__all__ = [
    "CATEGORIES",
    "DEFAULT_MODEL",
    "IMAGE_CATEGORIES",
    "THRESHOLD",
    "create_moderation",
    "score_text",
]

DEFAULT_MODEL = "omni-moderation-latest"
THRESHOLD = 0.5

#: Every category, in the order the real API lists them.
CATEGORIES = (
    "sexual",
    "sexual/minors",
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "violence",
    "violence/graphic",
)
#: The categories omni-moderation also scores images for.
IMAGE_CATEGORIES = frozenset(
    {"sexual", "self-harm", "self-harm/intent", "self-harm/instructions", "violence", "violence/graphic"}
)
_OMNI_ONLY = frozenset({"illicit", "illicit/violent"})
_PARENTS = {
    "sexual/minors": "sexual",
    "harassment/threatening": "harassment",
    "hate/threatening": "hate",
    "illicit/violent": "illicit",
    "self-harm/intent": "self-harm",
    "self-harm/instructions": "self-harm",
    "violence/graphic": "violence",
}

# weight: one match of a 1.0 term scores 0.63 (flagged); a 0.4 term alone scores 0.33 (not flagged)
_LEXICON: dict[str, dict[float, str]] = {
    "sexual": {
        1.0: r"porn\w*|nude|naked|erotic\w*|orgasm\w*|explicit sex|sexual intercourse|have sex|sex scene",
        0.4: r"sex|sexy|aroused|lingerie|strip(?:per|ping)",
    },
    "harassment": {
        1.0: r"you(?:'re| are) (?:an? )?(?:idiot|moron|loser|worthless|pathetic|disgusting)|shut up",
        0.5: r"idiot\w*|moron\w*|loser\w*|stupid|pathetic|worthless|dumbass|ugly",
    },
    "harassment/threatening": {
        1.2: r"i(?:'ll| will) (?:hurt|kill|find|destroy) you|watch your back|you(?:'ll| will) (?:pay|regret)|"
        r"i know where you live",
    },
    "hate": {
        1.2: r"subhuman\w*|inferior (?:race|people)|(?:hate|despise) all \w+|go back to your country|"
        r"ethnic cleansing|are (?:all )?vermin",
    },
    "hate/threatening": {
        1.3: r"exterminat\w*|wipe them (?:all )?out|(?:should|must) (?:all )?(?:die|be killed)",
    },
    "illicit": {
        1.0: r"buy (?:drugs|cocaine|heroin|meth)|cook(?:ing)? meth|launder(?:ing)? money|counterfeit\w*|"
        r"fake (?:id|passport)|shoplift\w*|hack into|steal (?:a|someone'?s?)|pick a lock|evade taxes",
        0.4: r"cocaine|heroin|meth|fentanyl|smuggl\w*|stolen",
    },
    "illicit/violent": {
        1.3: r"(?:build|make|assemble) a (?:bomb|pipe bomb|weapon|explosive)|pipe bomb|untraceable (?:gun|firearm)|"
        r"poison (?:someone|my|her|him|them)|hire a hitman",
    },
    "self-harm": {
        1.0: r"self[- ]harm\w*|cut(?:ting)? myself|hurt(?:ing)? myself|suicid\w*|overdos\w*",
    },
    "self-harm/intent": {
        1.3: r"i want to die|kill myself|end my life|i(?:'m| am) going to (?:kill|hurt) myself|no reason to live",
    },
    "self-harm/instructions": {
        1.3: r"how (?:to|can i|do i) (?:kill|hurt|cut) (?:myself|yourself)|ways to (?:commit suicide|die)|"
        r"painless way to die|how many pills",
    },
    "violence": {
        1.0: r"murder\w*|stab\w*|shoot (?:him|her|them|you|someone)|beat (?:him|her|them|you) up|"
        r"tortur\w*|massacre\w*|assault\w*|kill (?:him|her|them|you|someone|everyone)",
        0.4: r"kill\w*|attack\w*|shoot\w*|punch\w*|gun\w*|weapon\w*|bomb\w*|blood\w*|fight\w*|violen\w*",
    },
    "violence/graphic": {
        1.2: r"gore|gory|dismember\w*|mutilat\w*|decapitat\w*|disembowel\w*|entrails|gruesome|"
        r"blood everywhere|guts spill\w*",
    },
}
_MINORS = re.compile(r"\b(?:child|children|minor|minors|underage|kid|kids|teen|teens|preteen|\d{1,2}[- ]year[- ]old)\b")
_PATTERNS = {
    category: [(weight, re.compile(rf"\b(?:{pattern})\b")) for weight, pattern in terms.items()]
    for category, terms in _LEXICON.items()
}


def _unit(text: str, key: str) -> float:
    """A number in [0, 1) drawn from a hash of ``key`` and ``text``."""
    digest = hashlib.blake2b(f"{key}\x00{text}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


def _floor(text: str, category: str) -> float:
    """The noise floor of one category for one text: 1e-6 .. 5e-4, log-uniform."""
    return float(10 ** (-6 + _unit(text, category) * math.log10(500)))


def score_text(text: str) -> dict[str, float]:
    """Every category's score for ``text`` (0..1), deterministic."""
    lower = text.lower()
    weights = dict.fromkeys(CATEGORIES, 0.0)
    for category, patterns in _PATTERNS.items():
        for weight, pattern in patterns:
            hits = len(pattern.findall(lower))
            if hits:
                weights[category] += weight * (1.0 + math.log(hits))
    if weights["sexual"] and _MINORS.search(lower):
        weights["sexual/minors"] += weights["sexual"] + 0.8
    scores = {}
    for category in CATEGORIES:
        floor = _floor(text, category)
        scores[category] = floor + (1.0 - floor) * (1.0 - math.exp(-weights[category]))
    for child, parent in _PARENTS.items():
        scores[parent] = max(scores[parent], scores[child])
    return scores


@dataclass(frozen=True, slots=True)
class _Input:
    raw: Any  # as sent, for the script
    text: str | None  # None: no text part
    images: int


def _parts(parts: list[Any], omni: bool, model: str) -> _Input:
    texts: list[str] = []
    images = 0
    for i, part in enumerate(parts):
        where = f"input[{i}]"
        if not isinstance(part, dict):
            raise invalid_type(where, "an object", describe_json_type(part))
        kind = part.get("type")
        if kind == "text":
            if "text" not in part:
                raise ApiError(
                    400,
                    f"Missing required parameter: '{where}.text'.",
                    param=f"{where}.text",
                    code="missing_required_parameter",
                )
            if not isinstance(part["text"], str):
                raise invalid_type(f"{where}.text", "a string", describe_json_type(part["text"]))
            texts.append(part["text"])
        elif kind == "image_url":
            image = part.get("image_url")
            if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                raise invalid_type(f"{where}.image_url", "an object with a string 'url'", describe_json_type(image))
            if not omni:
                raise ApiError(
                    400,
                    f"Invalid value for '{where}.type': image inputs are only supported by omni-moderation models, "
                    f"not `{model}`.",
                    param=f"{where}.type",
                    code="invalid_value",
                )
            images += 1
        elif kind is None:
            raise ApiError(
                400,
                f"Missing required parameter: '{where}.type'.",
                param=f"{where}.type",
                code="missing_required_parameter",
            )
        else:
            raise invalid_value(f"{where}.type", kind, ["text", "image_url"])
    return _Input(parts, " ".join(texts) if texts else None, images)


def _inputs(value: Any, omni: bool, model: str) -> list[_Input]:
    expected = "a string, an array of strings or an array of objects"
    if isinstance(value, str):
        return [_Input(value, value, 0)]
    if not isinstance(value, list):
        raise invalid_type("input", expected, describe_json_type(value))
    if not value:
        raise ApiError(
            400,
            "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            param="input",
            code="empty_array",
        )
    if all(isinstance(v, str) for v in value):
        return [_Input(v, v, 0) for v in value]
    if all(isinstance(v, dict) for v in value):
        return [_parts(value, omni, model)]
    strings = isinstance(value[0], str)
    if not strings and not isinstance(value[0], dict):
        raise invalid_type("input[0]", "a string or an object", describe_json_type(value[0]))
    bad = next(i for i, v in enumerate(value) if not isinstance(v, str if strings else dict))
    raise invalid_type(f"input[{bad}]", "a string" if strings else "an object", describe_json_type(value[bad]))


def _scripted(scores: dict[str, float], flagged: Sequence[str], text: str) -> dict[str, float]:
    """Scores with exactly the ``flagged`` categories over the threshold."""
    out = {}
    for category in CATEGORIES:
        if category in flagged:
            out[category] = 0.97 + 0.029 * _unit(text, "scripted:" + category)
        else:
            out[category] = min(scores[category], 0.05)
    return out


def _result(item: _Input, omni: bool, flagged: Sequence[str] | None) -> dict[str, Any]:
    text = item.text if item.text is not None else ""
    scores = score_text(text)
    if item.text is None:  # images only: the text lexicon has nothing to read
        scores = {c: _floor(repr(item.raw), c) for c in CATEGORIES}
    if flagged is not None:
        scores = _scripted(scores, flagged, text)
    categories: dict[str, bool | None] = {}
    applied: dict[str, list[str]] = {}
    out_scores: dict[str, float] = {}
    for category in CATEGORIES:
        if not omni and category in _OMNI_ONLY:
            categories[category] = None
            out_scores[category] = 0.0
            applied[category] = []
            continue
        score = scores[category]
        out_scores[category] = score
        categories[category] = score >= THRESHOLD
        types = ["text"] if item.text is not None else []
        if item.images and category in IMAGE_CATEGORIES:
            types.append("image")
        applied[category] = types
    return {
        "flagged": any(v for v in categories.values()),
        "categories": categories,
        "category_scores": out_scores,
        "category_applied_input_types": applied,
    }


def create_moderation(engine: Engine, request: ApiRequest, script: Script | None = None) -> ApiResponse:
    """Classify each input; with ``script``, a scripted rule may say which categories are flagged."""

    data = load_json(request.body)
    req = parse_data(ModerationRequest, data)
    spec = resolve_model(engine, req.model or DEFAULT_MODEL)
    if spec.kind != "moderation":
        raise ApiError(
            400,
            f"The model `{spec.id}` is not a moderation model and thus not supported in the v1/moderations "
            f"endpoint. Use `{DEFAULT_MODEL}`.",
            param="model",
            code="invalid_value",
        )
    omni = spec.vision
    items = _inputs(req.input, omni, spec.id)
    results = []
    for item in items:
        flagged: Sequence[str] | None = None
        if script is not None:
            reply = script.answer(MODERATIONS_PATH, {**data, "input": item.raw}, request)
            if reply is not None:
                if reply.kind != "flagged":
                    raise TypeError(
                        f"a scripted {reply.kind} reply cannot answer {MODERATIONS_PATH}: use flagged=[...] or error="
                    )
                flagged = reply.value
        results.append(_result(item, omni, flagged))
    # omni echoes the name asked for (the alias or the snapshot); the legacy models their snapshot
    model = spec.response_model if not omni else (req.model or DEFAULT_MODEL)
    body = {"id": "modr-" + engine.new_hex(32), "model": model, "results": results}
    due = engine.settings.ttft
    return json_response(engine, body, due=due)
