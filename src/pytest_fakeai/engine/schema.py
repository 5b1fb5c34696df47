"""Instances of a JSON Schema, for tool-call arguments and structured outputs.

Covers ``type`` (and type lists), ``enum``, ``const``, ``properties`` /
``required`` / ``additionalProperties``, ``items`` and array bounds,
``anyOf``/``oneOf``/``allOf``, ``$ref`` into ``$defs``/``definitions``
(recursion is cut at a fixed depth by preferring the non-recursive branch or
an empty container), numeric bounds and common string formats.  Deterministic
for a given ``random.Random``.
"""

from __future__ import annotations

import random
import string
from typing import Any

__all__ = ["instance_for"]

_WORDS = (
    "alpha",
    "bright",
    "river",
    "garden",
    "signal",
    "orbit",
    "maple",
    "harbor",
    "summit",
    "canvas",
    "ember",
    "meadow",
    "pixel",
    "quartz",
    "timber",
    "violet",
    "willow",
    "copper",
    "falcon",
    "lantern",
)
_NAMES = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Linus Pauling", "Marie Curie")
_CITIES = ("Paris", "Tokyo", "Lagos", "Lima", "Oslo", "Toronto", "Mumbai", "Sydney")
_MAX_DEPTH = 6


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node if isinstance(node, dict) else {}


def _string(schema: dict[str, Any], rng: random.Random, key: str) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
    if fmt == "date":
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if fmt == "time":
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if fmt == "email":
        return f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}@example.com"
    if fmt == "uuid":
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
    if fmt in ("uri", "url"):
        return f"https://example.com/{rng.choice(_WORDS)}"
    if fmt == "ipv4":
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    if fmt == "ipv6":
        return ":".join(f"{rng.getrandbits(16):x}" for _ in range(8))
    if fmt == "hostname":
        return f"{rng.choice(_WORDS)}.example.com"
    lowered = key.lower()
    if "name" in lowered:
        text = rng.choice(_NAMES)
    elif "city" in lowered or "location" in lowered:
        text = rng.choice(_CITIES)
    else:
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
    lo = int(schema.get("minLength", 0))
    hi = schema.get("maxLength")
    while len(text) < lo:
        text += rng.choice(string.ascii_lowercase)
    if isinstance(hi, int):
        text = text[:hi]
    return text


def _number(schema: dict[str, Any], rng: random.Random, integer: bool) -> int | float:
    lo = schema.get("minimum", schema.get("exclusiveMinimum", 0 if integer else 0.0))
    hi = schema.get("maximum", schema.get("exclusiveMaximum", lo + 100))
    if "exclusiveMinimum" in schema and isinstance(schema["exclusiveMinimum"], int | float):
        lo = schema["exclusiveMinimum"] + (1 if integer else 1e-6)
    if "exclusiveMaximum" in schema and isinstance(schema["exclusiveMaximum"], int | float):
        hi = schema["exclusiveMaximum"] - (1 if integer else 1e-6)
    if hi < lo:
        hi = lo
    if integer:
        value: int | float = (
            rng.randint(int(-(-lo // 1)), int(hi // 1)) if int(-(-lo // 1)) <= int(hi // 1) else int(lo)
        )
    else:
        value = round(rng.uniform(float(lo), float(hi)), 2)
        value = min(max(value, float(lo)), float(hi))
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and step > 0:
        value = type(value)(round(value / step) * step)
    return value


def _gen(schema: Any, rng: random.Random, root: dict[str, Any], depth: int, key: str) -> Any:
    if schema is True or not isinstance(schema, dict):
        return rng.choice(_WORDS)
    if "$ref" in schema:
        if depth >= _MAX_DEPTH:
            return None
        target = _resolve(str(schema["$ref"]), root)
        return _gen({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, rng, root, depth + 1, key)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(list(schema["enum"]))
    for union in ("anyOf", "oneOf"):
        if schema.get(union):
            options = list(schema[union])
            if depth >= _MAX_DEPTH - 2:  # prefer leaves when deep
                options.sort(key=lambda o: "$ref" in o if isinstance(o, dict) else False)
                return _gen(options[0], rng, root, depth + 1, key)
            return _gen(rng.choice(options), rng, root, depth + 1, key)
    if "allOf" in schema:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                for k, v in part.items():
                    if k == "properties":
                        merged.setdefault("properties", {}).update(v)
                    elif k == "required":
                        merged["required"] = [*merged.get("required", []), *v]
                    else:
                        merged.setdefault(k, v)
        return _gen(merged, rng, root, depth + 1, key)
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"] or ["null"]
        kind = non_null[0] if depth >= _MAX_DEPTH - 2 else rng.choice(non_null)
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        props = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        out: dict[str, Any] = {}
        for name, sub in props.items():
            if name in required or depth < _MAX_DEPTH - 2:
                value = _gen(sub, rng, root, depth + 1, name)
                if value is None and name not in required and not _allows_null(sub, root):
                    continue
                out[name] = value
        return out
    if kind == "array":
        lo = int(schema.get("minItems", 0 if depth >= _MAX_DEPTH - 2 else 1))
        hi = int(schema.get("maxItems", max(lo, 3)))
        if depth >= _MAX_DEPTH - 2:
            hi = lo
        count = rng.randint(lo, max(lo, hi))
        items = schema.get("items", {})
        values: list[Any] = []
        for _ in range(count * 4):
            if len(values) >= count:
                break
            v = _gen(items, rng, root, depth + 1, key)
            if schema.get("uniqueItems") and v in values:
                continue
            values.append(v)
        return values
    if kind == "string":
        return _string(schema, rng, key)
    if kind == "integer":
        return _number(schema, rng, integer=True)
    if kind == "number":
        return _number(schema, rng, integer=False)
    if kind == "boolean":
        return rng.random() < 0.5
    return None


def _allows_null(schema: Any, root: dict[str, Any]) -> bool:
    if not isinstance(schema, dict):
        return True
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def instance_for(schema: dict[str, Any], rng: random.Random) -> Any:
    """A value valid against ``schema`` (see the module docstring for what is covered)."""
    return _gen(schema, rng, schema, 0, "")
