"""Schema instances: every keyword, the cases other fakes get wrong, pydantic schemas, clear errors."""

from __future__ import annotations

import json
import pickle
import random
import re
from datetime import datetime, time
from enum import Enum
from typing import Any, Literal, Optional
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator, FormatChecker
from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel, Field

from pytest_fakeai.engine.schema import SchemaError, check_schema, instance_for

SEEDS = range(40)

# jsonschema checks date-time, time, uri, hostname and duration only when optional packages are
# installed; these stdlib checks make sure they are checked here either way.
STRICT = FormatChecker()


@STRICT.checks("date-time", raises=ValueError)
def _date_time(v: object) -> bool:
    if not isinstance(v, str):
        return True
    parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
    return (
        bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", v)) and parsed.tzinfo is not None
    )


@STRICT.checks("time", raises=ValueError)
def _time(v: object) -> bool:
    if not isinstance(v, str):
        return True
    return bool(re.fullmatch(r"\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", v)) and bool(time.fromisoformat(v[:8]))


@STRICT.checks("duration")
def _duration(v: object) -> bool:
    pattern = r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?"
    return not isinstance(v, str) or re.fullmatch(pattern, v) is not None


@STRICT.checks("uri")
def _uri(v: object) -> bool:
    if not isinstance(v, str):
        return True
    parts = urlsplit(v)
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in v


@STRICT.checks("hostname")
def _hostname(v: object) -> bool:
    label = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    return not isinstance(v, str) or re.fullmatch(rf"{label}(\.{label})*", v) is not None


def assert_valid(schema: Any, value: Any) -> None:
    for checker in (Draft202012Validator.FORMAT_CHECKER, STRICT):
        errors = list(Draft202012Validator(schema, format_checker=checker).iter_errors(value))
        assert not errors, f"{json.dumps(value)} is invalid: {errors[0].message} at {list(errors[0].absolute_path)}"


def samples(schema: Any, seeds: range = SEEDS) -> list[Any]:
    """Instances for many seeds, each checked against the schema (and the schema checked first)."""
    check_schema(schema)
    out = []
    for seed in seeds:
        value = instance_for(schema, random.Random(seed))
        assert_valid(schema, value)
        out.append(value)
    return out


def older_draft(schema: Any, validator: Any) -> list[Any]:
    """Instances of a schema in an older draft's form (tuple items, boolean exclusive bounds)."""
    check_schema(schema)
    values = [instance_for(schema, random.Random(seed)) for seed in SEEDS]
    for value in values:
        validator(schema).validate(value)
    return values


def schema_error(schema: Any, generate: bool = True) -> SchemaError:
    """The error check_schema raises, and the same from instance_for (not a hang, not another exception)."""
    with pytest.raises(SchemaError) as caught:
        check_schema(schema)
    if generate:
        with pytest.raises(SchemaError) as again:
            instance_for(schema, random.Random(0))
        assert again.value.keyword == caught.value.keyword
    return caught.value


# ---------------------------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("kind", "python"),
    [
        ("string", str),
        ("integer", int),
        ("number", (int, float)),
        ("boolean", bool),
        ("null", type(None)),
        ("object", dict),
        ("array", list),
    ],
)
def test_each_type(kind: str, python: Any) -> None:
    for value in samples({"type": kind}):
        assert isinstance(value, python)
        assert not (kind in ("integer", "number") and isinstance(value, bool))


def test_type_lists_produce_each_type() -> None:
    values = samples({"type": ["string", "integer", "null"]}, range(200))
    assert {type(v) for v in values} == {str, int, type(None)}


def test_booleans_are_both() -> None:
    assert set(samples({"type": "boolean"})) == {True, False}


# ---------------------------------------------------------------------------------------------- enum, const


@pytest.mark.parametrize("const", [0, 0.0, False, "", None, [], {}, [0, False], {"a": None}, "x", 7])
def test_const_including_falsy(const: Any) -> None:
    for value in samples({"const": const}, range(5)):
        assert value == const and type(value) is type(const)
    nested = {"type": "object", "properties": {"v": {"const": const}}, "required": ["v"]}
    for value in samples(nested, range(5)):
        assert value["v"] == const and type(value["v"]) is type(const)


def test_const_is_a_copy() -> None:
    schema: dict[str, Any] = {"const": {"list": [1, 2]}}
    value = instance_for(schema, random.Random(0))
    value["list"].append(3)
    assert schema["const"] == {"list": [1, 2]}


def test_enum_with_falsy_values() -> None:
    values = samples({"enum": [0, False, "", None, [], {}]}, range(120))
    keys = {json.dumps(v) for v in values}
    assert keys == {"0", "false", '""', "null", "[]", "{}"}


def test_enum_is_filtered_by_the_other_keywords() -> None:
    # 0 is not false and "0" is not an integer: only 0 and 1 are valid.
    values = samples({"type": "integer", "enum": [0, "0", False, None, 1.0, 2.5]})
    assert {json.dumps(v) for v in values} <= {"0", "1.0"}


def test_enum_and_const_errors() -> None:
    error = schema_error({"type": "string", "enum": [1, 2]})
    assert error.keyword == "enum" and error.path == "#/enum"
    error = schema_error({"type": "integer", "const": "7"})
    assert error.keyword == "const" and "type" in error.message
    assert schema_error({"enum": []}).keyword == "enum"


# ---------------------------------------------------------------------------------------------- objects


WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City and country"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "include_hourly": {"type": "boolean"},
    },
    "required": ["location", "unit", "days"],
    "additionalProperties": False,
}


def test_days_stays_within_its_bounds() -> None:
    """FakeAI answers days=57 where the maximum is 7."""
    days = [v["days"] for v in samples(WEATHER, range(300))]
    assert set(days) == set(range(1, 8))


def test_required_always_present_and_no_extra_keys() -> None:
    for value in samples(WEATHER, range(100)):
        assert {"location", "unit", "days"} <= value.keys() <= WEATHER["properties"].keys()


def test_optional_properties_are_sometimes_left_out() -> None:
    present = [("include_hourly" in v) for v in samples(WEATHER, range(100))]
    assert any(present) and not all(present)


def test_additional_properties_schema_adds_keys_only_when_forced() -> None:
    open_map = {"type": "object", "additionalProperties": {"type": "integer"}}
    assert all(v == {} for v in samples(open_map))
    forced = {**open_map, "minProperties": 3, "maxProperties": 4}
    for value in samples(forced):
        assert 3 <= len(value) <= 4 and all(isinstance(x, int) for x in value.values())


def test_min_and_max_properties() -> None:
    schema = {
        "type": "object",
        "properties": {k: {"type": "string"} for k in ("a", "b", "c", "d", "e")},
        "minProperties": 2,
        "maxProperties": 3,
    }
    assert {len(v) for v in samples(schema, range(100))} <= {2, 3}


def test_pattern_properties() -> None:
    schema = {
        "type": "object",
        "properties": {"x-id": {"type": "integer"}},
        "patternProperties": {"^x-": {"type": "integer", "minimum": 0}, "^[a-z]+$": {"type": "string"}},
        "additionalProperties": False,
        "minProperties": 3,
    }
    for value in samples(schema):
        assert len(value) >= 3


def test_property_names_and_dependent_required() -> None:
    schema = {
        "type": "object",
        "properties": {"card": {"type": "string"}, "billing_address": {"type": "string"}, "Bad": {"type": "string"}},
        "propertyNames": {"pattern": "^[a-z_]+$"},
        "dependentRequired": {"card": ["billing_address"]},
    }
    values = samples(schema, range(100))
    assert any("card" in v for v in values)
    assert all("billing_address" in v for v in values if "card" in v)
    assert not any("Bad" in v for v in values)


def test_object_errors() -> None:
    error = schema_error({"type": "object", "properties": {}, "required": ["x"], "additionalProperties": False})
    assert error.keyword == "required" and "'x'" not in error.message and '"x"' in error.message
    assert "add it to properties" in error.message
    error = schema_error({"type": "object", "minProperties": 3, "maxProperties": 1})
    assert error.keyword == "minProperties"
    error = schema_error({"type": "object", "required": ["a", "b"], "maxProperties": 1})
    assert error.keyword == "maxProperties"
    error = schema_error({"type": "object", "properties": {"a": {}}, "additionalProperties": False, "minProperties": 2})
    assert error.keyword == "minProperties"


# ---------------------------------------------------------------------------------------------- arrays


def test_items_and_bounds() -> None:
    schema = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}, "minItems": 2, "maxItems": 5}
    lengths = {len(v) for v in samples(schema, range(100))}
    assert lengths <= set(range(2, 6)) and len(lengths) > 1


def test_prefix_items_and_closed_tuples() -> None:
    schema = {
        "type": "array",
        "prefixItems": [{"type": "string", "format": "date"}, {"type": "number"}],
        "items": False,
        "minItems": 2,
    }
    for value in samples(schema):
        assert len(value) == 2
    draft7 = {"type": "array", "items": [{"type": "string"}, {"type": "boolean"}], "additionalItems": False}
    for value in older_draft(draft7, Draft7Validator):
        assert len(value) <= 2


def test_unique_items_with_objects() -> None:
    schema = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"a": {"type": "boolean"}, "b": {"type": "boolean"}},
            "required": ["a", "b"],
            "additionalProperties": False,
        },
        "minItems": 4,
        "uniqueItems": True,
    }
    for value in samples(schema):
        assert len(value) == 4  # every combination, each once


def test_unique_items_with_richer_objects_and_scalars() -> None:
    people = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name"],
        },
        "minItems": 5,
        "uniqueItems": True,
    }
    samples(people)
    booleans = {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "uniqueItems": True}
    for value in samples(booleans):
        assert sorted(value) == [False, True]
    # 1 and true are different JSON values; 1 and 1.0 are the same
    mixed = {"type": "array", "items": {"enum": [1, True, 1.0, 0, False]}, "minItems": 4, "uniqueItems": True}
    for value in samples(mixed):
        assert len(value) == 4
    small = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 5},
        "minItems": 5,
        "uniqueItems": True,
    }
    for value in samples(small):
        assert sorted(value) == [1, 2, 3, 4, 5]


def test_impossible_uniqueness_is_an_error() -> None:
    error = schema_error({"type": "array", "items": {"type": "boolean"}, "minItems": 3, "uniqueItems": True})
    assert error.keyword == "uniqueItems" and "2 distinct values" in error.message
    error = schema_error({"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 3, "uniqueItems": True})
    assert error.keyword == "uniqueItems"


def test_contains() -> None:
    schema = {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 100},
        "contains": {"const": 42},
        "minContains": 2,
        "maxItems": 4,
    }
    for value in samples(schema):
        assert value.count(42) >= 2


def test_array_errors() -> None:
    assert schema_error({"type": "array", "minItems": 3, "maxItems": 2}).keyword == "minItems"
    error = schema_error({"type": "array", "prefixItems": [{}], "items": False, "minItems": 2})
    assert error.keyword == "items" and error.path == "#/items"


# ---------------------------------------------------------------------------------------------- numbers


def test_exclusive_bounds_2020_and_draft4() -> None:
    for value in samples({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3}, range(60)):
        assert value in (1, 2)
    for value in samples({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001}):
        assert 0 < value < 0.001
    draft4 = {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 2, "exclusiveMaximum": True}
    for value in older_draft(draft4, Draft4Validator):
        assert value == 1


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "multipleOf": 5, "minimum": 1, "maximum": 100},
        {"type": "integer", "multipleOf": 7, "minimum": -20, "maximum": -1},
        {"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 10},
        {"type": "number", "multipleOf": 0.1, "exclusiveMinimum": 0.3, "maximum": 0.9},
        {"type": "number", "multipleOf": 0.25, "minimum": 1000},
        {"type": "integer", "multipleOf": 0.5, "maximum": 3},
        {"type": "number", "multipleOf": 3},
        {"type": "integer", "multipleOf": 1000, "minimum": 1},
    ],
)
def test_multiple_of(schema: dict[str, Any]) -> None:
    samples(schema)


def test_plausible_numbers_respect_bounds() -> None:
    schema = {
        "type": "object",
        "properties": {
            "age": {"type": "integer"},
            "price": {"type": "number", "minimum": 0},
            "percentage": {"type": "number", "minimum": 0, "maximum": 100},
            "year": {"type": "integer", "minimum": 2030},
            "quantity": {"type": "integer", "minimum": 1},
            "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        },
        "required": ["age", "price", "percentage", "year", "quantity", "latitude"],
    }
    for value in samples(schema):
        assert 18 <= value["age"] <= 90
        assert value["price"] == round(value["price"], 2) and value["price"] >= 5
        assert 2030 <= value["year"] <= 2070
        assert 1 <= value["quantity"] <= 10


def test_number_errors() -> None:
    error = schema_error({"type": "integer", "minimum": 10, "maximum": 7})
    assert (
        error.keyword == "minimum" and error.path == "#/minimum" and "lower minimum or raise maximum" in error.message
    )
    assert schema_error({"type": "integer", "minimum": 1.5, "maximum": 1.9}).keyword == "minimum"
    assert schema_error({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1}).keyword == "exclusiveMinimum"
    error = schema_error({"type": "integer", "multipleOf": 5, "minimum": 1, "maximum": 4})
    assert error.keyword == "multipleOf" and "between 1 and 4" in error.message
    assert schema_error({"type": "number", "multipleOf": 0.5, "minimum": 0.6, "maximum": 0.9}).keyword == "multipleOf"
    assert schema_error({"type": "number", "multipleOf": 0}).keyword == "multipleOf"
    assert schema_error({"type": "number", "minimum": "5"}).keyword == "minimum"


# ---------------------------------------------------------------------------------------------- strings


def test_lengths() -> None:
    for lo, hi in ((0, 0), (1, 1), (3, 3), (5, 12), (40, 60), (200, None)):
        schema: dict[str, Any] = {"type": "string", "minLength": lo}
        if hi is not None:
            schema["maxLength"] = hi
        for value in samples(schema, range(10)):
            assert lo <= len(value) <= (hi if hi is not None else 10**6)
            assert not re.fullmatch(r"(.)\1+", value) or len(value) < 2


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[A-Z]{3}-\d{4}$",
        r"^\+?[1-9]\d{1,14}$",
        r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$",
        r"^(foo|bar)baz\d+$",
        r"^[^aeiou\s]{4}$",
        r"^\w+\s\w+$",
        r"^#[0-9a-fA-F]{6}$",
        r"^(\d)-\1$",
        r"^(?=.*\d)[a-z\d]{8,}$",
        r"^\d{4}-\d{2}-\d{2}$",
        r"^[A-Z][a-z]+(?: [A-Z][a-z]+)*$",
        r"^v\d+\.\d+\.\d+(-[a-z]+)?$",
        r"\bcat\b",
        r"^(?:[01]\d|2[0-3]):[0-5]\d$",
        r"^.{3,5}$",
        r"^[\u4e00-\u9fff]{2}$",
        r"ab*c?d+",
        r"^$",
    ],
)
def test_patterns(pattern: str) -> None:
    """pydantic-ai's TestModel ignores pattern; these must all match."""
    for value in samples({"type": "string", "pattern": pattern}):
        assert re.search(pattern, value)


def test_pattern_with_lengths() -> None:
    for value in samples({"type": "string", "pattern": "^[a-z]+$", "minLength": 20, "maxLength": 25}):
        assert 20 <= len(value) <= 25
    for value in samples({"type": "string", "pattern": r"\d+", "minLength": 10}):
        assert len(value) >= 10
    for value in samples({"type": "string", "pattern": "^[a-z ]+$", "maxLength": 4}):
        assert len(value) <= 4


def test_pattern_prefers_a_natural_value() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "pattern": "^[A-Za-z ]+$"}},
        "required": ["name"],
    }
    names = [v["name"] for v in samples(schema)]
    assert all(" " in n and n.istitle() for n in names)


def test_pattern_errors() -> None:
    error = schema_error({"type": "string", "pattern": "^[A-Z]{3}$", "maxLength": 2})
    assert error.keyword == "pattern" and error.path == "#/pattern" and "exactly 3 characters" in error.message
    error = schema_error({"type": "string", "pattern": "(unclosed"})
    assert error.keyword == "pattern" and "not a regular expression" in error.message
    # lookarounds that contradict: found by trial, reported as pattern, in bounded time
    error = schema_error({"type": "string", "pattern": "^(?!a)a$"})
    assert error.keyword == "pattern"
    assert schema_error({"type": "string", "minLength": 5, "maxLength": 3}).keyword == "minLength"


FORMATS = [
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "uuid",
    "uri",
    "uri-reference",
    "iri",
    "ipv4",
    "ipv6",
    "hostname",
    "idn-hostname",
    "json-pointer",
    "relative-json-pointer",
    "regex",
    "uri-template",
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_formats(fmt: str) -> None:
    values = samples({"type": "string", "format": fmt})
    assert len(set(values)) > 1


def test_format_with_pattern_and_lengths() -> None:
    samples({"type": "string", "format": "email", "pattern": r"@example\.(com|org)$"})
    samples({"type": "string", "format": "date", "maxLength": 10})
    error = schema_error({"type": "string", "format": "date-time", "maxLength": 10})
    assert error.keyword == "maxLength" and "date-time" in error.message


def test_unknown_formats_are_annotations() -> None:
    samples({"type": "string", "format": "x-custom"})


# ---------------------------------------------------------------------------------------------- plausible values


def test_plausible_strings_by_property_name() -> None:
    names = [
        "name", "first_name", "lastName", "email", "city", "location", "country", "country_code", "title",
        "description", "summary", "comment", "id", "user_id", "url", "phone", "birthday", "created_at", "due_date",
        "color", "currency", "language", "status", "priority", "zip_code", "street", "company", "timezone", "tags",
    ]  # fmt: skip
    schema = {
        "type": "object",
        "properties": {n: {"type": "string"} for n in names if n != "tags"}
        | {"tags": {"type": "array", "items": {"type": "string"}}},
        "required": names,
    }
    value = instance_for(schema, random.Random(3))
    assert_valid(schema, value)
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z-]+", value["name"])
    assert "@" in value["email"] and value["email"] == value["email"].lower()
    assert value["country_code"].isupper() and len(value["country_code"]) == 2
    assert value["description"].endswith((".", "?"))
    assert value["url"].startswith("https://")
    assert value["phone"].startswith("+")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", value["birthday"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value["created_at"])
    assert re.fullmatch(r"[A-Z]{3}", value["currency"])
    assert value["user_id"].startswith("user_")
    for text in [*value.values(), *value["tags"]]:
        if isinstance(text, str):
            assert text.lower() != "string" and not re.fullmatch(r"(.)\1{2,}", text)


# ---------------------------------------------------------------------------------------------- $ref and recursion


TREE_DEFS: dict[str, Any] = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
            },
            "required": ["value", "children"],
            "additionalProperties": False,
        }
    },
    "$ref": "#/$defs/Node",
}
LINKED_LIST_ROOT: dict[str, Any] = {
    "type": "object",
    "properties": {"value": {"type": "string"}, "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
    "required": ["value", "next"],
    "additionalProperties": False,
}
TREE_DEFINITIONS: dict[str, Any] = {
    "definitions": {
        "tree": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "kids": {"type": "array", "items": {"$ref": "#/definitions/tree"}},
            },
            "required": ["name"],
        }
    },
    "type": "object",
    "properties": {"root": {"$ref": "#/definitions/tree"}},
    "required": ["root"],
}
MUTUAL: dict[str, Any] = {
    "$defs": {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}, "required": ["b"]},
        "B": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "integer"}]},
    },
    "$ref": "#/$defs/A",
}


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize(
    "schema", [TREE_DEFS, LINKED_LIST_ROOT, TREE_DEFINITIONS, MUTUAL], ids=["tree", "list", "definitions", "mutual"]
)
def test_recursive_schemas_end(schema: dict[str, Any]) -> None:
    depths = [depth(v) for v in samples(schema, range(200))]
    assert max(depths) <= 20
    assert max(depths) >= 3  # it does recurse


def test_recursion_with_no_base_case_is_an_error() -> None:
    forced = {
        "$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}, "required": ["next"]}},
        "$ref": "#/$defs/N",
    }
    error = schema_error(forced)
    assert error.keyword == "$ref" and error.path == "#/$defs/N" and "optional" in error.message
    forced_array = {"type": "array", "items": {"$ref": "#"}, "minItems": 1}
    assert schema_error(forced_array).keyword == "$ref"


def test_ref_errors() -> None:
    error = schema_error({"$ref": "#/$defs/Missing"})
    assert error.keyword == "$ref" and "Missing" not in error.path and '"#/$defs/Missing"' in error.message
    assert schema_error({"$ref": "https://example.com/schema.json"}).keyword == "$ref"
    nested = {"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope"}}, "required": ["a"]}
    assert schema_error(nested).path == "#/properties/a/$ref"


def test_ref_with_siblings_means_both() -> None:
    schema = {
        "$defs": {"Age": {"type": "integer", "minimum": 0}},
        "type": "object",
        "properties": {"age": {"$ref": "#/$defs/Age", "maximum": 3}},
        "required": ["age"],
    }
    assert {v["age"] for v in samples(schema)} <= {0, 1, 2, 3}


# ---------------------------------------------------------------------------------------------- combinators


def test_any_of() -> None:
    schema = {"anyOf": [{"type": "string", "format": "email"}, {"type": "integer", "minimum": 100}]}
    values = samples(schema, range(60))
    assert {type(v) for v in values} == {str, int}


def test_any_of_with_object_base() -> None:
    schema = {
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email"}, "phone": {"type": "string"}},
        "anyOf": [{"required": ["email"]}, {"required": ["phone"]}],
    }
    samples(schema)


def test_one_of_overlapping_branches_match_exactly_one() -> None:
    values = samples({"oneOf": [{"type": "integer"}, {"type": "number"}]}, range(100))
    assert all(not float(v).is_integer() for v in values)  # an integer would match both
    schema = {"oneOf": [{"type": "string", "maxLength": 5}, {"type": "string", "minLength": 3}]}
    for value in samples(schema, range(60)):
        assert len(value) < 3 or len(value) > 5


def test_one_of_discriminated_union() -> None:
    schema = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer"}},
                "required": ["kind"],
            },
            {
                "type": "object",
                "properties": {"kind": {"const": "dog"}, "breed": {"type": "string"}},
                "required": ["kind"],
            },
        ]
    }
    kinds = {v["kind"] for v in samples(schema, range(60))}
    assert kinds == {"cat", "dog"}


def test_one_of_that_cannot_be_exclusive() -> None:
    error = schema_error({"oneOf": [{"type": "string"}, {"type": "string"}]})
    assert error.keyword == "oneOf" and "mutually exclusive" in error.message


def test_all_of_merges() -> None:
    schema = {
        "allOf": [
            {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}}, "required": ["id"]},
            {"properties": {"id": {"maximum": 5}, "name": {"type": "string"}}, "required": ["name"]},
            {"properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
        ]
    }
    for value in samples(schema):
        assert 1 <= value["id"] <= 5 and isinstance(value["name"], str)


def test_all_of_with_closed_branch() -> None:
    schema = {
        "allOf": [
            {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                "additionalProperties": False,
            },
            {"properties": {"b": {"minimum": 10}, "c": {"type": "string"}}},
        ]
    }
    for value in samples(schema):
        assert "c" not in value


def test_all_of_errors() -> None:
    assert schema_error({"allOf": [{"type": "string"}, {"type": "integer"}]}).keyword == "type"
    assert schema_error({"allOf": [{"minimum": 5}, {"maximum": 3}], "type": "integer"}).keyword == "minimum"
    assert schema_error({"allOf": [{"const": 1}, {"const": 2}]}).keyword == "const"


def test_not() -> None:
    for value in samples({"type": "integer", "minimum": 0, "maximum": 3, "not": {"const": 2}}):
        assert value != 2
    for value in samples({"not": {"type": "string"}}):
        assert not isinstance(value, str)
    for value in samples({"type": "string", "not": {"enum": ["", "x"]}}):
        assert value not in ("", "x")
    error = schema_error({"type": "string", "not": {"type": "string"}})
    assert error.keyword == "not" and "not" in error.message


def test_if_then_else() -> None:
    schema = {
        "type": "object",
        "properties": {"country": {"enum": ["US", "CA"]}, "postal_code": {"type": "string"}},
        "required": ["country", "postal_code"],
        "if": {"properties": {"country": {"const": "US"}}},
        "then": {"properties": {"postal_code": {"pattern": r"^\d{5}$"}}},
        "else": {"properties": {"postal_code": {"pattern": r"^[A-Z]\d[A-Z] \d[A-Z]\d$"}}},
    }
    countries = {v["country"] for v in samples(schema, range(60))}
    assert countries == {"US", "CA"}


def test_optional_parts_that_cannot_be_filled_are_left_out() -> None:
    """Valid JSON Schema: a property constrained to nothing must be absent.  check_schema reports
    contradictions written in one place as mistakes; instance_for just leaves such parts out."""
    merged = {
        "allOf": [{"properties": {"a": {"type": "string"}}}, {"properties": {"a": {"type": "integer"}}}],
        "type": "object",
    }
    for value in samples(merged):
        assert "a" not in value
    broken = {"type": "object", "properties": {"days": {"type": "integer", "minimum": 8, "maximum": 7}}}
    assert schema_error(broken, generate=False).keyword == "minimum"
    for seed in SEEDS:
        assert instance_for(broken, random.Random(seed)) == {}


def test_empty_and_boolean_schemas() -> None:
    samples({})
    assert instance_for(True, random.Random(0)) is not None  # type: ignore[arg-type]
    schema = {"type": "object", "properties": {"gone": False, "here": True}, "required": ["here"]}
    for value in samples(schema):
        assert "gone" not in value
    assert schema_error({"type": "object", "properties": {"x": False}, "required": ["x"]}).keyword == "required"
    with pytest.raises(SchemaError):
        check_schema(False)


def test_unsupported_keywords_and_shapes() -> None:
    assert schema_error({"$dynamicRef": "#meta"}).keyword == "$dynamicRef"
    assert schema_error({"type": "strin"}).keyword == "type"
    assert schema_error({"properties": []}).keyword == "properties"
    assert schema_error({"type": "object", "required": "name"}).keyword == "required"
    with pytest.raises(SchemaError):
        check_schema(["not", "a", "schema"])


# ---------------------------------------------------------------------------------------------- pydantic


class Color(Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str
    zip_code: str = Field(pattern=r"^\d{5}(-\d{4})?$")
    country_code: str = Field(min_length=2, max_length=2)


class Pet(BaseModel):
    kind: Literal["cat", "dog"]
    name: str
    age: int = Field(ge=0, le=30)


class Person(BaseModel):
    name: str
    email: Optional[str] = None  # noqa: UP045 - what users write
    age: int = Field(ge=18, le=120)
    role: Literal["admin", "user", "guest"]
    favorite: Color
    addresses: list[Address] = Field(min_length=1, max_length=3)
    pets: list[Pet] = []
    scores: dict[str, int]
    nickname: str | None = Field(default=None, max_length=12)
    rating: float = Field(gt=0, le=5, multiple_of=0.5)
    tags: set[str] = set()


class Category(BaseModel):
    title: str
    subcategories: list[Category] = []
    parent: Optional[Category] = None  # noqa: UP045


class Order(BaseModel):
    id: int
    customer: Person
    categories: list[Category]
    notes: str | None


@pytest.mark.parametrize("model", [Address, Person, Category, Order])
def test_pydantic_schemas(model: type[BaseModel]) -> None:
    for value in samples(model.model_json_schema(), range(25)):
        model.model_validate_json(json.dumps(value))


@pytest.mark.parametrize("model", [Address, Pet, Person, Category, Order])
def test_openai_strict_schemas(model: type[BaseModel]) -> None:
    strict = to_strict_json_schema(model)
    for value in samples(strict, range(25)):
        model.model_validate_json(json.dumps(value))


# ---------------------------------------------------------------------------------------------- API contract


def test_deterministic() -> None:
    schema = Order.model_json_schema()
    first = [json.dumps(instance_for(schema, random.Random(seed))) for seed in range(10)]
    again = [json.dumps(instance_for(schema, random.Random(seed))) for seed in range(10)]
    assert first == again
    assert len(set(first)) == 10


def test_schema_error_is_a_value_error_with_keyword_and_path() -> None:
    schema = {
        "type": "object",
        "properties": {"days": {"type": "integer", "minimum": 8, "maximum": 7}},
        "required": ["days"],
    }
    error = schema_error(schema)
    assert isinstance(error, ValueError)
    assert (error.keyword, error.path) == ("minimum", "#/properties/days/minimum")
    assert str(error).startswith("#/properties/days/minimum: ")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.keyword, copy.path, str(copy)) == (error.keyword, error.path, str(error))


def test_impossible_schemas_fail_fast() -> None:
    """Every unsatisfiable schema ends in a SchemaError after bounded work, never a hang."""
    hopeless = [
        {"type": "string", "not": {"type": "string"}},
        {"oneOf": [{"type": "integer"}, {"type": "integer"}]},
        {"type": "string", "pattern": "^(?=b)a+$"},
        {"type": "array", "items": {"type": "string", "maxLength": 0}, "minItems": 2, "uniqueItems": True},
        {"allOf": [{"type": "string", "pattern": "^a+$"}, {"pattern": "^b+$"}]},
        {"type": "object", "properties": {"a": {"type": "string", "not": {}}}, "required": ["a"]},
        {
            "type": "array",
            "items": {"type": "object", "properties": {"x": {"not": {}}}, "required": ["x"]},
            "minItems": 1,
        },
    ]
    for schema in hopeless:
        schema_error(schema)


def test_check_schema_accepts_what_instance_for_can_do() -> None:
    for schema in (
        WEATHER,
        TREE_DEFS,
        LINKED_LIST_ROOT,
        MUTUAL,
        Order.model_json_schema(),
        to_strict_json_schema(Order),
    ):
        check_schema(schema)


def test_not_excluding_the_name_based_value_falls_back_to_the_whole_range() -> None:
    # found by hypothesis: "price" prefers the top of a small range, which 'not' excludes
    schema = {
        "type": "object",
        "properties": {"price": {"type": "integer", "minimum": 0, "maximum": 5, "not": {"const": 5}}},
        "required": ["price"],
    }
    for seed in range(20):
        assert 0 <= instance_for(schema, random.Random(seed))["price"] < 5
