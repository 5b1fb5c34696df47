"""Regenerate ``tests/_support/openai_subset.json`` from the official OpenAI OpenAPI spec.

Usage (from the repository root, ``/work/main``)::

    .venv/bin/python tests/_support/make_openai_subset.py
    .venv/bin/python tests/_support/make_openai_subset.py --spec ../shared/openapi/openai-openapi.json
    .venv/bin/python tests/_support/make_openai_subset.py --check   # exit 1 if the committed file is stale

The spec defaults to ``../shared/openapi/openai-openapi.json`` (relative to the repository root).

What it does:

1. Collects every component schema reachable (transitively, via ``$ref``/``$recursiveRef``) from
   :data:`ROOTS`. To cover another response type, add its component name to :data:`ROOTS` and rerun.
2. Converts the spec's OpenAPI-3.0 leftovers so a JSON Schema Draft 2020-12 validator reads them
   the way the spec's authors meant:

   * ``nullable: true`` -> ``"null"`` added to ``type`` (and ``None`` to ``enum``) when the node is a
     plain typed schema; otherwise the node is wrapped as ``anyOf: [<node>, {"type": "null"}]``
     (needed e.g. for ``$ref`` + ``nullable`` siblings such as the stream chunk's ``usage``).
     ``nullable: false`` is dropped.
   * boolean ``exclusiveMinimum``/``exclusiveMaximum: true`` -> numeric form taking the value of
     ``minimum``/``maximum`` (which is then removed); ``false`` is dropped.
   * ``oneOf`` -> ``anyOf`` (the spec's unions overlap, so ``oneOf`` would reject valid bodies).
   * ``discriminator`` dropped (no ``mapping`` in the spec; it is an annotation anyway).
   * Draft 2019-09 ``$recursiveRef: "#"`` -> ``$ref`` to the enclosing component;
     ``$recursiveAnchor`` dropped (2020-12 validators silently ignore both otherwise).
   * Annotations (``description``, ``title``, ``example(s)``, ``default``, ``deprecated``,
     ``externalDocs``, ``x-*``) stripped to keep the file small.
3. Applies :data:`API_DEVIATIONS`: places where the real API demonstrably differs from the
   spec (e.g. it sends ``"system_fingerprint": null``). Each one is a documented, minimal
   loosening (one property made nullable).
4. Adds the :data:`DERIVED` schemas, e.g. ``CreateCompletionResponse.chunk`` for legacy
   completion stream chunks (``finish_reason`` is null on all but the last chunk).

Objects stay open (no ``additionalProperties: false`` is added), exactly as in the spec.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "openapi" / "openai-openapi.json"
OUTPUT = HERE / "openai_subset.json"
SUBSET_ID = "urn:pytest-fakeai:openai-subset"
SCHEMA_PREFIX = "#/components/schemas/"

#: Component schemas the tests validate against. Extend here and rerun the script.
ROOTS: tuple[str, ...] = (
    # chat completions
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    # legacy completions (streamed chunks use the same schema)
    "CreateCompletionResponse",
    # models
    "ListModelsResponse",
    "Model",
    "DeleteModelResponse",
    # errors
    "ErrorResponse",
    # embeddings, moderations, images
    "CreateEmbeddingResponse",
    "CreateModerationResponse",
    "ImagesResponse",
    # Responses API
    "Response",
    "ResponseStreamEvent",
    "ResponseItemList",
    "TokenCountsResource",
    # files and batches
    "OpenAIFile",
    "ListFilesResponse",
    "Batch",
    "ListBatchesResponse",
    "DeleteFileResponse",
    # uploads
    "Upload",
    "UploadPart",
    # image streams
    "ImageGenPartialImageEvent",
    "ImageGenCompletedEvent",
    "ImageEditPartialImageEvent",
    "ImageEditCompletedEvent",
    # audio
    "CreateTranscriptionResponseJson",
    "CreateTranscriptionResponseVerboseJson",
    "CreateTranslationResponseJson",
    "CreateTranslationResponseVerboseJson",
    "TranscriptTextDeltaEvent",
    "TranscriptTextDoneEvent",
    "SpeechAudioDeltaEvent",
    "SpeechAudioDoneEvent",
    # vector stores
    "VectorStoreObject",
    "ListVectorStoresResponse",
    "DeleteVectorStoreResponse",
    "VectorStoreFileObject",
    "ListVectorStoreFilesResponse",
    "DeleteVectorStoreFileResponse",
    "VectorStoreFileBatchObject",
    "VectorStoreFileContentResponse",
    "VectorStoreSearchResultsPage",
)

#: Known deviations of the real API from the spec: (component, path to a sub-schema through
#: schema keywords, reason) -> that sub-schema becomes nullable. Only response-side schemas are
#: in the subset, so loosening a shared component cannot hide a request-validation bug.
_FP = "real API sends null (deprecated field); SDK types it Optional[str]"
_BATCH = "real API sends null until the batch reaches that state; SDK types it Optional"
API_DEVIATIONS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("CreateChatCompletionResponse", ("properties", "system_fingerprint"), _FP),
    ("CreateChatCompletionStreamResponse", ("properties", "system_fingerprint"), _FP),
    ("CreateCompletionResponse", ("properties", "system_fingerprint"), _FP),
    ("ModelResponseProperties", ("properties", "user"), "Responses API sends user: null; SDK Optional"),
    ("Response", ("allOf", "2", "properties", "usage"), "in-progress responses carry usage: null; SDK Optional"),
    ("OpenAIFile", ("properties", "expires_at"), "real API sends null for files that never expire"),
    ("OpenAIFile", ("properties", "status_details"), "real API sends null unless status is error"),
    ("ListFilesResponse", ("properties", "first_id"), "real API sends null on an empty page"),
    ("ListFilesResponse", ("properties", "last_id"), "real API sends null on an empty page"),
    ("ListBatchesResponse", ("properties", "first_id"), "real API sends null on an empty page"),
    ("ListBatchesResponse", ("properties", "last_id"), "real API sends null on an empty page"),
    ("ListVectorStoresResponse", ("properties", "first_id"), "real API sends null on an empty page"),
    ("ListVectorStoresResponse", ("properties", "last_id"), "real API sends null on an empty page"),
    ("ListVectorStoreFilesResponse", ("properties", "first_id"), "real API sends null on an empty page"),
    ("ListVectorStoreFilesResponse", ("properties", "last_id"), "real API sends null on an empty page"),
    *(
        ("Batch", ("properties", name), _BATCH)
        for name in (
            "errors",
            "output_file_id",
            "error_file_id",
            "in_progress_at",
            "expires_at",
            "finalizing_at",
            "completed_at",
            "failed_at",
            "expired_at",
            "cancelling_at",
            "cancelled_at",
        )
    ),
)

#: Schemas that are not in the spec but derived from one of its components:
#: name -> (base component, paths made nullable, reason).
DERIVED: dict[str, tuple[str, tuple[tuple[str, ...], ...], str]] = {
    "CreateCompletionResponse.chunk": (
        "CreateCompletionResponse",
        (("properties", "choices", "items", "properties", "finish_reason"),),
        "legacy /v1/completions stream chunks reuse CreateCompletionResponse, but the real API "
        "sends finish_reason: null on every chunk except the last",
    ),
}

# Keywords whose value is a single subschema / a list of subschemas / a name -> subschema map.
_SCHEMA_KEYS = {
    "items",
    "additionalItems",
    "additionalProperties",
    "unevaluatedItems",
    "unevaluatedProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
}
_SCHEMA_LIST_KEYS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SCHEMA_MAP_KEYS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_ANNOTATIONS = {
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "externalDocs",
    "discriminator",
    "$recursiveAnchor",
    "$comment",
}
# Applicators that stop us from simply adding "null" to ``type``.
_COMPOSITES = {"$ref", "allOf", "anyOf", "oneOf", "not", "const", "if"}


def _children(node: dict[str, Any]) -> Iterator[Any]:
    for key, value in node.items():
        if key in _SCHEMA_KEYS:
            # a list here is a pre-2020 tuple ``items``
            yield from value if isinstance(value, list) else [value]
        elif key in _SCHEMA_LIST_KEYS:
            yield from value
        elif key in _SCHEMA_MAP_KEYS:
            yield from value.values()


def _refs(node: Any, owner: str) -> Iterator[str]:
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith(SCHEMA_PREFIX):
            raise ValueError(f"{owner}: unsupported $ref {ref!r}")
        yield ref[len(SCHEMA_PREFIX) :]
    if node.get("$recursiveRef") == "#":
        yield owner
    for child in _children(node):
        yield from _refs(child, owner)


def reachable(schemas: dict[str, Any], roots: tuple[str, ...]) -> list[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in schemas:
            raise KeyError(f"schema {name!r} not in the spec")
        seen.add(name)
        todo.extend(_refs(schemas[name], name))
    return sorted(seen)


def _make_nullable(node: dict[str, Any]) -> dict[str, Any]:
    typ = node.get("type")
    if typ is not None and not (_COMPOSITES & node.keys()):
        types = list(typ) if isinstance(typ, list) else [typ]
        if "null" not in types:
            types.append("null")
        node["type"] = types
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return node
    return {"anyOf": [node, {"type": "null"}]}


def convert(node: Any, owner: str) -> Any:
    """Return a Draft 2020-12 version of one (sub)schema of component ``owner``."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise TypeError(f"{owner}: schema expected, got {node!r}")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS or key.startswith("x-"):
            continue
        if key in _SCHEMA_KEYS:
            out[key] = [convert(v, owner) for v in value] if isinstance(value, list) else convert(value, owner)
        elif key in _SCHEMA_LIST_KEYS:
            out[key] = [convert(v, owner) for v in value]
        elif key in _SCHEMA_MAP_KEYS:
            out[key] = {name: convert(v, owner) for name, v in value.items()}
        elif key == "$recursiveRef":
            if value != "#":
                raise ValueError(f"{owner}: unsupported $recursiveRef {value!r}")
            out["$ref"] = SCHEMA_PREFIX + owner
        else:
            out[key] = value  # type, enum, const, required, format, bounds, nullable, ...

    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(bound)
        if isinstance(flag, bool):
            del out[bound]
            if flag:
                out[bound] = out.pop(limit)

    if "oneOf" in out:
        alternatives = out.pop("oneOf")
        if "anyOf" in out:
            out.setdefault("allOf", []).append({"anyOf": alternatives})
        else:
            out["anyOf"] = alternatives

    if out.pop("nullable", False):
        out = _make_nullable(out)
    return out


def _nullable_at(schema: dict[str, Any], path: tuple[str, ...]) -> None:
    parent: Any = schema
    for key in path[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent[key]  # "2": the third allOf entry
    parent[path[-1]] = _make_nullable(parent[path[-1]])


def _apply_deviations(schemas: dict[str, Any]) -> None:
    for name, path, _why in API_DEVIATIONS:
        if name in schemas:
            _nullable_at(schemas[name], path)
    for name, (base, paths, _why) in DERIVED.items():
        derived = copy.deepcopy(schemas[base])
        for path in paths:
            _nullable_at(derived, path)
        schemas[name] = derived


def _discriminator_properties(node: Any) -> list[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            disc = value.get("discriminator")
            if isinstance(disc, dict) and isinstance(disc.get("propertyName"), str):
                found.add(disc["propertyName"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(node)
    return sorted(found)


def build(spec: dict[str, Any], spec_sha256: str) -> dict[str, Any]:
    all_schemas = spec["components"]["schemas"]
    names = reachable(all_schemas, ROOTS)
    schemas = {name: convert(all_schemas[name], name) for name in names}
    _apply_deviations(schemas)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SUBSET_ID,
        "x-generated-by": "tests/_support/make_openai_subset.py",
        "x-source": {
            "file": "openai-openapi.json (openai/openai-openapi)",
            "info.version": spec.get("info", {}).get("version"),
            "sha256": spec_sha256,
        },
        "x-roots": list(ROOTS),
        # Property names the spec's (dropped) discriminators use; spec.py uses them to pick the
        # most relevant branch when reporting a failed union.
        "x-discriminator-properties": _discriminator_properties(all_schemas),
        "x-api-deviations": [f"{n}/{'/'.join(p)}: made nullable; {why}" for n, p, why in API_DEVIATIONS],
        "x-derived": {name: f"{base}; {why}" for name, (base, _paths, why) in DERIVED.items()},
        "components": {"schemas": schemas},
    }


def render(subset: dict[str, Any]) -> str:
    return json.dumps(subset, indent=1, ensure_ascii=False) + "\n"


def _self_check(subset: dict[str, Any]) -> None:
    """The output is a valid 2020-12 schema and no OpenAPI-3.0 keyword is left at a schema position."""
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(subset)
    leftovers = {"nullable", "oneOf", "discriminator", "$recursiveRef", "$recursiveAnchor"}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            found = leftovers & node.keys()
            if found:
                raise AssertionError(f"{where}: unconverted {sorted(found)}")
            for flag in ("exclusiveMinimum", "exclusiveMaximum"):
                if isinstance(node.get(flag), bool):
                    raise AssertionError(f"{where}: boolean {flag}")
            for child in _children(node):
                walk(child, where)

    for name, schema in subset["components"]["schemas"].items():
        walk(schema, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="path to openai-openapi.json")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="only verify the output is up to date")
    args = parser.parse_args(argv)

    raw = args.spec.read_bytes()
    subset = build(json.loads(raw), hashlib.sha256(raw).hexdigest())
    _self_check(subset)
    text = render(subset)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale; rerun {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    count = len(subset["components"]["schemas"])
    print(f"wrote {args.output} ({count} schemas, {len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
