"""Instances of a JSON Schema, for tool-call arguments and structured outputs.

:func:`instance_for` returns a value valid against a schema, drawn from a
``random.Random``: the same schema and the same generator state give the same
value on every machine.  :func:`check_schema` rejects, before anything is
generated, a schema that no value can satisfy or that uses something this
module does not support, with a :class:`SchemaError` naming the keyword and
where it sits, so that the API can answer a clear 400.

Covered at any depth: ``type`` (and lists of types); ``enum`` and ``const``
(falsy ones too); ``properties``, ``required``, ``additionalProperties``,
``patternProperties``, ``propertyNames``, ``minProperties``/``maxProperties``,
``dependentRequired`` (and draft-7 ``dependencies``); ``items``,
``prefixItems`` (and draft-4 tuple ``items``/``additionalItems``),
``minItems``/``maxItems``, ``uniqueItems``, ``contains``; ``minimum``,
``maximum``, ``exclusiveMinimum``/``exclusiveMaximum`` (draft 2020-12 numbers
and draft-4 booleans), ``multipleOf``; ``minLength``/``maxLength``,
``pattern`` (strings are built from the regular expression's parse tree),
``format`` (date-time, date, time, duration, email, uuid, uri, uri-reference,
ipv4, ipv6, hostname and a few more); local ``$ref`` (``#``, ``#/$defs/...``,
``#/definitions/...``); ``allOf`` (merged), ``anyOf``, ``oneOf`` (the value
matches exactly one branch).  Best effort, by a bounded number of retries:
``not``, ``if``/``then``/``else``, ``dependentSchemas``, several ``pattern``\\ s
at once, and regular expressions with lookarounds or word boundaries.

Recursion never loops.  Each re-entry of a ``$ref`` already being expanded
raises a pressure that shortens arrays and drops optional properties; past a
few re-entries every choice (union branch, type, optional property, array
length) goes to the option with the fewest ``$ref`` expansions left before a
finished value.  A schema whose only values are infinitely deep is a
:class:`SchemaError` on ``$ref``.

Values are plausible for what they fill: a ``name`` is a person's name,
``email`` an address, ``city`` a city, ``age`` 18-90, a ``price`` has two
decimals -- always inside the schema's own bounds.

Optional parts that cannot be filled are left out rather than failing: a
property constrained (for example by a merged ``allOf``) to nothing must be
absent, and an array may stop short when ``minItems`` allows.  :func:`check_schema`
still reports such a contradiction when it is written in one place, as a mistake.

Errors: one class, :class:`SchemaError` (a ``ValueError``)::

    SchemaError(keyword, path, message)
        keyword  the keyword that cannot be satisfied: "minimum", "multipleOf", "minLength",
                 "pattern", "format", "enum", "const", "type", "required", "minProperties",
                 "uniqueItems", "items", "$ref" (missing, remote or endless recursion),
                 "oneOf", "not", ... -- or "false" for a `false` schema where a value is needed
        path     a JSON pointer to the keyword at fault ("#/properties/days/maximum"), or to the
                 schema object when the object as a whole is (a `false` schema, "#/$defs/Node"
                 for a definition that recurses with no way out)
        message  what is wrong and how to fix it; str(error) is "<path>: <message>"
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import ipaddress
import json
import math
import random
import re
import sys
from collections.abc import Callable, Iterator
from datetime import date
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

__all__ = ["SchemaError", "check_schema", "instance_for"]

# The regular-expression parser is private API; it moved in 3.11 (and the old names warn there).
_NEW_SRE = sys.version_info >= (3, 11)
_sre_parse: Any = importlib.import_module("re._parser" if _NEW_SRE else "sre_parse")
_sre: Any = importlib.import_module("re._constants" if _NEW_SRE else "sre_constants")
_POSSESSIVE: Any = getattr(_sre, "POSSESSIVE_REPEAT", object())
_ATOMIC: Any = getattr(_sre, "ATOMIC_GROUP", object())

_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
_ALSO = "\x00also"  # merged-away constraints that still must hold (allOf semantics)
_NOT = "\x00not"  # collected ``not`` schemas
_UNSUPPORTED = ("$dynamicRef", "$recursiveRef")
_COMPOSITE = frozenset({"$ref", "allOf", "anyOf", "oneOf", "not", "if", _ALSO, *_UNSUPPORTED})
_POST = frozenset({_NOT, _ALSO, "dependentSchemas", "dependencies", "contains"})  # checked after generating
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "$schema",
        "$id",
        "$anchor",
        "$defs",
        "definitions",
        "deprecated",
        "readOnly",
        "writeOnly",
        "discriminator",
        "then",
        "else",
        "contentEncoding",
        "contentMediaType",
        "strict",
    }
)
_OBJECT_KEYS = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "minProperties",
        "maxProperties",
        "propertyNames",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
    }
)
_ARRAY_KEYS = frozenset(
    {"items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains", "minContains"}
)
_STRING_KEYS = frozenset({"minLength", "maxLength", "pattern", "format"})
_NUMBER_KEYS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})

_SOFT_PRESSURE = 3  # $ref re-entries on the current path before every choice heads for the exit
_HARD_PRESSURE = 48  # a safety net: the rank-guided exit ends far sooner
_MAX_NESTING = 64  # levels of value nesting; each costs about 8 Python frames
_NODE_TRIES = 12  # retries of one node for not / oneOf / if-then-else / merged allOf
_PATTERN_TRIES = 24
_UNIQUE_TRIES = 20
_BUDGET = 3000  # retries per instance_for call, all nodes together: bounds the time of any schema
_DOMAIN_LIMIT = 256
_INF = math.inf


class SchemaError(ValueError):
    """A schema that no value can satisfy, or that uses what this generator does not support.

    ``keyword`` is the JSON Schema keyword at fault (``"minLength"``, ``"pattern"``, ``"enum"``,
    ``"$ref"``, ...), ``path`` a JSON pointer to it (``"#/properties/days/maximum"``; to the schema
    object itself for a ``false`` schema or an endlessly recursive definition) and ``message``
    says what is wrong and how to fix it.
    """

    def __init__(self, keyword: str, path: str, message: str) -> None:
        self.keyword = keyword
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.keyword, self.path, self.message))


def instance_for(schema: dict[str, Any], rng: random.Random) -> Any:
    """A value valid against ``schema``, drawn from ``rng``.

    Raises :class:`SchemaError` when the schema cannot be satisfied (or, for the best-effort
    keywords, when no valid value turned up within a bounded number of tries).  Call
    :func:`check_schema` first to reject malformed schemas with a clear message.
    """
    try:
        return _Gen(schema, rng).gen(schema, "#", "")
    except RecursionError:  # only when called with little stack left: the nesting cap keeps well below the limit
        raise SchemaError("$ref", "#", "the schema nests too deeply to generate a value") from None


def check_schema(schema: Any) -> None:
    """Raise :class:`SchemaError` if ``schema`` is malformed, unsupported or unsatisfiable.

    Checks every reachable sub-schema on its own (bounds, lengths, patterns, enums, required
    properties, uniqueness, recursion with no base case), then generates a value as a trial, so
    that what only shows up in combination (``allOf``, ``not``, ``pattern`` with lengths) is caught
    as well.  Passing it means :func:`instance_for` succeeds for all but the best-effort keywords.
    """
    if schema is True:
        return
    if schema is False:
        raise SchemaError("false", "#", "the schema is `false`, which no value satisfies; use {} to allow anything")
    if not isinstance(schema, dict):
        raise _not_a_schema(schema, "#")
    gen = _Gen(schema, random.Random(0))
    _Checker(gen).run()
    first: SchemaError | None = None
    for seed in range(3):
        try:
            instance_for(schema, random.Random(seed))
        except SchemaError as exc:
            first = first or exc
        else:
            return
    assert first is not None
    raise first


# --------------------------------------------------------------------------------------------
# JSON values


def _is_num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _has_type(x: object, t: str) -> bool:
    if t == "string":
        return isinstance(x, str)
    if t == "integer":
        if isinstance(x, bool):
            return False
        return isinstance(x, int) or (isinstance(x, float) and x.is_integer())
    if t == "number":
        return _is_num(x)
    if t == "object":
        return isinstance(x, dict)
    if t == "array":
        return isinstance(x, list)
    if t == "boolean":
        return isinstance(x, bool)
    if t == "null":
        return x is None
    return False


def _eq(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``1 != true``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_num(a) and _is_num(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_eq(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _key(x: Any) -> Any:
    """A hashable stand-in for a JSON value, equal exactly when the values are JSON-equal."""
    if isinstance(x, bool):
        return ("b", x)
    if _is_num(x):
        return ("n", x)
    if isinstance(x, str):
        return ("s", x)
    if x is None:
        return ("z",)
    if isinstance(x, list):
        return ("l", tuple(_key(v) for v in x))
    if isinstance(x, dict):
        return ("d", tuple(sorted(((k, _key(v)) for k, v in x.items()), key=lambda kv: kv[0])))
    return ("?", repr(x))


def _copy(x: Any) -> Any:
    if isinstance(x, list):
        return [_copy(v) for v in x]
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    return x


def _show(x: Any) -> str:
    try:
        text = json.dumps(x, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def _ptr(path: str, *parts: str | int) -> str:
    for part in parts:
        text = str(part)
        if "~" in text or "/" in text:
            text = text.replace("~", "~0").replace("/", "~1")
        path = f"{path}/{text}"
    return path


def _table(s: dict[str, Any], key: str) -> dict[str, Any]:
    v = s.get(key)
    return v if isinstance(v, dict) else {}


def _seq(s: dict[str, Any], key: str) -> list[Any]:
    v = s.get(key)
    return v if isinstance(v, list) else []


def _giveup(err: tuple[str, str]) -> SchemaError:
    keyword, path = err
    if keyword == "not":
        what = "every value tried also matched the 'not' schema, which seems to exclude all the rest allows"
    else:
        what = f"no value tried satisfied {keyword} together with the rest of the schema"
    return SchemaError(
        keyword,
        path,
        f"{what} ({_NODE_TRIES} tries); check that the parts can hold together "
        "(not, oneOf, if/then/else and merged allOf are solved by trial)",
    )


def _not_a_schema(s: Any, path: str) -> SchemaError:
    return SchemaError("type", path, f"a schema must be a JSON object or a boolean, not {_show(s)}")


def _required_error(name: str, in_properties: bool, path: str) -> SchemaError:
    why = "its schema is false" if in_properties else "additionalProperties is false and it is not in properties"
    return SchemaError(
        "required",
        _ptr(path, "required"),
        f"{_show(name)} is required but {why}; add it to properties or drop it from required",
    )


def _names_error(name: str, path: str) -> SchemaError:
    return SchemaError(
        "propertyNames",
        _ptr(path, "propertyNames"),
        f"required property {_show(name)} is not a valid name under propertyNames; rename it or relax propertyNames",
    )


def _unique_error(lo: int, domain: list[Any], path: str) -> SchemaError:
    return SchemaError(
        "uniqueItems",
        _ptr(path, "uniqueItems"),
        f"minItems is {lo} but the items allow only {len(domain)} distinct values ({_show(domain[:6])}); "
        "lower minItems, drop uniqueItems or allow more values",
    )


def _const_error(value: Any, err: tuple[str, str], path: str) -> SchemaError:
    return SchemaError(
        "const", _ptr(path, "const"), f"const {_show(value)} breaks {err[0]} at {err[1]}; make the two agree"
    )


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


def _own(pattern: str) -> re.Pattern[str]:
    """One of this module's own regular expressions (compiled on first use, to keep the import cheap)."""
    compiled = _compiled(pattern)
    assert compiled is not None
    return compiled


def _search(pattern: Any, text: str) -> bool:
    c = _compiled(pattern) if isinstance(pattern, str) else None
    return c is not None and c.search(text) is not None


# --------------------------------------------------------------------------------------------
# Formats: checks (also used by the validator) and generators


def _ok_date(v: str) -> bool:
    m = _own(r"(\d{4})-(\d\d)-(\d\d)").fullmatch(v)
    if m is None:
        return False
    try:
        date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


def _ok_time(v: str) -> bool:
    m = _own(r"(\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[zZ]|[+-](\d\d):(\d\d))").fullmatch(v)
    if m is None:
        return False
    ok = int(m[1]) < 24 and int(m[2]) < 60 and int(m[3]) <= 60
    return ok and (m[4] is None or (int(m[4]) < 24 and int(m[5]) < 60))


def _ok_datetime(v: str) -> bool:
    head, sep, tail = v.replace("t", "T").partition("T")
    return bool(sep) and _ok_date(head) and _ok_time(tail)


def _ok_ip(v: str, version: int) -> bool:
    try:
        address = ipaddress.ip_address(v)
    except ValueError:
        return False
    return address.version == version and "%" not in v


def _ok_hostname(v: str) -> bool:
    v = v[:-1] if v.endswith(".") else v
    label = _own(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
    return 0 < len(v) <= 253 and all(label.fullmatch(p) for p in v.split("."))


def _fullmatch(pattern: str) -> Callable[[str], bool]:
    return lambda v: _own(pattern).fullmatch(v) is not None


_FORMAT_OK: dict[str, Callable[[str], bool]] = {
    "date-time": _ok_datetime,
    "date": _ok_date,
    "time": _ok_time,
    "duration": _fullmatch(r"P(?!$)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?"),
    "email": _fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    "idn-email": _fullmatch(r"[^@\s]+@[^@\s]+"),
    "uuid": _fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    "uri": _fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*"),
    "iri": _fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*"),
    "uri-reference": _fullmatch(r"[^\s<>\"{}|\\^`]*"),
    "iri-reference": _fullmatch(r"[^\s<>\"{}|\\^`]*"),
    "uri-template": _fullmatch(r"[^\s<>\"|\\^`]*"),
    "ipv4": lambda v: _ok_ip(v, 4),
    "ipv6": lambda v: _ok_ip(v, 6),
    "hostname": _ok_hostname,
    "idn-hostname": _ok_hostname,
    "json-pointer": _fullmatch(r"(?:/(?:[^~/]|~[01])*)*"),
    "relative-json-pointer": _fullmatch(r"(?:0|[1-9]\d*)(?:#|(?:/(?:[^~/]|~[01])*)*)"),
    "regex": lambda v: _compiled(v) is not None,
}

# fmt: off
_FIRST = ("Ada", "Grace", "Alan", "Katherine", "Linus", "Marie", "Hedy", "Margaret", "Edsger", "Barbara",
          "Donald", "Radia", "Frances", "Sophie", "Omar", "Priya", "Mateo", "Yuki", "Amara", "Lars", "Mei",
          "Diego", "Fatima", "Noah")
_LAST = ("Lovelace", "Hopper", "Turing", "Johnson", "Curie", "Lamarr", "Hamilton", "Dijkstra", "Liskov",
         "Knuth", "Perlman", "Allen", "Wilson", "Haddad", "Patel", "Garcia", "Tanaka", "Okafor", "Nilsson",
         "Chen", "Rossi", "Kowalski", "Silva", "Moreau")
_CITIES = ("Paris", "Tokyo", "Lagos", "Lima", "Oslo", "Toronto", "Mumbai", "Sydney", "Berlin", "Nairobi",
           "Seoul", "Madrid", "Chicago", "Cairo", "Lisbon", "Denver", "Vienna", "Austin", "Dublin", "Osaka")
_COUNTRIES = (("France", "FR"), ("Japan", "JP"), ("Nigeria", "NG"), ("Peru", "PE"), ("Norway", "NO"),
              ("Canada", "CA"), ("India", "IN"), ("Australia", "AU"), ("Germany", "DE"), ("Kenya", "KE"),
              ("Brazil", "BR"), ("Spain", "ES"), ("Mexico", "MX"), ("Egypt", "EG"), ("Italy", "IT"))
_REGIONS = ("California", "Ontario", "Bavaria", "Queensland", "Catalonia", "Texas", "Kyoto", "Lombardy")
_STREETS = ("Main Street", "Oak Avenue", "Baker Street", "Elm Road", "Harbor Way", "Maple Lane", "Park Place")
_COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella Labs", "Northwind Traders", "Contoso",
              "Hooli", "Vandelay Industries", "Blue Harbor Logistics", "Stark Industries")
_PRODUCTS = ("Wireless Mouse", "Standing Desk", "Coffee Grinder", "Trail Backpack", "Desk Lamp",
             "Noise-Cancelling Headphones", "Water Bottle", "Mechanical Keyboard", "Yoga Mat", "Road Bike")
_ADJECTIVES = ("quick", "bright", "quiet", "steady", "clever", "simple", "careful", "modern", "small", "early",
               "final", "clear", "annual", "weekly", "new", "open", "shared", "local", "daily", "main")
_NOUNS = ("report", "meeting", "garden", "river", "project", "budget", "review", "signal", "journey", "update",
          "plan", "summary", "harbor", "market", "library", "forecast", "ticket", "invoice", "request",
          "schedule", "team", "customer", "order", "release", "station", "kitchen", "museum", "trip")
_VERBS = ("covers", "describes", "tracks", "explains", "lists", "summarizes", "outlines", "reviews", "confirms",
          "updates", "supports", "follows")
_TITLE_HEADS = ("Quarterly", "Annual", "Weekly", "Project", "Team", "Product", "Customer", "Design", "Release",
                "Budget", "Travel", "Launch")
_TITLE_TAILS = ("Review", "Plan", "Update", "Summary", "Report", "Roadmap", "Kickoff", "Overview", "Checklist",
                "Notes", "Retrospective", "Proposal")
_COLORS = ("red", "blue", "green", "teal", "amber", "violet", "orange", "black", "white", "silver", "navy")
_CURRENCIES = ("USD", "EUR", "JPY", "GBP", "CHF", "CAD", "AUD", "INR", "BRL", "NOK")
_LANGUAGES = (("English", "en", "en-US"), ("French", "fr", "fr-FR"), ("Spanish", "es", "es-ES"),
              ("German", "de", "de-DE"), ("Japanese", "ja", "ja-JP"), ("Portuguese", "pt", "pt-BR"),
              ("Hindi", "hi", "hi-IN"), ("Swahili", "sw", "sw-KE"))
_STATUSES = ("active", "pending", "completed", "failed", "cancelled", "draft", "open", "closed")
_PRIORITIES = ("low", "medium", "high", "urgent")
_CATEGORIES = ("general", "billing", "support", "engineering", "sales", "travel", "research", "marketing")
_ROLES = ("admin", "editor", "viewer", "owner", "member")
_UNITS = ("celsius", "fahrenheit", "metric", "imperial")
_TIMEZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Africa/Lagos", "Australia/Sydney")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_TICKERS = ("AAPL", "MSFT", "NVDA", "GOOG", "AMZN", "TSLA", "META")
_AIRPORTS = ("CDG", "JFK", "HND", "LHR", "SFO", "NRT", "LOS", "SYD")
_EXTRA_KEYS = ("note", "tag", "label", "source", "owner", "region", "channel", "category", "comment", "status")
_HOSTS = ("example.com", "example.org", "example.net")
_WORDS = _NOUNS + _ADJECTIVES
# fmt: on


def _ymd(rng: random.Random, first: int = 2024, last: int = 2026) -> str:
    return f"{rng.randint(first, last)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _hms(rng: random.Random) -> str:
    return f"{rng.randint(7, 20):02d}:{rng.choice((0, 15, 30, 45)):02d}:{rng.randint(0, 59):02d}"


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(_FIRST), rng.choice(_LAST)


def _email(rng: random.Random, name: str = "") -> str:
    first, last = _person(rng)
    return f"{first}.{last}@{rng.choice(_HOSTS)}".lower()


def _uuid(rng: random.Random, name: str = "") -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[rng.getrandbits(2)]}{h[17:20]}-{h[20:]}"


def _url(rng: random.Random, name: str = "") -> str:
    return f"https://{rng.choice(('www.', 'api.', ''))}{rng.choice(_HOSTS)}/{rng.choice(_NOUNS)}s/{rng.randint(1, 999)}"


def _ipv4(rng: random.Random, name: str = "") -> str:
    net = rng.choice(("192.0.2", "198.51.100", "203.0.113", f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}"))
    return f"{net}.{rng.randint(1, 254)}"


def _ipv6(rng: random.Random, name: str = "") -> str:
    return str(ipaddress.IPv6Address((0x20010DB8 << 96) | rng.getrandbits(64)))


def _hostname(rng: random.Random, name: str = "") -> str:
    return f"{rng.choice(('api', 'www', 'mail', 'cdn', 'app'))}.{rng.choice(_HOSTS)}"


def _format_date(rng: random.Random, name: str) -> str:
    return _ymd(rng, 1950, 2004) if _string_kind(name) == "birthdate" else _ymd(rng)


def _duration(rng: random.Random, name: str = "") -> str:
    return rng.choice(
        (
            f"P{rng.randint(1, 14)}D",
            f"PT{rng.randint(1, 8)}H{rng.choice((0, 15, 30, 45))}M",
            f"PT{rng.randint(5, 90)}M",
            f"P{rng.randint(1, 3)}DT{rng.randint(1, 12)}H",
        )
    )


_FORMAT_GEN: dict[str, Callable[[random.Random, str], str]] = {
    "date-time": lambda rng, name: f"{_ymd(rng)}T{_hms(rng)}Z",
    "date": lambda rng, name: _format_date(rng, name),
    "time": lambda rng, name: f"{_hms(rng)}Z",
    "duration": _duration,
    "email": _email,
    "idn-email": _email,
    "uuid": _uuid,
    "uri": _url,
    "iri": _url,
    "uri-reference": lambda rng, name: rng.choice((_url(rng), f"/{rng.choice(_NOUNS)}s/{rng.randint(1, 99)}")),
    "iri-reference": _url,
    "uri-template": lambda rng, name: f"https://{rng.choice(_HOSTS)}/{rng.choice(_NOUNS)}s/{{id}}",
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "hostname": _hostname,
    "idn-hostname": _hostname,
    "json-pointer": lambda rng, name: f"/{rng.choice(_NOUNS)}s/{rng.randint(0, 9)}",
    "relative-json-pointer": lambda rng, name: f"{rng.randint(0, 2)}/{rng.choice(_NOUNS)}",
    "regex": lambda rng, name: rng.choice(("^[a-z]+$", r"^\d{3}-\d{4}$", "^[A-Z][a-z]*$")),
}


# --------------------------------------------------------------------------------------------
# Plausible strings and numbers, chosen by the property name


@functools.lru_cache(maxsize=4096)
def _tokens(name: str) -> tuple[str, ...]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return tuple(t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t)


def _singular(name: str) -> str:
    if name.endswith("ies") and len(name) > 4:
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss") and len(name) > 3:
        return name[:-1]
    return name


_STRING_RULES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (kind, frozenset(words.split()))
    for kind, words in (
        ("email", "email emails mail"),
        ("url", "url urls uri link links website homepage href endpoint webhook"),
        ("phone", "phone mobile tel telephone fax"),
        ("uuid", "uuid guid"),
        ("ipv4", "ip"),
        ("hostname", "host hostname domain"),
        ("timezone", "timezone tz"),
        ("currency", "currency"),
        ("zip", "zip zipcode postal postcode"),
        ("birthdate", "birthday birthdate dob birth"),
        ("datetime", "timestamp datetime at"),
        ("date", "date deadline due"),
        ("weekday", "weekday"),
        ("month", "month"),
        ("time", "time"),
        ("filename", "filename file attachment"),
        ("path", "path dir directory folder"),
        ("username", "username login handle nickname"),
        ("first_name", "first given firstname"),
        ("last_name", "last surname family lastname"),
        ("company", "company organization organisation org employer vendor brand business supplier"),
        ("country", "country nationality"),
        ("language", "language lang locale"),
        ("city", "city town location place destination origin venue"),
        ("region", "region province county"),
        ("street", "street"),
        ("address", "address"),
        ("color", "color colour"),
        ("status", "status state"),
        ("priority", "priority severity urgency"),
        ("role", "role"),
        ("unit", "unit units"),
        ("order", "sort order direction"),
        ("version", "version"),
        ("slug", "slug"),
        ("password", "password passphrase secret"),
        ("ticker", "symbol ticker"),
        ("airport", "airport iata"),
        ("title", "title subject headline heading caption topic project event task book movie"),
        (
            "sentence",
            "description summary text comment comments content message body note notes reason details "
            "explanation bio instructions feedback review answer response reply prompt context justification "
            "reasoning analysis output explanation thoughts caption story",
        ),
        ("question", "question"),
        ("query", "query search keyword keywords term terms q"),
        ("category", "category type kind genre"),
        ("word", "tag tags label labels"),
        ("code", "code sku"),
        ("id", "id ids identifier ref reference key token number"),
        ("product", "product item"),
        (
            "full_name",
            "name author customer user person contact owner assignee recipient sender manager "
            "employee patient student speaker guest attendee participant member",
        ),
    )
)


@functools.lru_cache(maxsize=4096)
def _string_kind(name: str) -> str:
    tokens = [_singular(t) if t not in ("address", "status", "business", "iata") else t for t in _tokens(name)]
    found = set(tokens) | set(_tokens(name))  # membership only
    joined = "".join(_tokens(name))
    for kind, words in _STRING_RULES:
        if not words.isdisjoint(found) or joined in words:
            if kind == "country" and found & {"code", "iso"}:
                return "country_code"
            if kind == "language" and (found & {"code", "iso", "lang"} or "locale" in found):
                return "locale" if "locale" in found else "lang_code"
            if kind == "datetime" and found.isdisjoint(("timestamp", "datetime")) and tokens[-1:] != ["at"]:
                continue
            return kind
    return "words"


def _title(rng: random.Random) -> str:
    return f"{rng.choice(_TITLE_HEADS)} {rng.choice(_TITLE_TAILS)}"


def _sentence(rng: random.Random) -> str:
    a, n1, n2, v = rng.choice(_ADJECTIVES), rng.choice(_NOUNS), rng.choice(_NOUNS), rng.choice(_VERBS)
    return rng.choice(
        (
            f"The {a} {n1} {v} the {n2}.",
            f"This {n1} {v} the {a} {n2} for {rng.choice(_CITIES)}.",
            f"{rng.choice(_FIRST)} {v} the {n1} before the {a} {n2}.",
            f"A {a} {n1} that {v} every {n2}.",
        )
    )


_TEXT: dict[str, Callable[[random.Random, str], str]] = {
    "email": _email,
    "url": _url,
    "phone": lambda rng, name: f"+1{rng.randint(201, 989)}555{rng.randint(100, 199):04d}",
    "uuid": _uuid,
    "ipv4": _ipv4,
    "hostname": _hostname,
    "timezone": lambda rng, name: rng.choice(_TIMEZONES),
    "currency": lambda rng, name: rng.choice(_CURRENCIES),
    "zip": lambda rng, name: f"{rng.randint(10000, 99999)}",
    "birthdate": lambda rng, name: _ymd(rng, 1950, 2004),
    "datetime": lambda rng, name: f"{_ymd(rng)}T{_hms(rng)}Z",
    "date": lambda rng, name: _ymd(rng),
    "weekday": lambda rng, name: rng.choice(_WEEKDAYS),
    "month": lambda rng, name: rng.choice(_MONTHS),
    "time": lambda rng, name: _hms(rng)[:5],
    "filename": lambda rng, name: f"{rng.choice(_NOUNS)}_{rng.randint(2021, 2026)}.{rng.choice(('pdf', 'csv', 'txt'))}",
    "path": lambda rng, name: f"/data/{rng.choice(_NOUNS)}s/{rng.choice(_NOUNS)}.json",
    "username": lambda rng, name: "{}_{}".format(*_person(rng)).lower(),
    "first_name": lambda rng, name: rng.choice(_FIRST),
    "last_name": lambda rng, name: rng.choice(_LAST),
    "full_name": lambda rng, name: "{} {}".format(*_person(rng)),
    "company": lambda rng, name: rng.choice(_COMPANIES),
    "country": lambda rng, name: rng.choice(_COUNTRIES)[0],
    "country_code": lambda rng, name: rng.choice(_COUNTRIES)[1],
    "language": lambda rng, name: rng.choice(_LANGUAGES)[0],
    "lang_code": lambda rng, name: rng.choice(_LANGUAGES)[1],
    "locale": lambda rng, name: rng.choice(_LANGUAGES)[2],
    "city": lambda rng, name: rng.choice(_CITIES),
    "region": lambda rng, name: rng.choice(_REGIONS),
    "street": lambda rng, name: f"{rng.randint(1, 250)} {rng.choice(_STREETS)}",
    "address": lambda rng, name: f"{rng.randint(1, 250)} {rng.choice(_STREETS)}, {rng.choice(_CITIES)}",
    "color": lambda rng, name: rng.choice(_COLORS),
    "status": lambda rng, name: rng.choice(_STATUSES),
    "priority": lambda rng, name: rng.choice(_PRIORITIES),
    "role": lambda rng, name: rng.choice(_ROLES),
    "unit": lambda rng, name: rng.choice(_UNITS),
    "order": lambda rng, name: rng.choice(("asc", "desc")),
    "version": lambda rng, name: f"{rng.randint(1, 4)}.{rng.randint(0, 12)}.{rng.randint(0, 20)}",
    "slug": lambda rng, name: f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.choice(_NOUNS)}",
    "password": lambda rng, name: "-".join(rng.choice(_WORDS) for _ in range(4)),
    "ticker": lambda rng, name: rng.choice(_TICKERS),
    "airport": lambda rng, name: rng.choice(_AIRPORTS),
    "title": lambda rng, name: _title(rng),
    "sentence": lambda rng, name: _sentence(rng),
    "question": lambda rng, name: (
        f"What is the {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} in {rng.choice(_CITIES)}?"
    ),
    "query": lambda rng, name: f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.choice(_CITIES)}",
    "category": lambda rng, name: rng.choice(_CATEGORIES),
    "word": lambda rng, name: rng.choice(_WORDS),
    "code": lambda rng, name: (
        "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3)) + f"{rng.randint(100, 999)}"
    ),
    "id": lambda rng, name: _id(rng, name),
    "product": lambda rng, name: rng.choice(_PRODUCTS),
    "words": lambda rng, name: " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3))),
}


def _id(rng: random.Random, name: str) -> str:
    head = next((t for t in _tokens(name) if t not in ("id", "ids", "identifier", "key", "ref", "number")), "")
    token = f"{rng.getrandbits(40):010x}"
    return f"{head[:8]}_{token}" if head else token


# (low, high, decimals, integral) by property-name token: where a value of that name usually lies.
_NUMBER_RULES: tuple[tuple[frozenset[str], tuple[float, float, int, bool]], ...] = tuple(
    (frozenset(words.split()), spec)
    for words, spec in (
        ("age", (18, 90, 0, True)),
        ("year", (1990, 2030, 0, True)),
        ("month", (1, 12, 0, True)),
        ("day dom", (1, 28, 0, True)),
        ("days nights", (1, 14, 0, True)),
        ("week weeks", (1, 8, 0, True)),
        ("hour hours", (0, 23, 0, True)),
        ("minute minutes second seconds", (0, 59, 0, True)),
        ("price cost amount total subtotal balance fee salary budget revenue income tax tip", (5, 500, 2, False)),
        ("percent percentage pct discount", (0, 100, 1, False)),
        ("rating stars", (1, 5, 0, True)),
        ("score", (0, 100, 0, True)),
        ("lat latitude", (-90, 90, 4, False)),
        ("lon lng long longitude", (-180, 180, 4, False)),
        ("temperature temp", (-10, 35, 1, False)),
        ("probability confidence ratio likelihood", (0, 1, 2, False)),
        ("weight", (1, 100, 1, False)),
        ("distance radius km miles mile", (1, 50, 1, False)),
        ("timeout delay duration interval ttl", (1, 300, 0, True)),
        ("port", (1024, 65535, 0, True)),
        ("id", (1, 99999, 0, True)),
        ("index offset position", (0, 20, 0, True)),
        (
            "count quantity qty num number limit size page guests people adults children passengers seats "
            "rooms results items top k n level floor",
            (1, 10, 0, True),
        ),
    )
)


@functools.lru_cache(maxsize=4096)
def _number_hint(name: str) -> tuple[float, float, int, bool]:
    tokens = _tokens(name)
    for words, spec in _NUMBER_RULES:
        if any(t in words for t in tokens):
            return spec
    return (1, 100, 2, False)


def _fit(text: str, lo: int, hi: int | None, rng: random.Random) -> str:
    """``text`` cut or extended (with real words) to a length in ``[lo, hi]``."""
    if hi is not None and len(text) > hi:
        cut = text[:hi]
        space = cut.rfind(" ")
        if space >= max(lo, 1):
            cut = cut[:space]
        trimmed = cut.rstrip(" ,.;:")
        text = trimmed if len(trimmed) >= lo else cut
    while len(text) < lo:
        text = f"{text} {rng.choice(_WORDS)}" if text else rng.choice(_WORDS)
    if hi is not None and len(text) > hi:
        text = text[:hi]
        if text.endswith(" "):
            text = text[:-1] + "s"
    return text


# --------------------------------------------------------------------------------------------
# Per-keyword plans, shared by the generator and the static checker: they raise SchemaError


def _count(s: dict[str, Any], key: str, path: str, default: int | None) -> int | None:
    v = s.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != int(v):
        raise SchemaError(key, _ptr(path, key), f"{key} must be a non-negative integer, not {_show(v)}")
    return int(v)


def _number(s: dict[str, Any], key: str, path: str) -> Any:
    v = s.get(key)
    if v is not None and not _is_num(v):
        raise SchemaError(key, _ptr(path, key), f"{key} must be a number, not {_show(v)}")
    if isinstance(v, float) and not math.isfinite(v):
        raise SchemaError(key, _ptr(path, key), f"{key} must be a finite number")
    return v


def _bounds(s: dict[str, Any], path: str) -> tuple[Any, bool, Any, bool, str, str]:
    """(low, low exclusive, high, high exclusive, low keyword, high keyword), both draft forms."""
    lo, hi = _number(s, "minimum", path), _number(s, "maximum", path)
    lo_x = hi_x = False
    lo_kw, hi_kw = "minimum", "maximum"
    xlo, xhi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    if isinstance(xlo, bool):  # draft 4: a flag on minimum
        lo_x = xlo and lo is not None
    elif _number(s, "exclusiveMinimum", path) is not None and (lo is None or xlo >= lo):
        lo, lo_x, lo_kw = xlo, True, "exclusiveMinimum"
    if isinstance(xhi, bool):
        hi_x = xhi and hi is not None
    elif _number(s, "exclusiveMaximum", path) is not None and (hi is None or xhi <= hi):
        hi, hi_x, hi_kw = xhi, True, "exclusiveMaximum"
    if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_x or hi_x))):
        raise SchemaError(
            lo_kw,
            _ptr(path, lo_kw),
            f"{lo_kw} ({_show(lo)}) and {hi_kw} ({_show(hi)}) leave no number in between; "
            f"lower {lo_kw} or raise {hi_kw}",
        )
    return lo, lo_x, hi, hi_x, lo_kw, hi_kw


def _step(m: Any) -> Fraction:
    # The decimal a schema author wrote (0.1), not its binary neighbour.
    return Fraction(m) if isinstance(m, int) else Fraction(repr(m))


def _multiple_ok(x: Any, m: Any) -> bool:
    """``multipleOf`` exactly as jsonschema decides it (float division for float divisors)."""
    if isinstance(m, float):
        try:
            q = x / m
            return bool(int(q) == q)
        except (OverflowError, ValueError):
            return (Fraction(x) / Fraction(m)).denominator == 1
    return not x % m


def _multiple_of(s: dict[str, Any], path: str) -> Any:
    m = _number(s, "multipleOf", path)
    if m is not None and m <= 0:
        raise SchemaError("multipleOf", _ptr(path, "multipleOf"), f"multipleOf must be greater than 0, not {_show(m)}")
    return m


def _ceil_div(a: Fraction, b: Fraction) -> int:
    return -math.floor(-a / b)


def _k_range(lo: Any, lo_x: bool, hi: Any, hi_x: bool, step: Fraction) -> tuple[int | None, int | None]:
    """The multipliers k with k*step inside the bounds."""
    klo = khi = None
    if lo is not None:
        flo = Fraction(lo)
        klo = _ceil_div(flo, step)
        if lo_x and klo * step == flo:
            klo += 1
    if hi is not None:
        fhi = Fraction(hi)
        khi = math.floor(fhi / step)
        if hi_x and khi * step == fhi:
            khi -= 1
    return klo, khi


_IntPlan = tuple[int | None, int | None, int, Any]


def _int_plan(s: dict[str, Any], path: str) -> _IntPlan:
    """(lowest, highest, step, multipleOf): the integers allowed are the multiples of step in range."""
    lo, lo_x, hi, hi_x, lo_kw, hi_kw = _bounds(s, path)
    ilo = None if lo is None else math.floor(lo) + 1 if lo_x and lo == math.floor(lo) else math.ceil(lo)
    ihi = None if hi is None else math.ceil(hi) - 1 if hi_x and hi == math.ceil(hi) else math.floor(hi)
    if ilo is not None and ihi is not None and ilo > ihi:
        raise SchemaError(
            lo_kw,
            _ptr(path, lo_kw),
            f"no integer lies between {lo_kw} {_show(lo)} and {hi_kw} {_show(hi)}; widen the range or use type number",
        )
    m = _multiple_of(s, path)
    step = 1 if m is None else _step(m).numerator  # integers that are multiples of p/q: multiples of p
    if step != 1:
        klo, khi = _k_range(ilo, False, ihi, False, Fraction(step))
        if klo is not None and khi is not None and klo > khi:
            raise SchemaError(
                "multipleOf",
                _ptr(path, "multipleOf"),
                f"no integer multiple of {_show(m)} lies between {ilo} and {ihi}; widen the range or change multipleOf",
            )
    return ilo, ihi, step, m


def _num_plan(s: dict[str, Any], path: str) -> tuple[Any, bool, Any, bool, Any]:
    lo, lo_x, hi, hi_x, _, _ = _bounds(s, path)
    m = _multiple_of(s, path)
    if m is not None and lo is not None and hi is not None:
        klo, khi = _k_range(lo, lo_x, hi, hi_x, _step(m))
        if klo is not None and khi is not None and klo > khi:
            raise SchemaError(
                "multipleOf",
                _ptr(path, "multipleOf"),
                f"no multiple of {_show(m)} lies between {_show(lo)} and {_show(hi)}; "
                "widen the range or change multipleOf",
            )
    return lo, lo_x, hi, hi_x, m


def _length_plan(s: dict[str, Any], path: str) -> tuple[int, int | None]:
    lo = _count(s, "minLength", path, 0) or 0
    hi = _count(s, "maxLength", path, None)
    if hi is not None and lo > hi:
        raise SchemaError(
            "minLength",
            _ptr(path, "minLength"),
            f"minLength ({lo}) is greater than maxLength ({hi}); lower one of them",
        )
    return lo, hi


class _Regex:
    """A pattern compiled for matching and parsed for generating, with what is known statically."""

    __slots__ = ("compiled", "end", "error", "full", "max_width", "min_width", "start", "tree")

    def __init__(self, pattern: str) -> None:
        self.error: str | None = None
        self.compiled = _compiled(pattern)
        self.tree: Any = None
        self.min_width = 0
        self.max_width = _INF
        self.start = self.end = self.full = False
        try:
            self.tree = _sre_parse.parse(pattern)
            lo, hi = self.tree.getwidth()
        except (re.error, RecursionError, OverflowError) as exc:
            self.error = str(exc)
            return
        if self.compiled is None:
            self.error = "re.compile failed"
            return
        self.min_width = lo
        self.max_width = _INF if hi >= _sre.MAXREPEAT else hi
        data = self.tree.data
        begin, end_ = (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING), (_sre.AT_END, _sre.AT_END_STRING)
        self.start = bool(data) and data[0][0] is _sre.AT and data[0][1] in begin
        self.end = bool(data) and data[-1][0] is _sre.AT and data[-1][1] in end_
        self.full = self.start and self.end


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> _Regex:
    return _Regex(pattern)


def _checked_regex(pattern: Any, path: str, keyword: str = "pattern") -> _Regex:
    if not isinstance(pattern, str):
        raise SchemaError(keyword, path, f"a pattern must be a string, not {_show(pattern)}")
    r = _regex(pattern)
    if r.error is not None:
        raise SchemaError(
            keyword,
            path,
            f"pattern {_show(pattern)} is not a regular expression this engine understands ({r.error}); "
            "use the ECMA-262 subset that Python's re shares (no \\p{...}, no named-group (?<name>...))",
        )
    return r


def _span(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {lo}"
    if lo == hi:
        return f"exactly {lo}"
    return f"at most {hi}" if lo == 0 else f"{lo} to {hi}"


def _pattern_fits(r: _Regex, pattern: str, lo: int, hi: int | None, where: str) -> None:
    """An anchored pattern's match lengths are known: they must meet minLength/maxLength."""
    if r.full and (r.min_width > (_INF if hi is None else hi) or r.max_width < lo):
        width = _span(r.min_width, None if r.max_width == _INF else int(r.max_width))
        raise SchemaError(
            "pattern",
            where,
            f"pattern {_show(pattern)} matches only strings of {width} characters, but minLength/maxLength ask "
            f"for {_span(lo, hi)}; make them agree",
        )


_ArrayPlan = tuple[list[Any], Any, str, int, int | None, bool]


def _array_plan(s: dict[str, Any], path: str) -> _ArrayPlan:
    """(prefix schemas, schema of the rest, its path, minItems, maxItems or None, uniqueItems)."""
    items = s.get("items", True)
    ipath = _ptr(path, "items")
    prefix: Any = s.get("prefixItems", [])
    if isinstance(items, list):  # draft 4-7 tuple form
        prefix, items, ipath = items, s.get("additionalItems", True), _ptr(path, "additionalItems")
    if not isinstance(prefix, list):
        raise SchemaError("prefixItems", _ptr(path, "prefixItems"), "prefixItems must be an array of schemas")
    lo = _count(s, "minItems", path, 0) or 0
    hi = _count(s, "maxItems", path, None)
    if hi is not None and lo > hi:
        raise SchemaError(
            "minItems", _ptr(path, "minItems"), f"minItems ({lo}) is greater than maxItems ({hi}); lower one of them"
        )
    if items is False and lo > len(prefix):
        raise SchemaError(
            "items",
            ipath,
            f"minItems is {lo} but items is false, so at most {len(prefix)} items (the prefixItems) are allowed; "
            "lower minItems or allow more items",
        )
    for i, sub in enumerate(prefix[:lo]):
        if sub is False:
            raise SchemaError(
                "prefixItems",
                _ptr(path, "prefixItems", i),
                f"item {i} is required (minItems {lo}) but its schema is false",
            )
    return prefix, items, ipath, lo, hi, s.get("uniqueItems") is True


_Pats = list[tuple[str, "re.Pattern[str]", Any]]
_ObjPlan = tuple[dict[str, Any], list[str], Any, _Pats, int, int | None, dict[str, list[str]], Any]


def _obj_plan(s: dict[str, Any], path: str) -> _ObjPlan:
    """(properties, required, additionalProperties, patternProperties, min, max, dependencies, propertyNames)."""
    props = s.get("properties", {})
    if not isinstance(props, dict):
        raise SchemaError(
            "properties", _ptr(path, "properties"), "properties must be an object mapping names to schemas"
        )
    required = s.get("required", [])
    if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
        raise SchemaError("required", _ptr(path, "required"), "required must be an array of property names")
    addl = s.get("additionalProperties", True)
    if not isinstance(addl, (bool, dict)):
        raise _not_a_schema(addl, _ptr(path, "additionalProperties"))
    raw = s.get("patternProperties", {})
    if not isinstance(raw, dict):
        raise SchemaError("patternProperties", _ptr(path, "patternProperties"), "patternProperties must be an object")
    pats: _Pats = []
    for pat, sub in raw.items():
        r = _checked_regex(pat, _ptr(path, "patternProperties", pat), "patternProperties")
        assert r.compiled is not None
        pats.append((pat, r.compiled, sub))
    lo = _count(s, "minProperties", path, 0) or 0
    hi = _count(s, "maxProperties", path, None)
    if hi is not None and lo > hi:
        raise SchemaError(
            "minProperties", _ptr(path, "minProperties"), f"minProperties ({lo}) is greater than maxProperties ({hi})"
        )
    unique_required = list(dict.fromkeys(required))
    if hi is not None and len(unique_required) > hi:
        raise SchemaError(
            "maxProperties",
            _ptr(path, "maxProperties"),
            f"{len(unique_required)} properties are required but maxProperties is {hi}; raise maxProperties",
        )
    deps: dict[str, list[str]] = {}
    for key in ("dependentRequired", "dependencies"):
        table = s.get(key)
        if isinstance(table, dict):
            for k, v in table.items():
                if isinstance(v, list):
                    deps.setdefault(k, []).extend(d for d in v if isinstance(d, str))
    return props, unique_required, addl, pats, lo, hi, deps, s.get("propertyNames")


def _prop_schema(name: str, props: dict[str, Any], pats: _Pats, addl: Any, path: str) -> tuple[Any, str]:
    """The schema a property's value must satisfy (properties, matching patterns, else additionalProperties)."""
    if name in props and not pats:
        return props[name], _ptr(path, "properties", name)
    parts: list[Any] = []
    where = _ptr(path, "properties", name)
    if name in props:
        parts.append(props[name])
    matched = [sub for _, c, sub in pats if c.search(name)]
    if matched and name not in props:
        where = _ptr(path, "patternProperties", next(p for p, c, _ in pats if c.search(name)))
    parts.extend(matched)
    if name not in props and not matched:
        parts.append(addl)
        where = _ptr(path, "additionalProperties")
    return _conj_all(parts), where


def _conj(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is True or a == {}:
        return b
    if b is True or b == {}:
        return a
    return {"allOf": [a, b]}


def _conj_all(parts: list[Any]) -> Any:
    out: Any = True
    for p in parts:
        out = _conj(out, p)
    return out


def _types(s: dict[str, Any], path: str) -> list[str]:
    """The types a schema allows, in the schema's order; inferred from keywords when ``type`` is absent."""
    t = s.get("type")
    if t is None:
        keys = s.keys()
        found = [
            name
            for name, words in (
                ("object", _OBJECT_KEYS),
                ("array", _ARRAY_KEYS),
                ("string", _STRING_KEYS),
                ("number", _NUMBER_KEYS),
            )
            if not words.isdisjoint(keys)
        ]
        return found or ["any"]
    names = [t] if isinstance(t, str) else t if isinstance(t, list) and t else None
    if names is None:
        raise SchemaError(
            "type", _ptr(path, "type"), f"type must be a type name or a non-empty array of them, not {_show(t)}"
        )
    for n in names:
        if n not in _TYPES:
            raise SchemaError(
                "type", _ptr(path, "type"), f"unknown type {_show(n)}; JSON Schema types are {', '.join(_TYPES)}"
            )
    return names if len(names) == 1 else list(dict.fromkeys(names))


def _list(s: dict[str, Any], key: str, path: str) -> list[Any]:
    v = s.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not v:
        raise SchemaError(key, _ptr(path, key), f"{key} must be a non-empty array of schemas")
    return v


# --------------------------------------------------------------------------------------------
# allOf: merging two schemas into one that (almost always exactly) means both


_MIN_KEYS = frozenset({"minLength", "minItems", "minProperties", "minContains"})
_MAX_KEYS = frozenset({"maxLength", "maxItems", "maxProperties", "maxContains"})


def _merge_types(a: Any, b: Any, path: str) -> Any:
    la = a if isinstance(a, list) else [a]
    lb = b if isinstance(b, list) else [b]
    out: list[Any] = []
    for t in la:
        if t in lb:
            out.append(t)
        elif (t == "integer" and "number" in lb) or (t == "number" and "integer" in lb):
            out.append("integer")
    out = list(dict.fromkeys(out))
    if not out:
        raise SchemaError(
            "type", _ptr(path, "type"), f"allOf requires type {_show(a)} and type {_show(b)} at once; no value is both"
        )
    return out[0] if len(out) == 1 else out


def _merge(a: dict[str, Any], b: dict[str, Any], path: str) -> dict[str, Any]:
    """``a`` and ``b`` at once.  What cannot be merged goes to ``_ALSO``, checked after generating."""
    if not a:
        return b
    if not b:
        return a
    out = dict(a)
    draft4 = any(isinstance(s.get(k), bool) for s in (a, b) for k in ("exclusiveMinimum", "exclusiveMaximum"))
    also: list[Any] = []
    for k, bv in b.items():
        if k not in out:
            out[k] = bv
            continue
        av = out[k]
        if k in _ANNOTATIONS or k in ("properties", "patternProperties", "additionalProperties"):
            continue
        if k == "type":
            out[k] = _merge_types(av, bv, path)
        elif k == "required" and isinstance(av, list) and isinstance(bv, list):
            out[k] = list(dict.fromkeys([*av, *bv]))
        elif k in _MIN_KEYS and _is_num(av) and _is_num(bv):
            out[k] = max(av, bv)
        elif k in _MAX_KEYS and _is_num(av) and _is_num(bv):
            out[k] = min(av, bv)
        elif k in ("minimum", "exclusiveMinimum") and not draft4 and _is_num(av) and _is_num(bv):
            out[k] = max(av, bv)
        elif k in ("maximum", "exclusiveMaximum") and not draft4 and _is_num(av) and _is_num(bv):
            out[k] = min(av, bv)
        elif k == "multipleOf" and isinstance(av, int) and isinstance(bv, int) and av > 0 and bv > 0:
            out[k] = av * bv // math.gcd(av, bv)
        elif k == "uniqueItems":
            out[k] = av is True or bv is True
        elif k == "items" and not isinstance(av, list) and not isinstance(bv, list):
            out[k] = _conj(av, bv)
        elif k == "enum" and isinstance(av, list) and isinstance(bv, list):
            common = [x for x in av if any(_eq(x, y) for y in bv)]
            if not common:
                raise SchemaError(
                    "enum",
                    _ptr(path, "enum"),
                    f"allOf combines enums with no value in common: {_show(av)} and {_show(bv)}",
                )
            out[k] = common
        elif k == "const":
            if not _eq(av, bv):
                raise SchemaError(
                    "const", _ptr(path, "const"), f"allOf requires const {_show(av)} and const {_show(bv)} at once"
                )
        elif k == "dependentRequired" and isinstance(av, dict) and isinstance(bv, dict):
            out[k] = {**av, **{d: list(dict.fromkeys([*av.get(d, []), *v])) for d, v in bv.items()}}
        elif k in (_ALSO, _NOT):
            out[k] = [*av, *bv]
        elif not _eq(av, bv):
            also.append({k: bv})
    if also:
        out[_ALSO] = [*out.get(_ALSO, ()), *also]
    if any(k in s for s in (a, b) for k in ("properties", "patternProperties", "additionalProperties")):
        _merge_objects(a, b, out)
    return out


def _merge_objects(a: dict[str, Any], b: dict[str, Any], out: dict[str, Any]) -> None:
    # additionalProperties of one side constrains the properties only the other side names.
    sides = []
    for s in (a, b):
        props = _table(s, "properties")
        pats = _table(s, "patternProperties")
        sides.append((props, pats, s.get("additionalProperties", True)))
    names = list(dict.fromkeys([*sides[0][0], *sides[1][0]]))
    merged: dict[str, Any] = {}
    for n in names:
        parts: list[Any] = []
        for props, pats, addl in sides:
            if n in props:
                parts.append(props[n])
            else:
                matched = [sub for pat, sub in pats.items() if _search(pat, n)]
                parts.extend(matched if matched else [addl])
        merged[n] = _conj_all(parts)
    if merged:
        out["properties"] = merged
    patterns = dict(sides[0][1])
    for pat, sub in sides[1][1].items():
        patterns[pat] = _conj(patterns[pat], sub) if pat in patterns else sub
    if patterns:
        out["patternProperties"] = patterns
    addl = _conj(sides[0][2], sides[1][2])
    if addl is True:
        out.pop("additionalProperties", None)
    else:
        out["additionalProperties"] = addl


# --------------------------------------------------------------------------------------------
# Validation (stdlib): decides oneOf / not / if, filters enums, checks merged results


class _Validator:
    """A small JSON Schema validator for the keywords this module generates, with jsonschema's semantics."""

    __slots__ = ("_depth", "_resolve")

    def __init__(self, resolve: Callable[[str, str], tuple[Any, str]]) -> None:
        self._resolve = resolve
        self._depth = 0

    def ok(self, x: Any, s: Any) -> bool:
        return self.first(x, s, "#") is None

    def first(self, x: Any, s: Any, path: str) -> tuple[str, str] | None:
        """The first (keyword, schema path) that ``x`` violates, or None."""
        if s is True or not isinstance(s, dict):
            return None if s is not False else ("false", path)
        for kw, arg in s.items():
            check = _CHECKS.get(kw)
            if check is not None:
                err = check(self, x, arg, s, path)
                if err is not None:
                    return err
        return None

    def ref(self, x: Any, ref: Any, path: str) -> tuple[str, str] | None:
        self._depth += 1
        try:
            if self._depth > 400:
                return ("$ref", path)
            target, tpath = self._resolve(ref, path)
            return self.first(x, target, tpath)
        finally:
            self._depth -= 1


_Check = Callable[[_Validator, Any, Any, dict[str, Any], str], "tuple[str, str] | None"]


def _err(kw: str, path: str) -> tuple[str, str]:
    return (kw, _ptr(path, kw))


def _v_type(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    types = arg if isinstance(arg, list) else [arg]
    return None if any(_has_type(x, t) for t in types) else _err("type", path)


def _v_enum(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return None if isinstance(arg, list) and any(_eq(x, e) for e in arg) else _err("enum", path)


def _v_const(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return None if _eq(x, arg) else _err("const", path)


def _v_multiple(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not _is_num(x) or not _is_num(arg) or arg <= 0:
        return None
    return None if _multiple_ok(x, arg) else _err("multipleOf", path)


def _v_minimum(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if _is_num(x) and _is_num(arg) and (x < arg or (x == arg and s.get("exclusiveMinimum") is True)):
        return _err("minimum", path)
    return None


def _v_maximum(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if _is_num(x) and _is_num(arg) and (x > arg or (x == arg and s.get("exclusiveMaximum") is True)):
        return _err("maximum", path)
    return None


def _v_xmin(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("exclusiveMinimum", path) if _is_num(x) and _is_num(arg) and x <= arg else None


def _v_xmax(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("exclusiveMaximum", path) if _is_num(x) and _is_num(arg) and x >= arg else None


def _v_min_length(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("minLength", path) if isinstance(x, str) and _is_num(arg) and len(x) < arg else None


def _v_max_length(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("maxLength", path) if isinstance(x, str) and _is_num(arg) and len(x) > arg else None


def _v_pattern(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("pattern", path) if isinstance(x, str) and not _search(arg, x) else None


def _v_format(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    check = _FORMAT_OK.get(arg) if isinstance(arg, str) else None
    return _err("format", path) if isinstance(x, str) and check is not None and not check(x) else None


def _v_items(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(x, list):
        return None
    if isinstance(arg, list):
        pairs: Iterator[tuple[int, Any, Any]] = ((i, x[i], arg[i]) for i in range(min(len(x), len(arg))))
        return next((e for i, item, sub in pairs if (e := v.first(item, sub, _ptr(path, "items", i)))), None)
    prefix = s.get("prefixItems")
    start = len(prefix) if isinstance(prefix, list) else 0
    return next((e for item in x[start:] if (e := v.first(item, arg, _ptr(path, "items")))), None)


def _v_additional_items(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    items = s.get("items")
    if not isinstance(x, list) or not isinstance(items, list):
        return None
    return next((e for item in x[len(items) :] if (e := v.first(item, arg, _ptr(path, "additionalItems")))), None)


def _v_prefix(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(x, list) or not isinstance(arg, list):
        return None
    pairs = zip(range(len(arg)), x, arg, strict=False)
    return next((e for i, item, sub in pairs if (e := v.first(item, sub, _ptr(path, "prefixItems", i)))), None)


def _v_contains(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(x, list):
        return None
    n = sum(1 for item in x if v.ok(item, arg))
    lo, hi = s.get("minContains", 1), s.get("maxContains")
    if _is_num(lo) and n < lo:
        return _err("contains", path)
    return _err("maxContains", path) if hi is not None and _is_num(hi) and n > hi else None


def _v_min_items(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("minItems", path) if isinstance(x, list) and _is_num(arg) and len(x) < arg else None


def _v_max_items(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("maxItems", path) if isinstance(x, list) and _is_num(arg) and len(x) > arg else None


def _v_unique(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if arg is not True or not isinstance(x, list):
        return None
    seen: set[Any] = set()
    for item in x:
        k = _key(item)
        if k in seen:
            return _err("uniqueItems", path)
        seen.add(k)
    return None


def _v_properties(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(x, dict) or not isinstance(arg, dict):
        return None
    return next(
        (e for k, sub in arg.items() if k in x and (e := v.first(x[k], sub, _ptr(path, "properties", k)))), None
    )


def _v_pattern_props(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(x, dict) or not isinstance(arg, dict):
        return None
    for pat, sub in arg.items():
        for k in x:
            if _search(pat, k) and (e := v.first(x[k], sub, _ptr(path, "patternProperties", pat))):
                return e
    return None


def _v_additional(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(x, dict):
        return None
    props = _table(s, "properties")
    pats = _table(s, "patternProperties")
    for k in x:
        if k not in props and not any(_search(p, k) for p in pats):
            e = v.first(x[k], arg, _ptr(path, "additionalProperties"))
            if e is not None:
                return ("additionalProperties", e[1]) if arg is False else e
    return None


def _v_required(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if isinstance(x, dict) and isinstance(arg, list) and not all(k in x for k in arg):
        return _err("required", path)
    return None


def _v_min_props(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("minProperties", path) if isinstance(x, dict) and _is_num(arg) and len(x) < arg else None


def _v_max_props(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("maxProperties", path) if isinstance(x, dict) and _is_num(arg) and len(x) > arg else None


def _v_dependent(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(x, dict) or not isinstance(arg, dict):
        return None
    for k, dep in arg.items():
        if k not in x:
            continue
        if isinstance(dep, list):
            if not all(d in x for d in dep):
                return _err("dependentRequired", path)
        elif (e := v.first(x, dep, _ptr(path, "dependentSchemas", k))) is not None:
            return e
    return None


def _v_names(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(x, dict):
        return None
    return _err("propertyNames", path) if any(not v.ok(k, arg) for k in x) else None


def _v_all(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    if not isinstance(arg, list):
        return None
    return next((e for i, sub in enumerate(arg) if (e := v.first(x, sub, _ptr(path, "allOf", i)))), None)


def _v_any(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return None if isinstance(arg, list) and any(v.ok(x, sub) for sub in arg) else _err("anyOf", path)


def _v_one(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return None if isinstance(arg, list) and sum(1 for sub in arg if v.ok(x, sub)) == 1 else _err("oneOf", path)


def _v_not(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return _err("not", path) if v.ok(x, arg) else None


def _v_nots(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return ("not", _ptr(path, "not")) if any(v.ok(x, sub) for sub in arg) else None


def _v_if(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    branch = "then" if v.ok(x, arg) else "else"
    return v.first(x, s[branch], _ptr(path, branch)) if branch in s else None


def _v_ref(v: _Validator, x: Any, arg: Any, s: dict[str, Any], path: str) -> tuple[str, str] | None:
    return v.ref(x, arg, path)


_CHECKS: dict[str, _Check] = {
    "$ref": _v_ref,
    "type": _v_type,
    "enum": _v_enum,
    "const": _v_const,
    "multipleOf": _v_multiple,
    "minimum": _v_minimum,
    "maximum": _v_maximum,
    "exclusiveMinimum": _v_xmin,
    "exclusiveMaximum": _v_xmax,
    "minLength": _v_min_length,
    "maxLength": _v_max_length,
    "pattern": _v_pattern,
    "format": _v_format,
    "items": _v_items,
    "additionalItems": _v_additional_items,
    "prefixItems": _v_prefix,
    "contains": _v_contains,
    "minItems": _v_min_items,
    "maxItems": _v_max_items,
    "uniqueItems": _v_unique,
    "properties": _v_properties,
    "patternProperties": _v_pattern_props,
    "additionalProperties": _v_additional,
    "required": _v_required,
    "minProperties": _v_min_props,
    "maxProperties": _v_max_props,
    "dependentRequired": _v_dependent,
    "dependentSchemas": _v_dependent,
    "dependencies": _v_dependent,
    "propertyNames": _v_names,
    "allOf": _v_all,
    _ALSO: _v_all,
    "anyOf": _v_any,
    "oneOf": _v_one,
    "not": _v_not,
    _NOT: _v_nots,
    "if": _v_if,
}


# --------------------------------------------------------------------------------------------
# Regular expressions: strings from the parse tree


class _Unsupported(Exception):
    pass


_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ALNUM = _LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PRINTABLE = _ALNUM + " -_.,:;/@#+=!?*()[]{}<>|&%$'\"~^`\\"
_CATEGORY_POOLS = {
    "CATEGORY_DIGIT": "0123456789",
    "CATEGORY_NOT_DIGIT": _LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": _ALNUM,
    "CATEGORY_WORD": _ALNUM + "_",
    "CATEGORY_NOT_WORD": " -.,:/",
    "CATEGORY_LINEBREAK": "\n",
    "CATEGORY_NOT_LINEBREAK": _ALNUM,
}


def _cat_has(cat: Any, ch: str) -> bool:
    name = getattr(cat, "name", str(cat))
    negated = "_NOT_" in name
    if "DIGIT" in name:
        hit = ch.isdecimal()
    elif "SPACE" in name:
        hit = ch.isspace()
    elif "WORD" in name:
        hit = ch.isalnum() or ch == "_"
    else:
        hit = ch == "\n"
    return hit != negated


def _in_class(items: Any, ch: str) -> bool:
    o = ord(ch)
    for op, av in items:
        if (op is _sre.LITERAL and av == o) or (op is _sre.RANGE and av[0] <= o <= av[1]):
            return True
        if op is _sre.CATEGORY and _cat_has(av, ch):
            return True
    return False


def _accepts(node: tuple[Any, Any], ch: str) -> bool:
    op, av = node
    if op is _sre.ANY:
        return ch != "\n"
    if op is _sre.IN:
        if av and av[0][0] is _sre.NEGATE:
            return not _in_class(av[1:], ch)
        return _in_class(av, ch)
    return False


class _RegexGen:
    """One string from a parse tree.  ``mode``: "random", "short" (fewest repeats) or "long" (add ``want`` chars)."""

    __slots__ = ("groups", "mode", "rng", "want")

    def __init__(self, rng: random.Random, mode: str = "random", want: int = 0) -> None:
        self.rng = rng
        self.mode = mode
        self.want = want
        self.groups: dict[int, str] = {}

    def run(self, tree: Any) -> str:
        out: list[str] = []
        self.seq(tree, out)
        return "".join(out)

    def seq(self, items: Any, out: list[str]) -> None:
        data = items.data if hasattr(items, "data") else items
        i = 0
        while i < len(data):
            if i + 1 < len(data) and self.mode == "random" and self.capitalized(data[i], data[i + 1], out):
                i += 2  # "[A-Z][a-z]+" as one capitalized word
                continue
            op, av = data[i]
            self.node(op, av, out)
            i += 1

    def capitalized(self, head: Any, tail: Any, out: list[str]) -> bool:
        if head[0] is not _sre.IN or tail[0] not in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) or len(tail[1][2]) != 1:
            return False
        body = tail[1][2][0]
        if not (_accepts(head, "A") and _accepts(body, "a")) or self.rng.random() >= 0.85:
            return False
        lo, hi = tail[1][0], tail[1][1]
        top = lo + 7 if hi >= _sre.MAXREPEAT else hi
        for _ in range(8):
            w = self.rng.choice(_WORDS)
            if lo <= len(w) - 1 <= top and _accepts(head, w[0].upper()) and all(_accepts(body, c) for c in w[1:]):
                out.append(w.capitalize())
                return True
        return False

    def node(self, op: Any, av: Any, out: list[str]) -> None:
        if op is _sre.LITERAL:
            out.append(chr(av))
        elif op is _sre.IN:
            out.append(self.klass(av))
        elif op is _sre.MAX_REPEAT or op is _sre.MIN_REPEAT or op is _POSSESSIVE:
            self.repeat(av, out)
        elif op is _sre.SUBPATTERN:
            inner: list[str] = []
            self.seq(av[-1], inner)
            text = "".join(inner)
            out.append(text)
            if av[0] is not None:
                self.groups[av[0]] = text
        elif op is _sre.BRANCH:
            self.seq(self.alternative(av[1]), out)
        elif op is _sre.ANY:
            out.append(self.rng.choice(_ALNUM))
        elif op is _sre.NOT_LITERAL:
            out.append(self.rng.choice([c for c in _ALNUM if ord(c) != av]))
        elif op is _sre.AT or op is _sre.ASSERT or op is _sre.ASSERT_NOT:
            pass  # anchors and lookarounds produce nothing: the result is checked with re.search
        elif op is _sre.GROUPREF:
            out.append(self.groups.get(av, ""))
        elif op is _sre.GROUPREF_EXISTS:
            self.seq(av[1] if av[0] in self.groups else (av[2] or ()), out)
        elif op is _ATOMIC:
            self.seq(av, out)
        elif op is _sre.CATEGORY:
            out.append(self.rng.choice(_CATEGORY_POOLS.get(getattr(av, "name", ""), _ALNUM)))
        else:
            raise _Unsupported(str(op))

    def alternative(self, alts: Any) -> Any:
        if self.mode == "short":
            return min(alts, key=lambda a: a.getwidth()[0])
        return self.rng.choice(alts)

    def klass(self, items: Any) -> str:
        if items and items[0][0] is _sre.NEGATE:
            pool = [c for c in _PRINTABLE if not _in_class(items[1:], c)]
            if not pool:
                raise _Unsupported("a negated class that excludes every printable character")
            return self.rng.choice(pool)
        op, av = items[self.rng.randrange(len(items))] if len(items) > 1 else items[0]
        if op is _sre.LITERAL:
            return chr(av)
        if op is _sre.RANGE:
            lo, hi = av
            if hi - lo > 94 and lo <= 0x7A and hi >= 0x30:  # a huge range: stay readable
                lo, hi = max(lo, 0x30), min(hi, 0x7A)
            return chr(self.rng.randint(lo, hi))
        if op is _sre.CATEGORY:
            return self.rng.choice(_CATEGORY_POOLS.get(getattr(av, "name", ""), _ALNUM))
        raise _Unsupported(str(op))

    def repeat(self, av: Any, out: list[str]) -> None:
        lo, hi, sub = av
        span = None if hi >= _sre.MAXREPEAT else hi - lo
        if self.mode == "short":
            n = lo
        elif self.mode == "long" and self.want > 0:
            width = max(1, sub.getwidth()[0])
            extra = -(-self.want // width)
            if span is not None:
                extra = min(extra, span)
            self.want -= extra * width
            n = lo + extra
        else:
            single = len(sub) == 1 and sub[0][0] in (_sre.IN, _sre.ANY)
            cap = (7 if single else 2) if span is None else span  # "(-[a-z]+)*": a few parts, not dozens
            if single and self.rng.random() < 0.85:
                word = self.word(sub[0], max(lo, 1), lo + cap)
                if word is not None:
                    out.append(word)
                    return
            n = lo + self.rng.randint(0, cap)
        for _ in range(n):
            self.seq(sub, out)

    def word(self, node: tuple[Any, Any], lo: int, hi: int) -> str | None:
        """A real word where a run of letters is wanted: ``[a-z]+`` gives "harbor", not "qxkw"."""
        if _accepts(node, "a"):
            case: Callable[[str], str] = str.lower
        elif _accepts(node, "A"):
            case = str.upper
        else:
            return None
        for _ in range(8):
            w = case(self.rng.choice(_WORDS))
            if lo <= len(w) <= hi and all(_accepts(node, c) for c in w):
                return w
        return None


# --------------------------------------------------------------------------------------------
# Ranks: how many $ref expansions, at least, until a finished value


def _children(s: Any) -> Iterator[Any]:
    if not isinstance(s, dict):
        return
    for key in ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions"):
        table = s.get(key)
        if isinstance(table, dict):
            yield from table.values()
    for key in ("allOf", "anyOf", "oneOf", "prefixItems", _ALSO, _NOT):
        seq = s.get(key)
        if isinstance(seq, list):
            yield from seq
    for key in (
        "additionalProperties",
        "items",
        "additionalItems",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    ):
        sub = s.get(key)
        if isinstance(sub, list):
            yield from sub
        elif sub is not None:
            yield sub


class _Ranks:
    """Least fixed point of rank(ref) = 1 + rank(target): inf means no finite value exists.

    Read-only once built, so one instance serves every generation from the same schema.
    """

    def __init__(self, gen: _Gen) -> None:
        self.ref: dict[str, float] = {}
        self.order: list[str] = []
        stack: list[Any] = [gen.root]
        while stack:
            s = stack.pop()
            ref = s.get("$ref") if isinstance(s, dict) else None
            if isinstance(ref, str) and ref not in self.ref:
                self.ref[ref] = _INF
                self.order.append(ref)
                with contextlib.suppress(SchemaError):  # reported by whoever follows it
                    stack.append(gen.resolve(ref, "#")[0])
            stack.extend(_children(s))
        targets: dict[str, Any] = {}
        for r in self.order:
            try:
                targets[r] = gen.resolve(r, "#")[0]
            except SchemaError:
                targets[r] = False
        changed = True
        while changed:
            changed = False
            for r in self.order:
                value = 1 + self.of(targets[r])
                if value < self.ref[r]:
                    self.ref[r] = value
                    changed = True

    def of(self, s: Any) -> float:
        if s is True:
            return 0
        if not isinstance(s, dict):
            return _INF
        rank = 0.0
        ref = s.get("$ref")
        if isinstance(ref, str):
            rank = self.ref.get(ref, _INF)
        for sub in [*(s.get("allOf") or ()), *(s.get(_ALSO) or ())]:
            rank = max(rank, self.of(sub))
        for kind in ("anyOf", "oneOf"):
            branches = s.get(kind)
            if isinstance(branches, list):
                rank = max(rank, min((self.of(b) for b in branches), default=_INF))
        if "const" in s or "enum" in s:
            return rank
        try:
            types = _types(s, "#")
        except SchemaError:
            return _INF
        return max(rank, min(self.of_type(t, s) for t in types))

    def of_type(self, t: str, s: dict[str, Any]) -> float:
        if t == "object":
            props = _table(s, "properties")
            required = _seq(s, "required")
            addl = s.get("additionalProperties", True)
            return max((self.of(props.get(k, addl)) for k in required if isinstance(k, str)), default=0)
        if t == "array":
            lo = s.get("minItems") or 0
            if not isinstance(lo, int) or lo <= 0:
                return 0
            prefix = _seq(s, "prefixItems")
            items = s.get("items", True)
            if isinstance(items, list):
                prefix, items = items, s.get("additionalItems", True)
            needed = [prefix[i] if i < len(prefix) else items for i in range(min(lo, len(prefix) + 1))]
            return max(self.of(sub) for sub in needed)
        return 0


# --------------------------------------------------------------------------------------------
# The generator


@functools.lru_cache(maxsize=128)
def _ranks_for(text: str) -> _Ranks:
    """Ranks of a schema given as canonical JSON: a pure function, so memoized (recursive schemas repeat)."""
    root = json.loads(text)
    return _Ranks(_Gen(root, random.Random(0)))


def _weighted_order(rng: random.Random, weights: list[float]) -> list[int]:
    """Indices in a random order where heavier ones tend to come first."""
    left = list(range(len(weights)))
    out: list[int] = []
    while left:
        total = sum(weights[i] for i in left)
        pick = rng.random() * total
        for pos, i in enumerate(left):
            pick -= weights[i]
            if pick <= 0 or pos == len(left) - 1:
                out.append(left.pop(pos))
                break
    return out


def _is_null_schema(s: Any) -> bool:
    return isinstance(s, dict) and (s.get("type") == "null" or ("const" in s and s["const"] is None))


_Flat = tuple[dict[str, Any], list[tuple[str, list[Any], str]], list[tuple[Any, Any, Any, str]], list[str], int, str]


class _Gen:
    """One generation: the schema, the random source and the recursion state."""

    def __init__(self, root: Any, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.resolved: dict[str, tuple[Any, str]] = {}
        self.active: dict[str, int] = {}  # $ref -> expansions on the current path
        self.pressure = 0  # re-entries of a $ref already being expanded, on the current path
        self.nesting = 0
        self.budget = _BUDGET
        self.validator = _Validator(self.resolve)
        self._ranks: _Ranks | None = None

    # -- references and recursion

    def resolve(self, ref: Any, path: str) -> tuple[Any, str]:
        if isinstance(ref, str):
            hit = self.resolved.get(ref)
            if hit is not None:
                return hit
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaError(
                "$ref",
                _ptr(path, "$ref"),
                f"only references inside the schema are supported ('#', '#/$defs/Name'), not {_show(ref)}; "
                "inline the referenced schema or move it under $defs",
            )
        node: Any = self.root
        fragment = ref[1:]
        if fragment and not fragment.startswith("/"):
            raise SchemaError(
                "$ref", _ptr(path, "$ref"), f"{_show(ref)}: $anchor references are not supported; use '#/$defs/Name'"
            )
        for raw in fragment.split("/")[1:]:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(
                    "$ref",
                    _ptr(path, "$ref"),
                    f"{_show(ref)} points at nothing (no {_show(part)} there); "
                    "define it under $defs or fix the reference",
                )
        if not isinstance(node, (dict, bool)):
            raise SchemaError(
                "$ref", _ptr(path, "$ref"), f"{_show(ref)} points at {_show(node)}, which is not a schema"
            )
        hit = (node, ref)
        self.resolved[ref] = hit
        return hit

    @property
    def ranks(self) -> _Ranks:
        if self._ranks is None:
            try:
                text = json.dumps(self.root, sort_keys=True, ensure_ascii=False)
            except (TypeError, ValueError):
                self._ranks = _Ranks(self)
            else:
                self._ranks = _ranks_for(text)
        return self._ranks

    @property
    def terminating(self) -> bool:
        return self.pressure >= _SOFT_PRESSURE

    def enter(self, ref: str, path: str) -> None:
        count = self.active.get(ref, 0)
        if count:
            if self.pressure + 1 >= _SOFT_PRESSURE and self.ranks.ref.get(ref, _INF) == _INF:
                raise SchemaError(
                    "$ref",
                    ref,
                    f"{_show(ref)} requires itself with no way to stop, so every value would be infinitely deep; "
                    "make the recursive property optional, allow null (anyOf with {'type': 'null'}) "
                    "or let the array be empty",
                )
            if self.pressure >= _HARD_PRESSURE:
                raise SchemaError("$ref", ref, f"recursion through {_show(ref)} does not end")
            self.pressure += 1
        self.active[ref] = count + 1

    def leave(self, refs: list[str]) -> None:
        for ref in reversed(refs):
            count = self.active[ref] - 1
            if count:
                self.pressure -= 1
                self.active[ref] = count
            else:
                del self.active[ref]

    def spend(self, keyword: str, path: str) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise SchemaError(
                keyword,
                path,
                f"gave up after {_BUDGET} attempts to satisfy {keyword} together with the rest of the schema; "
                "simplify the schema (not/oneOf/if/pattern combinations are solved by trial)",
            )

    # -- dispatch

    def gen(self, s: Any, path: str, name: str) -> Any:
        if s is True:
            return self.anything({}, path, name)
        if s is False:
            raise SchemaError("false", path, "this schema is `false`, so no value is valid here")
        if not isinstance(s, dict):
            raise _not_a_schema(s, path)
        self.nesting += 1
        try:
            if self.nesting > _MAX_NESTING:
                keyword = (
                    "$ref"
                    if self.active
                    else next(
                        (p for p in reversed(path.split("/")) if p in ("properties", "items", "prefixItems")), "type"
                    )
                )
                raise SchemaError(keyword, path, f"values here would nest deeper than {_MAX_NESTING} levels")
            if _COMPOSITE.isdisjoint(s.keys()):
                return self.plain(s, path, name)
            return self.composite(s, path, name)
        finally:
            self.nesting -= 1

    def flatten(self, s: Any, path: str) -> _Flat:
        """Merge $ref targets and allOf into one base schema; collect the unions and conditions left."""
        base: dict[str, Any] = {}
        groups: list[tuple[str, list[Any], str]] = []
        conds: list[tuple[Any, Any, Any, str]] = []
        refs: list[str] = []
        parts = 0
        base_path = path

        def visit(node: Any, npath: str) -> None:
            nonlocal base, parts, base_path
            if node is True:
                return
            if node is False:
                raise SchemaError("false", npath, "this schema is `false`, so no value is valid here")
            if not isinstance(node, dict):
                raise _not_a_schema(node, npath)
            for kw in _UNSUPPORTED:
                if kw in node:
                    raise SchemaError(kw, _ptr(npath, kw), f"{kw} is not supported; use $ref to '#/$defs/Name'")
            own = {k: v for k, v in node.items() if k not in _COMPOSITE}
            if own:
                if not _ANNOTATIONS.issuperset(own):
                    parts += 1
                    if parts == 1:
                        base_path = npath
                base = _merge(base, own, npath)
            if "$ref" in node:
                ref = node["$ref"]
                target, tpath = self.resolve(ref, npath)
                if ref not in refs:  # A and A is A: a cycle through allOf adds nothing
                    self.enter(ref, npath)
                    refs.append(ref)
                    visit(target, tpath)
            for i, sub in enumerate(_list(node, "allOf", npath)):
                visit(sub, _ptr(npath, "allOf", i))
            for sub in node.get(_ALSO, ()):
                visit(sub, npath)
            for kind in ("anyOf", "oneOf"):
                if kind in node:
                    groups.append((kind, _list(node, kind, npath), _ptr(npath, kind)))
            if "not" in node:
                base = {**base, _NOT: [*base.get(_NOT, ()), node["not"]]}
                parts += 1
            if "if" in node:
                conds.append((node["if"], node.get("then", True), node.get("else", True), npath))

        try:
            visit(s, path)
        except BaseException:
            self.leave(refs)
            raise
        return base, groups, conds, refs, parts, base_path

    def composite(self, s: dict[str, Any], path: str, name: str) -> Any:
        base, groups, conds, refs, parts, base_path = self.flatten(s, path)
        try:
            check = parts > 1 or bool(conds)
            err: tuple[str, str] | None = None
            for _ in range(_NODE_TRIES if check else 1):
                value = self.choose(base, groups, conds, base_path, name)
                if not check:
                    return value
                err = self.validator.first(value, s, path)
                if err is None:
                    return value
                self.spend(err[0], err[1])
            assert err is not None
            raise _giveup(err)
        finally:
            self.leave(refs)

    def choose(
        self,
        base: dict[str, Any],
        groups: list[tuple[str, list[Any], str]],
        conds: list[tuple[Any, Any, Any, str]],
        path: str,
        name: str,
    ) -> Any:
        """Pick a case of each condition and a branch of each union, then generate from the merge."""
        if conds:
            cond, then, other, cpath = conds[0]
            first_err: SchemaError | None = None
            for use_then in (True, False) if self.rng.random() < 0.5 else (False, True):
                extra = {"allOf": [cond, then]} if use_then else other
                try:
                    return self.with_part(base, extra, cpath, groups, conds[1:], path, name)
                except SchemaError as exc:
                    first_err = first_err or exc
                    self.spend("if", cpath)
            assert first_err is not None
            raise first_err
        if groups:
            kind, branches, gpath = groups[0]
            first_err = None
            overlap = False
            for i in self.branch_order(branches):
                for _ in range(3 if kind == "oneOf" else 1):
                    try:
                        value = self.with_part(base, branches[i], _ptr(gpath, i), groups[1:], [], path, name)
                    except SchemaError as exc:
                        first_err = first_err or exc
                        self.spend(kind, gpath)
                        break
                    others = (j for j in range(len(branches)) if j != i)
                    if kind == "anyOf" or not any(self.validator.ok(value, branches[j]) for j in others):
                        return value
                    overlap = True
                    self.spend(kind, gpath)
            if overlap or first_err is None:
                raise SchemaError(
                    kind,
                    gpath,
                    "every value tried matched more than one oneOf branch; make the branches mutually exclusive "
                    "(for example a property with a different const in each) or use anyOf",
                )
            if len(branches) > 1:
                raise SchemaError(
                    first_err.keyword,
                    first_err.path,
                    f"no {kind} branch can be satisfied; the first fails with: {first_err.message}",
                )
            raise first_err
        return self.plain(base, path, name)

    def with_part(
        self,
        base: dict[str, Any],
        part: Any,
        ppath: str,
        groups: list[tuple[str, list[Any], str]],
        conds: list[tuple[Any, Any, Any, str]],
        path: str,
        name: str,
    ) -> Any:
        pbase, pgroups, pconds, refs, _, _ = self.flatten(part, ppath)
        try:
            merged = _merge(base, pbase, path)
            return self.choose(merged, groups + pgroups, conds + pconds, path, name)
        finally:
            self.leave(refs)

    def branch_order(self, branches: list[Any]) -> list[int]:
        if len(branches) == 1:
            return [0]
        if self.terminating:
            ranks = [self.ranks.of(b) for b in branches]
            return sorted(range(len(branches)), key=lambda i: ranks[i])
        weights = [0.2 if _is_null_schema(b) else 1.0 for b in branches]
        if self.pressure:
            weights = [w * 0.4 ** min(self.ranks.of(b), 4) for w, b in zip(weights, branches, strict=True)]
        return _weighted_order(self.rng, weights)

    # -- one flat schema

    def plain(self, s: dict[str, Any], path: str, name: str) -> Any:
        if _POST.isdisjoint(s.keys()):
            return self.plain_once(s, path, name)
        err: tuple[str, str] | None = None
        for attempt in range(_NODE_TRIES):
            # later tries forget the name-based plausible range, which may be what 'not' excludes
            value = self.plain_once(s, path, name if attempt < _NODE_TRIES // 2 else "")
            err = self.validator.first(value, s, path)
            if err is None:
                return value
            self.spend(err[0], err[1])
        assert err is not None
        raise _giveup(err)

    def plain_once(self, s: dict[str, Any], path: str, name: str) -> Any:
        if "const" in s:
            value = s["const"]
            rest = {k: v for k, v in s.items() if k != "const" and k not in _ANNOTATIONS}
            if rest and (err := self.validator.first(value, rest, path)) is not None:
                raise _const_error(value, err, path)
            return _copy(value)
        if "enum" in s:
            values = s["enum"]
            if not isinstance(values, list) or not values:
                raise SchemaError("enum", _ptr(path, "enum"), "enum must be a non-empty array")
            rest = {k: v for k, v in s.items() if k != "enum" and k not in _ANNOTATIONS}
            fits = [v for v in values if self.validator.ok(v, rest)] if rest else values
            if not fits:
                raise SchemaError(
                    "enum",
                    _ptr(path, "enum"),
                    f"no enum value satisfies the other keywords here ({', '.join(k for k in rest if k[0] != _NOT[0])})"
                    "; make at least one value valid",
                )
            return _copy(self.rng.choice(fits))
        types = _types(s, path)
        if len(types) == 1:
            return self.typed(types[0], s, path, name)
        first_err: SchemaError | None = None
        for t in self.type_order(types, s):
            try:
                return self.typed(t, s, path, name)
            except SchemaError as exc:
                first_err = first_err or exc
        assert first_err is not None
        raise first_err

    def type_order(self, types: list[str], s: dict[str, Any]) -> list[str]:
        if self.terminating:
            return sorted(types, key=lambda t: self.ranks.of_type(t, s))
        weights = [0.15 if t == "null" else 1.0 for t in types]
        if self.pressure:
            weights = [w * 0.4 ** min(self.ranks.of_type(t, s), 4) for w, t in zip(weights, types, strict=True)]
        return [types[i] for i in _weighted_order(self.rng, weights)]

    def typed(self, t: str, s: dict[str, Any], path: str, name: str) -> Any:
        if t == "string":
            return self.string(s, path, name)
        if t == "object":
            return self.obj(s, path, name)
        if t == "integer":
            return self.integer(s, path, name)
        if t == "number":
            return self.number(s, path, name)
        if t == "array":
            return self.array(s, path, name)
        if t == "boolean":
            return self.rng.random() < 0.5
        if t == "null":
            return None
        return self.anything(s, path, name)

    def anything(self, s: dict[str, Any], path: str, name: str) -> Any:
        """A value for a schema that does not restrict the type: what the name suggests."""
        excluded: list[str] = []
        for sub in s.get(_NOT, ()):
            if isinstance(sub, dict) and set(sub) <= {"type"} | _ANNOTATIONS and "type" in sub:
                t = sub["type"]
                excluded.extend(t if isinstance(t, list) else [t])
        if "integer" in excluded and "number" not in excluded:
            excluded.append("integer")
        low, high, _, integral = _number_hint(name)
        hinted = (low, high) != (1, 100)
        prefer = ("integer" if integral else "number") if hinted else "string"
        for t in (prefer, "string", "integer", "boolean", "null", "number", "object", "array"):
            if t not in excluded and not (t == "integer" and "number" in excluded):
                return self.typed(t, {}, path, name)
        raise SchemaError("not", _ptr(path, "not"), "'not' excludes every type")

    # -- strings

    def string(self, s: dict[str, Any], path: str, name: str) -> str:
        lo, hi = _length_plan(s, path)
        fmt = s.get("format")
        fmt = fmt if isinstance(fmt, str) and fmt in _FORMAT_GEN else None
        if "pattern" in s:
            return self.patterned(s["pattern"], lo, hi, fmt, path, name)
        if fmt is not None:
            return self.formatted(fmt, lo, hi, path, name)
        make = _TEXT[_string_kind(name)]
        text = make(self.rng, name)
        for _ in range(4):  # a shorter (or longer) natural value beats a cut one: "Ada Liskov", not "Margar"
            if lo <= len(text) and (hi is None or len(text) <= hi):
                return text
            text = make(self.rng, name)
        return _fit(text, lo, hi, self.rng)

    def formatted(self, fmt: str, lo: int, hi: int | None, path: str, name: str) -> str:
        value = ""
        for _ in range(8):
            value = _FORMAT_GEN[fmt](self.rng, name)
            if lo <= len(value) and (hi is None or len(value) <= hi):
                return value
        keyword = "minLength" if len(value) < lo else "maxLength"
        raise SchemaError(
            keyword,
            _ptr(path, keyword),
            f"format {fmt} values are about {len(value)} characters (e.g. {_show(value)}) but the length must be "
            f"{_span(lo, hi)}; widen minLength/maxLength or drop the format",
        )

    def patterned(self, pattern: Any, lo: int, hi: int | None, fmt: str | None, path: str, name: str) -> str:
        where = _ptr(path, "pattern")
        r = _checked_regex(pattern, where)
        top = _INF if hi is None else hi
        _pattern_fits(r, pattern, lo, hi, where)
        compiled = r.compiled
        assert compiled is not None
        check = _FORMAT_OK.get(fmt) if fmt is not None else None

        def ok(v: str) -> bool:
            return lo <= len(v) <= top and compiled.search(v) is not None and (check is None or check(v))

        # A value that reads naturally wins if it happens to match: "Ada Lovelace" for ^[A-Za-z ]+$.
        # With a format, only such a value is likely to be valid at all: give it a few chances.
        for _ in range(8 if fmt else 1):
            natural = _FORMAT_GEN[fmt](self.rng, name) if fmt else _TEXT[_string_kind(name)](self.rng, name)
            if ok(natural):
                return natural
        mode, want = "random", 0
        for _ in range(_PATTERN_TRIES):
            try:
                value = _RegexGen(self.rng, mode, want).run(r.tree)
            except _Unsupported as exc:
                raise SchemaError(
                    "pattern", where, f"pattern {_show(pattern)} uses {exc}, which the generator cannot produce"
                ) from None
            if ok(value):
                return value
            if len(value) > top:
                mode = "short"
            elif len(value) < lo:
                padded = self.pad(value, r, lo, hi)
                if ok(padded):
                    return padded
                slack = 4 if hi is None else max(0, min(4, hi - lo))
                mode, want = "long", lo - r.min_width + self.rng.randint(0, slack)
            else:
                mode = "random"
            self.spend("pattern", where)
        length = f" with {_span(lo, hi)} characters" if lo or hi is not None else ""
        extra = f" and format {fmt}" if fmt else ""
        raise SchemaError(
            "pattern",
            where,
            f"could not produce a string matching {_show(pattern)}{length}{extra} in {_PATTERN_TRIES} tries; "
            "check that they can hold together (lookarounds, backreferences and word boundaries are best effort)",
        )

    def pad(self, value: str, r: _Regex, lo: int, hi: int | None) -> str:
        """``value`` lengthened with words where the pattern is not anchored (a match stays a match)."""
        if not r.end:
            return _fit(value + " ", lo, hi, self.rng)
        if not r.start:
            filler = _fit("", lo - len(value), None, self.rng)[: lo - len(value)]
            return filler + value
        return value

    # -- numbers

    def integer(self, s: dict[str, Any], path: str, name: str) -> int:
        ilo, ihi, step, m = _int_plan(s, path)
        a, b, _, _ = _number_hint(name)
        if m is None:
            x, y = _window(ilo, ihi, a, b)
            return self.rng.randint(int(x), int(y))
        klo, khi = _k_range(ilo, False, ihi, False, Fraction(step))
        ka, kb = math.ceil(a / step), math.floor(b / step)
        if ka > kb:
            ka = kb = ka
        x, y = _window(klo, khi, ka, kb)
        for _ in range(12):
            value = int(self.rng.randint(int(x), int(y)) * step)
            if m is None or _multiple_ok(value, m):
                return value
        for k in range(int(x), int(min(y, x + 200)) + 1):  # float multipleOf rounding: search nearby
            if _multiple_ok(k * step, m):
                return int(k * step)
        raise SchemaError(
            "multipleOf", _ptr(path, "multipleOf"), f"no integer near {x * step} is a multiple of {_show(m)}"
        )

    def number(self, s: dict[str, Any], path: str, name: str) -> int | float:
        lo, lo_x, hi, hi_x, m = _num_plan(s, path)
        a, b, decimals, integral = _number_hint(name)

        def inside(v: float) -> bool:
            above = lo is None or v > lo or (v == lo and not lo_x)
            return above and (hi is None or v < hi or (v == hi and not hi_x))

        if m is not None:
            step = _step(m)
            klo, khi = _k_range(lo, lo_x, hi, hi_x, step)
            ka, kb = _ceil_div(Fraction(a), step), math.floor(Fraction(b) / step)
            if ka > kb:
                ka = kb = ka
            x, y = _window(klo, khi, ka, kb)
            for attempt in range(40):
                k = self.rng.randint(int(x), int(y)) if attempt < 20 else int(x) + attempt - 20
                if k > y:
                    break
                exact = k * step
                value: int | float = (
                    int(exact) if exact.denominator == 1 and (integral or isinstance(m, int)) else float(exact)
                )
                if inside(value) and _multiple_ok(value, m):
                    return value
            raise SchemaError(
                "multipleOf", _ptr(path, "multipleOf"), f"no multiple of {_show(m)} found inside the bounds"
            )
        x, y = _window(lo, hi, a, b)
        if x >= y and not inside(x):  # the plausible range touches only an exclusive bound: use the bounds
            x = float(lo) if lo is not None else float(hi) - (b - a)
            y = float(hi) if hi is not None else float(lo) + (b - a)
        if integral:
            ia, ib = math.ceil(x), math.floor(y)
            if ia <= ib:
                v = self.rng.randint(ia, ib)
                if inside(v):
                    return v
        value = round(self.rng.uniform(float(x), float(y)), decimals)
        if inside(value):
            return value
        for candidate in (round((x + y) / 2, decimals), (x + y) / 2):
            if inside(candidate):
                return float(candidate)
        raise SchemaError("minimum", _ptr(path, "minimum"), "no number lies inside the bounds")

    # -- objects

    def obj(self, s: dict[str, Any], path: str, name: str) -> dict[str, Any]:
        props, required, addl, pats, lo, hi, deps, names = _obj_plan(s, path)
        rng = self.rng
        chosen: dict[str, None] = {}  # an ordered set

        def closure(k: str) -> list[str]:
            if not deps:
                return [] if k in chosen else [k]
            group = [k]
            for n in group:
                group.extend(d for d in deps.get(n, ()) if d not in group and d not in chosen)
            return [n for n in group if n not in chosen]

        for k in required:
            if names is not None and not self.validator.ok(k, names):
                raise _names_error(k, path)
            chosen.update(dict.fromkeys(closure(k)))
        must = len(chosen)
        if hi is not None and must > hi:
            raise SchemaError(
                "maxProperties",
                _ptr(path, "maxProperties"),
                f"{must} properties are required (counting dependentRequired) but maxProperties is {hi}",
            )
        optional = [
            k
            for k in props
            if k not in chosen and props[k] is not False and (names is None or self.validator.ok(k, names))
        ]
        chance = 0.0 if self.terminating else 0.75 if not self.pressure else 0.3
        if chance:
            for k in optional:
                if k not in chosen and rng.random() < chance:
                    group = closure(k)
                    if hi is None or len(chosen) + len(group) <= hi:
                        chosen.update(dict.fromkeys(group))
        if len(chosen) < lo:
            ordered = sorted(optional, key=lambda k: self.ranks.of(props[k])) if self.terminating else optional
            for k in ordered:
                if len(chosen) >= lo:
                    break
                group = closure(k)
                if group and (hi is None or len(chosen) + len(group) <= hi):
                    chosen.update(dict.fromkeys(group))
            while len(chosen) < lo:
                extra = self.extra_name(chosen, props, pats, addl, names, path)
                chosen[extra] = None
        out: dict[str, Any] = {}
        for i, k in enumerate(chosen):
            sub, where = _prop_schema(k, props, pats, addl, path)
            if sub is False:
                if i < must:
                    raise _required_error(k, k in props, path)
                continue
            try:
                out[k] = self.gen(sub, where, k)
            except SchemaError:
                if i < must or len(out) + (len(chosen) - i - 1) < lo:
                    raise
                # an optional property that cannot be filled is left out (check_schema reports it)
        return out

    def extra_name(
        self, chosen: dict[str, None], props: dict[str, Any], pats: _Pats, addl: Any, names: Any, path: str
    ) -> str:
        rng = self.rng
        for attempt in range(24):
            if pats and (addl is False or attempt % 2):
                pat, _, _ = pats[rng.randrange(len(pats))]
                try:
                    candidate = self.patterned(pat, 1, 40, None, _ptr(path, "patternProperties", pat), "")
                except SchemaError:
                    continue
            elif addl is not False:
                candidate = rng.choice(_EXTRA_KEYS) + ("" if attempt < 4 else f"_{attempt}")
            else:
                break
            if (
                candidate not in chosen
                and candidate not in props
                and (names is None or self.validator.ok(candidate, names))
            ):
                return candidate
        raise SchemaError(
            "minProperties",
            _ptr(path, "minProperties"),
            f"minProperties asks for {len(chosen) + 1}+ properties but no more names are allowed "
            "(additionalProperties is false and properties/patternProperties offer no more); lower minProperties",
        )

    # -- arrays

    def array(self, s: dict[str, Any], path: str, name: str) -> list[Any]:
        prefix, items, ipath, lo, hi, unique = _array_plan(s, path)
        if items is False:
            hi = len(prefix) if hi is None else min(hi, len(prefix))
        contains = s.get("contains")
        min_contains = _count(s, "minContains", path, 1) if contains is not None else 0
        n = self.length(lo, hi)
        if contains is not None and min_contains:
            if hi is not None and min_contains > hi:
                raise SchemaError(
                    "minContains",
                    _ptr(path, "minContains"),
                    f"minContains ({min_contains}) exceeds the most items allowed ({hi})",
                )
            n = max(n, min_contains or 0)
        hint = _singular(name)
        if unique:
            out = self.unique_items(prefix, items, ipath, path, lo, n, hint)
        else:
            out = []
            for i in range(n):
                sub, where = (prefix[i], _ptr(path, "prefixItems", i)) if i < len(prefix) else (items, ipath)
                try:
                    out.append(self.gen(sub, where, hint))
                except SchemaError:
                    if i < lo:
                        raise
                    break  # an optional item that cannot be made ends the array
        if contains is not None and min_contains:
            have = [i for i, v in enumerate(out) if self.validator.ok(v, contains)]
            missing = [i for i in range(len(out)) if i not in have]
            self.rng.shuffle(missing)
            for i in missing[: max(0, min_contains - len(have))]:
                sub = prefix[i] if i < len(prefix) else items
                out[i] = self.gen(_conj(sub, contains), _ptr(path, "contains"), hint)
        return out

    def length(self, lo: int, hi: int | None) -> int:
        if self.terminating:
            return lo
        a, b = (lo, lo + 1) if self.pressure else (max(lo, 1), max(lo, 1) + 2)
        if hi is not None:
            b = min(b, hi)
            a = min(a, b)
        return self.rng.randint(a, b)

    def unique_items(
        self, prefix: list[Any], items: Any, ipath: str, path: str, lo: int, n: int, hint: str
    ) -> list[Any]:
        if not prefix:
            domain = self.domain(items, ipath, 0)
            if domain is not None:
                if lo > len(domain):
                    raise _unique_error(lo, domain, path)
                return [_copy(v) for v in self.rng.sample(domain, min(n, len(domain)))]
        out: list[Any] = []
        seen: set[Any] = set()
        for i in range(n):
            sub, where = (prefix[i], _ptr(path, "prefixItems", i)) if i < len(prefix) else (items, ipath)
            for _ in range(_UNIQUE_TRIES):
                value = self.gen(sub, where, hint)
                k = _key(value)
                if k not in seen:
                    break
                self.spend("uniqueItems", path)
            else:
                if i >= lo:
                    break
                raise SchemaError(
                    "uniqueItems",
                    _ptr(path, "uniqueItems"),
                    f"could make only {i} distinct items but minItems is {lo}; lower minItems or allow more values",
                )
            seen.add(k)
            out.append(value)
        return out

    def domain(self, s: Any, path: str, depth: int) -> list[Any] | None:
        """Every value ``s`` allows, when there are few (for uniqueItems); None when there are many."""
        if depth > 6 or not isinstance(s, dict):
            return [] if s is False else None
        if "$ref" in s and _ANNOTATIONS.issuperset(k for k in s if k != "$ref"):
            target, tpath = self.resolve(s["$ref"], path)
            return self.domain(target, tpath, depth + 1)
        if not _COMPOSITE.isdisjoint(s.keys()):
            return None
        values: list[Any]
        if "const" in s:
            values = [s["const"]]
        elif "enum" in s and isinstance(s["enum"], list):
            values = list(s["enum"])
        else:
            values = []
            for t in _types(s, path):
                part = self.type_domain(t, s, path, depth)
                if part is None:
                    return None
                values.extend(part)
                if len(values) > _DOMAIN_LIMIT:
                    return None
        out: list[Any] = []
        seen: set[Any] = set()
        for v in values:
            k = _key(v)
            if k not in seen and self.validator.ok(v, s):
                seen.add(k)
                out.append(v)
        return out

    def type_domain(self, t: str, s: dict[str, Any], path: str, depth: int) -> list[Any] | None:
        if t == "boolean":
            return [False, True]
        if t == "null":
            return [None]
        if t == "integer":
            ilo, ihi, step, _ = _int_plan(s, path)
            if ilo is None or ihi is None or (ihi - ilo) // step > _DOMAIN_LIMIT:
                return None
            start = -(-ilo // step) * step
            return list(range(start, ihi + 1, step))
        if t == "number":
            lo, lo_x, hi, hi_x, _ = _num_plan(s, path)
            return [lo] if lo is not None and lo == hi and not (lo_x or hi_x) else None
        if t == "string":
            return [""] if _length_plan(s, path)[1] == 0 else None
        if t == "object":
            props, required, _, _, _, _, _, _ = _obj_plan(s, path)
            combos: list[dict[str, Any]] = [{}]
            for k, sub in props.items():
                options = self.domain(sub, _ptr(path, "properties", k), depth + 1)
                if options is None:
                    return None
                if len(combos) * (len(options) + 1) > _DOMAIN_LIMIT:
                    return None
                absent = [] if k in required else combos
                combos = absent + [{**c, k: v} for c in combos for v in options]
            return list(combos)
        return None


def _window(lo: Any, hi: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """A range inside [lo, hi] (either may be None), as close to the plausible [a, b] as the bounds allow."""
    x = a if lo is None else max(lo, a)
    y = b if hi is None else min(hi, b)
    if x <= y:
        return x, y
    width = b - a
    if lo is not None and lo > b:  # the plausible range lies below the bounds
        return lo, lo + width if hi is None else min(hi, lo + width)
    return (hi - width if lo is None else max(lo, hi - width)), hi


# --------------------------------------------------------------------------------------------
# Static checks: every reachable sub-schema on its own


_SHAPES: dict[str, tuple[type, ...]] = {
    "properties": (dict,),
    "patternProperties": (dict,),
    "$defs": (dict,),
    "definitions": (dict,),
    "dependentSchemas": (dict,),
    "dependentRequired": (dict,),
    "required": (list,),
    "enum": (list,),
    "prefixItems": (list,),
    "allOf": (list,),
    "anyOf": (list,),
    "oneOf": (list,),
    "items": (dict, bool, list),
    "additionalItems": (dict, bool),
    "additionalProperties": (dict, bool),
    "contains": (dict, bool),
    "propertyNames": (dict, bool),
    "not": (dict, bool),
    "if": (dict, bool),
    "then": (dict, bool),
    "else": (dict, bool),
    "pattern": (str,),
    "format": (str,),
    "$ref": (str,),
    "uniqueItems": (bool,),
}


class _Checker:
    def __init__(self, gen: _Gen) -> None:
        self.g = gen
        self.done: set[str] = set()  # membership only

    def run(self) -> None:
        root = self.g.root
        self.node(root, "#")
        ranks = self.g.ranks
        if ranks.of(root) == _INF:
            stuck = next((r for r in ranks.order if ranks.ref[r] == _INF), "#")
            raise SchemaError(
                "$ref",
                stuck,
                f"{_show(stuck)} requires itself with no way to stop, so every value would be infinitely deep; "
                "make the recursive property optional, allow null (anyOf with {'type': 'null'}) "
                "or let the array be empty",
            )

    def node(self, s: Any, path: str) -> None:
        if isinstance(s, bool):
            return
        if not isinstance(s, dict):
            raise _not_a_schema(s, path)
        for kw in _UNSUPPORTED:
            if kw in s:
                raise SchemaError(kw, _ptr(path, kw), f"{kw} is not supported; use $ref to '#/$defs/Name'")
        for kw, kinds in _SHAPES.items():
            if kw in s and not isinstance(s[kw], kinds):
                raise SchemaError(kw, _ptr(path, kw), f"{kw} has the wrong shape: {_show(s[kw])}")
        ref = s.get("$ref")
        if ref is not None:
            target, tpath = self.g.resolve(ref, path)
            if ref not in self.done:
                self.done.add(ref)
                self.node(target, tpath)
        for i, sub in enumerate(_list(s, "allOf", path)):
            self.node(sub, _ptr(path, "allOf", i))
        for kind in ("anyOf", "oneOf"):
            branches = _list(s, kind, path)
            errors: list[SchemaError] = []
            for i, sub in enumerate(branches):
                try:
                    self.node(sub, _ptr(path, kind, i))
                except SchemaError as exc:
                    errors.append(exc)
            if branches and len(errors) == len(branches):
                if len(errors) == 1:
                    raise errors[0]
                raise SchemaError(
                    errors[0].keyword,
                    errors[0].path,
                    f"no {kind} branch can be satisfied; the first fails with: {errors[0].message}",
                )
        if "pattern" in s:
            _checked_regex(s["pattern"], _ptr(path, "pattern"))
        self.local(s, path)
        for key in ("properties", "patternProperties", "dependentSchemas"):
            for k, sub in (s.get(key) or {}).items():
                self.node(sub, _ptr(path, key, k))
        for key in ("additionalProperties", "additionalItems", "contains", "propertyNames"):
            if key in s:
                self.node(s[key], _ptr(path, key))
        items = s.get("items")
        if isinstance(items, list):
            for i, sub in enumerate(items):
                self.node(sub, _ptr(path, "items", i))
        elif items is not None:
            self.node(items, _ptr(path, "items"))
        for i, sub in enumerate(s.get("prefixItems") or ()):
            self.node(sub, _ptr(path, "prefixItems", i))

    def local(self, s: dict[str, Any], path: str) -> None:
        """The keywords of one schema object, without its combinators, can hold together."""
        rest = {k: v for k, v in s.items() if k not in _ANNOTATIONS and k not in ("const", "enum")}
        if "const" in s:
            err = self.g.validator.first(s["const"], rest, path)
            if err is not None:
                raise _const_error(s["const"], err, path)
            return
        if "enum" in s:
            values = s["enum"]
            if not values:
                raise SchemaError("enum", _ptr(path, "enum"), "enum must be a non-empty array")
            if not any(self.g.validator.ok(v, rest) for v in values):
                raise SchemaError(
                    "enum",
                    _ptr(path, "enum"),
                    f"no enum value ({_show(values)}) satisfies the other keywords here ({', '.join(rest)}); "
                    "make at least one value valid",
                )
            return
        errors: list[SchemaError] = []
        for t in _types(s, path):
            try:
                self.feasible(t, s, path)
                return
            except SchemaError as exc:
                errors.append(exc)
        raise errors[0]

    def feasible(self, t: str, s: dict[str, Any], path: str) -> None:
        if t == "integer":
            _int_plan(s, path)
        elif t == "number":
            _num_plan(s, path)
        elif t == "string":
            lo, hi = _length_plan(s, path)
            if "pattern" in s:
                where = _ptr(path, "pattern")
                _pattern_fits(_checked_regex(s["pattern"], where), s["pattern"], lo, hi, where)
        elif t == "array":
            prefix, items, ipath, lo, _, unique = _array_plan(s, path)
            if unique and not prefix:
                domain = self.g.domain(items, ipath, 0)
                if domain is not None and lo > len(domain):
                    raise _unique_error(lo, domain, path)
        elif t == "object":
            props, required, addl, pats, lo, _, _, names = _obj_plan(s, path)
            for k in required:
                sub, _ = _prop_schema(k, props, pats, addl, path)
                if sub is False:
                    raise _required_error(k, k in props, path)
                if names is not None and not self.g.validator.ok(k, names):
                    raise _names_error(k, path)
            available = sum(1 for sub in props.values() if sub is not False)
            if addl is False and not pats and available < lo:
                raise SchemaError(
                    "minProperties",
                    _ptr(path, "minProperties"),
                    f"minProperties is {lo} but only {available} properties are allowed "
                    "(additionalProperties is false); lower minProperties or allow more properties",
                )
