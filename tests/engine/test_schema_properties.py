"""Property tests: for many random schemas in the supported subset, every instance validates."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai.engine.schema import check_schema, instance_for
from tests.engine.test_schema import assert_valid

NAMES = (
    "name", "email", "city", "age", "price", "count", "title", "description", "id", "url", "tags", "status",
    "days", "score", "value", "notes", "code", "date", "enabled", "location", "created_at", "percentage",
)  # fmt: skip
FORMATS = ("date-time", "date", "time", "duration", "email", "uuid", "uri", "uri-reference", "ipv4", "ipv6", "hostname")
PATTERNS = (
    (r"^[A-Z]{3}-\d{4}$", 8, 8),
    (r"^\+?[1-9]\d{1,14}$", 2, 16),
    (r"^[a-z]+$", 1, None),
    (r"^[a-z0-9_]{3,16}$", 3, 16),
    (r"^(red|green|blue)$", 3, 5),
    (r"^\d{5}(-\d{4})?$", 5, 10),
    (r"^[A-Z][a-z]+( [A-Z][a-z]+)*$", 2, None),
    (r"\d", 1, None),
    (r"^#[0-9a-f]{6}$", 7, 7),
    (r"^v\d+\.\d+$", 4, None),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def strings(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    kind = draw(st.sampled_from(["plain", "format", "pattern"]))
    if kind == "format":
        schema["format"] = draw(st.sampled_from(FORMATS))
        return schema
    if kind == "pattern":
        pattern, lo, hi = draw(st.sampled_from(PATTERNS))
        schema["pattern"] = pattern
        if draw(st.booleans()):  # lengths that agree with what the pattern can match
            schema["minLength"] = draw(st.integers(0, lo + 2 if hi is None else hi))
            if hi is None:
                schema["maxLength"] = schema["minLength"] + draw(st.integers(max(0, lo - schema["minLength"]), 20))
        return schema
    if draw(st.booleans()):
        lo = draw(st.integers(0, 30))
        schema["minLength"] = lo
        if draw(st.booleans()):
            schema["maxLength"] = lo + draw(st.integers(0, 30))
    elif draw(st.booleans()):
        schema["maxLength"] = draw(st.integers(0, 12))
    return schema


@st.composite
def integers(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    lo = draw(st.none() | st.integers(-(10**6), 10**6))
    hi = draw(st.none() | st.integers(0, 10**4))
    if lo is not None:
        schema["minimum" if draw(st.booleans()) else "exclusiveMinimum"] = lo
    if hi is not None:
        top = (lo if lo is not None else 0) + hi + 2
        schema["maximum" if draw(st.booleans()) else "exclusiveMaximum"] = top
    if draw(st.booleans()):
        m = draw(st.sampled_from([2, 3, 5, 10, 7]))
        schema["multipleOf"] = m
        if lo is not None and hi is not None:
            schema.pop("exclusiveMaximum", None)
            schema["maximum"] = lo + hi + 2 + 2 * m  # room for a multiple
    return schema


@st.composite
def numbers(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    lo = draw(st.none() | st.floats(-1e5, 1e5, allow_nan=False).map(lambda x: round(x, 3)))
    width = draw(st.none() | st.floats(0.5, 1e4, allow_nan=False).map(lambda x: round(x, 3)))
    if lo is not None:
        schema["minimum" if draw(st.booleans()) else "exclusiveMinimum"] = lo
    if width is not None:
        schema["maximum" if draw(st.booleans()) else "exclusiveMaximum"] = round((lo or 0) + width, 3)
    if draw(st.booleans()):
        m = draw(st.sampled_from([0.5, 0.25, 0.1, 0.01, 2.5, 1, 4]))
        schema["multipleOf"] = m
        if width is not None:
            schema["maximum"] = round((lo or 0) + width + 10 * m, 3)
            schema.pop("exclusiveMaximum", None)
    return schema


scalars = st.one_of(
    strings(),
    integers(),
    numbers(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(json_values, min_size=1, max_size=5).map(lambda v: {"enum": v}),
    json_values.map(lambda v: {"const": v}),
    st.sampled_from([0, False, "", None, [], {}]).map(lambda v: {"const": v}),
    strings().map(lambda s: {**s, "type": ["string", "null"]}),
    st.integers(0, 5).map(lambda k: {"type": "integer", "minimum": 0, "maximum": 5, "not": {"const": k}}),
)
# items whose values are many, so that uniqueItems can always be met
rich = st.one_of(
    st.just({"type": "string"}),
    st.just({"type": "integer"}),
    st.just({"type": "string", "format": "uuid"}),
    st.just(
        {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}, "required": ["id"]}
    ),
)


def composites(refs: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    leaves = scalars | st.sampled_from(refs).map(lambda r: {"$ref": f"#/$defs/{r}"}) if refs else scalars

    def extend(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
        return st.one_of(objects(inner), arrays(inner), unions(inner), all_of(inner))

    return st.recursive(leaves, extend, max_leaves=10)


@st.composite
def objects(draw: st.DrawFn, inner: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    props = draw(st.dictionaries(st.sampled_from(NAMES), inner, max_size=5))
    names = list(props)
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if names:
        schema["required"] = draw(st.lists(st.sampled_from(names), unique=True))
    closed = draw(st.sampled_from(["absent", "false", "schema"]))
    if closed == "false":
        schema["additionalProperties"] = False
    elif closed == "schema":
        schema["additionalProperties"] = draw(scalars)
    if draw(st.booleans()):
        most = len(names) if closed == "false" else len(names) + 2
        schema["minProperties"] = draw(st.integers(0, most))
        schema["maxProperties"] = max(schema["minProperties"], len(schema.get("required", ()))) + draw(
            st.integers(0, 2)
        )
    return schema


@st.composite
def arrays(draw: st.DrawFn, inner: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    unique = draw(st.booleans())
    schema: dict[str, Any] = {"type": "array", "items": draw(rich if unique else inner)}
    if unique:
        schema["uniqueItems"] = True
    lo = draw(st.integers(0, 3))
    if lo:
        schema["minItems"] = lo
    if draw(st.booleans()):
        schema["maxItems"] = lo + draw(st.integers(0, 3))
    if draw(st.booleans()) and not unique:
        schema["prefixItems"] = draw(st.lists(inner, min_size=1, max_size=2))
    return schema


@st.composite
def unions(draw: st.DrawFn, inner: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"anyOf": draw(st.lists(inner, min_size=1, max_size=3))}
    # oneOf branches of different types never overlap
    types = st.sampled_from(["string", "boolean", "null", "array", "object"])
    kinds = draw(st.lists(types, min_size=1, max_size=3, unique=True))
    branches = []
    for kind in kinds:
        if kind == "string":
            branches.append(draw(strings()))
        elif kind == "array":
            branches.append({"type": "array", "items": draw(inner), "maxItems": 2})
        elif kind == "object":
            branches.append(draw(objects(inner)))
        else:
            branches.append({"type": kind})
    return {"oneOf": branches}


@st.composite
def all_of(draw: st.DrawFn, inner: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))
    cut = draw(st.integers(1, len(names) - 1))
    parts = []
    for chunk in (names[:cut], names[cut:]):
        props = {n: draw(inner) for n in chunk}
        parts.append(
            {"type": "object", "properties": props, "required": draw(st.lists(st.sampled_from(chunk), unique=True))}
        )
    return {"allOf": parts}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A schema with $defs (some recursive) referenced from anywhere inside it."""
    defs = draw(st.dictionaries(st.sampled_from(["Item", "Meta"]), composites(()), max_size=2))
    if draw(st.booleans()):
        value = draw(scalars)
        defs["Node"] = draw(
            st.sampled_from(
                [
                    {
                        "type": "object",
                        "properties": {
                            "value": value,
                            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                        },
                        "required": ["value", "children"],
                    },
                    {
                        "type": "object",
                        "properties": {"value": value, "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
                        "required": ["value", "next"],
                        "additionalProperties": False,
                    },
                ]
            )
        )
    root = draw(composites(tuple(sorted(defs))))
    if draw(st.booleans()):  # recursion through the root itself
        root = {"type": "object", "properties": {"data": root, "parent": {"$ref": "#"}}, "required": ["data"]}
    return {**root, "$defs": defs} if defs else root


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(schema=documents(), seed=st.integers(0, 2**32 - 1))
def test_every_instance_validates(schema: dict[str, Any], seed: int) -> None:
    check_schema(schema)
    for offset in range(3):
        assert_valid(schema, instance_for(schema, random.Random(seed + offset)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(schema=documents(), seed=st.integers(0, 2**32 - 1))
def test_same_seed_same_instance(schema: dict[str, Any], seed: int) -> None:
    first = json.dumps(instance_for(schema, random.Random(seed)))
    assert json.dumps(instance_for(schema, random.Random(seed))) == first
    random.seed(seed)
    shared = random.getstate()
    instance_for(schema, random.Random(seed))
    assert random.getstate() == shared  # only the given generator is drawn from
