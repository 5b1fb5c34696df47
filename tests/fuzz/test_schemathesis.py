"""schemathesis against the real port, from the official OpenAI OpenAPI spec narrowed to what the router serves.

The spec (``conftest.SPEC_PATH``, read-only) is copied at import: only the operations the default
router serves, its OpenAPI-3.0 leftovers converted the way ``tests/_support/make_openai_subset.py``
converts them (``nullable``, boolean ``exclusiveMinimum``, ``oneOf`` → ``anyOf``), and the real API's
known deviations from it applied in the copy (each one commented where it is made: that script's
``API_DEVIATIONS``; optional request parameters may be null; ``{"error": Error}`` for the 404s the
spec documents as a bare ``Error``; null legacy-completion logprobs; ``purpose: "evals"`` on a file;
the media types the API answers with beyond the documented ones; SSE payloads not validated here).
A simulator with an API key is served on 127.0.0.1, port 0, for the module; every operation is
fuzzed with positive and negative data (phases: examples and fuzzing; coverage in a long run).

Checks, and why some are off:

* on: ``not_a_server_error`` (no fault is injected), ``content_type_conformance``,
  ``response_headers_conformance``, ``response_schema_conformance`` (2xx bodies against the spec),
  ``missing_required_header``, ``ignored_auth`` (no key or a wrong key is a 401),
  ``unsupported_method`` (405 with ``Allow``), ``negative_data_rejection`` as
  :func:`negative_data_rejected` (not for multipart bodies; the fidelity gaps in :data:`LENIENT`),
  and this project's own: every 4xx is an OpenAI-shaped error (``tests/_support/spec.check_error``).
* off: ``status_code_conformance``: the OpenAI spec documents only the success status of each
  operation (its errors are described in prose), so every 400/404 would be "undocumented".
* off: ``positive_data_acceptance``: data valid by the schema names models, files, vector stores
  and responses that do not exist, which the real API answers with 404, and the simulator too.
* off: ``use_after_free``, ``ensure_resource_availability``: stateful checks, for the stateful
  phase, which is off (links between operations are not in the spec).

``FAKEAI_FUZZ_EXAMPLES`` scales the examples per operation (one twentieth of it, at least 10);
``FAKEAI_SCHEMATHESIS_EXAMPLES`` sets them directly (docs/fuzzing.md).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from pytest_fakeai import FakeAI  # noqa: E402
from pytest_fakeai.adapters.server import Server  # noqa: E402
from tests._support.make_openai_subset import API_DEVIATIONS, SCHEMA_PREFIX, convert, reachable  # noqa: E402
from tests._support.spec import check_error  # noqa: E402

from .conftest import CASES, DEFAULT_EXAMPLES, EXAMPLES, SPEC_PATH, STATUSES, openapi_spec, routes, spec_path  # noqa: E402

if openapi_spec() is None:
    pytest.skip(f"the OpenAPI spec is not at {SPEC_PATH} (set FAKEAI_OPENAPI_SPEC)", allow_module_level=True)

from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.core.failures import AcceptedNegativeData  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    negative_data_rejection,
    positive_data_acceptance,
    status_code_conformance,
)

PER_OPERATION = int(os.environ.get("FAKEAI_SCHEMATHESIS_EXAMPLES", str(max(10, EXAMPLES // 20))))
API_KEY = "sk-fakeai-fuzz-0123456789"
REQUEST_PREFIX = "Request."  # the request-side copies of the components request bodies use


def _convert_schemas(node: Any) -> Any:
    """Every ``schema`` under an operation (parameters, bodies, responses) in Draft 2020-12 form."""
    if isinstance(node, dict):
        return {k: convert(v, "inline") if k == "schema" else _convert_schemas(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_convert_schemas(v) for v in node]
    return node


def _or_null(node: Any) -> dict[str, Any]:
    return {"anyOf": [node, {"type": "null"}]}


def _walk(node: Any, visit: Any) -> Any:
    """``node`` rebuilt bottom-up, ``visit`` applied to every dict."""
    if isinstance(node, dict):
        return visit({k: _walk(v, visit) for k, v in node.items()})
    if isinstance(node, list):
        return [_walk(v, visit) for v in node]
    return node


_ONE = {"items", "additionalProperties", "not", "contains", "if", "then", "else", "propertyNames"}
_MANY = {"allOf", "anyOf", "oneOf", "prefixItems"}


def _request_side(node: Any) -> Any:
    """A request schema as the real API reads it: refs point at the request-side copies, and an optional
    property may be null (the API, and the simulator, take null as "not given"; the openai SDK sends
    null for a None argument), which the spec says of only a few."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_PREFIX):
            out[key] = SCHEMA_PREFIX + REQUEST_PREFIX + value[len(SCHEMA_PREFIX) :]
        elif key in _ONE:
            out[key] = _request_side(value)
        elif key in _MANY and isinstance(value, list):
            out[key] = [_request_side(v) for v in value]
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            required = set(node.get("required", ())) if key == "properties" else set()
            out[key] = {n: _request_side(v) if n in required else _or_null(_request_side(v)) for n, v in value.items()}
        else:
            out[key] = value
    return out


def _error_envelope(node: dict[str, Any]) -> dict[str, Any]:
    """The spec documents some 404s as a bare ``Error``; the API sends ``{"error": Error}`` (FIDELITY.md,
    and the openai SDK reads ``body["error"]``)."""
    if node.get("$ref") == SCHEMA_PREFIX + "Error":
        return {"$ref": SCHEMA_PREFIX + "ErrorResponse"}
    return node


#: Media types the API answers with that the spec leaves out of an operation's 200.
CONTENT_DEVIATIONS: dict[tuple[str, str], list[str]] = {
    ("/completions", "post"): ["text/event-stream"],  # stream=true, as on /chat/completions
    ("/responses/{response_id}", "get"): ["text/event-stream"],  # stream=true replays the events
    ("/audio/speech", "post"): ["audio/*"],  # audio/mpeg, audio/wav, ... by response_format
    ("/audio/transcriptions", "post"): ["text/plain"],  # response_format text, srt, vtt
    ("/audio/translations", "post"): ["text/plain"],
    ("/files/{file_id}/content", "get"): ["*/*"],  # the file's own bytes and type
}


def narrowed_spec() -> dict[str, Any]:
    """The spec's operations that the default router serves, converted for a 3.1 validator, with the
    real API's documented deviations (response side: make_openai_subset.API_DEVIATIONS; request side:
    optional parameters may be null; error bodies in their envelope)."""
    spec = openapi_spec()
    assert spec is not None
    paths: dict[str, dict[str, Any]] = {}
    for method, template in routes():
        path = spec_path(template)
        item = spec["paths"].get(path, {})
        if method.lower() in item:
            paths.setdefault(path, {k: v for k, v in item.items() if k == "parameters"})
            paths[path][method.lower()] = item[method.lower()]
    paths = _convert_schemas(copy.deepcopy(paths))
    schemas = {name: convert(schema, name) for name, schema in spec["components"]["schemas"].items()}
    for name, path_in, _why in API_DEVIATIONS:
        if name in schemas:
            parent: Any = schemas[name]
            for key in path_in[:-1]:
                parent = parent[int(key)] if isinstance(parent, list) else parent[key]
            parent[path_in[-1]] = _or_null(parent[path_in[-1]])
    # legacy completion logprobs: the API sends null for the first echoed prompt token's logprob and
    # top_logprobs, and a null top_logprobs entry where none were asked for (logprobs=0)
    logprobs = schemas["CreateCompletionResponse"]["properties"]["choices"]["items"]["properties"]["logprobs"]
    for alternative in logprobs.get("anyOf", [logprobs]):
        for key in ("token_logprobs", "top_logprobs"):
            if key in alternative.get("properties", {}):
                alternative["properties"][key]["items"] = _or_null(alternative["properties"][key]["items"])
    # the spec lets a file be uploaded with purpose "evals" (FilePurpose) but leaves it out of the
    # file object's enum (OpenAIFile); the API echoes the purpose a file was uploaded with
    schemas["OpenAIFile"]["properties"]["purpose"]["enum"].append("evals")
    for (path, method), media_types in CONTENT_DEVIATIONS.items():
        if path in paths and method in paths[path]:
            content = paths[path][method]["responses"]["200"].setdefault("content", {})
            content.update({media_type: {"schema": {}} for media_type in media_types})
    roots: set[str] = set()
    for item in paths.values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue  # the path's own "parameters"
            for media in operation.get("requestBody", {}).get("content", {}).values():
                roots |= set(reachable(schemas, tuple(_refs_in(media.get("schema", {})))))
                media["schema"] = _request_side(media.get("schema", {}))
            for status, response in operation.get("responses", {}).items():
                for media_type, media in response.get("content", {}).items():
                    if not status.startswith("2"):
                        media["schema"] = _error_envelope(media.get("schema", {}))
                    elif media_type == "text/event-stream":
                        # the spec puts each event's JSON *payload* here, which OpenAPI 3.1 tools read
                        # as the event itself ({"data": "...", "event": ...}); payloads are checked in
                        # process instead (strict JSON here, the SDK types in tests/api)
                        media["schema"] = {}
    schemas.update({REQUEST_PREFIX + name: _request_side(copy.deepcopy(schemas[name])) for name in roots})
    components = _convert_schemas(copy.deepcopy({k: v for k, v in spec["components"].items() if k != "schemas"}))
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": [{"url": "http://127.0.0.1/v1"}],  # replaced by the real port's URL at call time
        "security": spec.get("security", []),
        "paths": paths,
        "components": {**components, "schemas": schemas},
    }


def _refs_in(node: Any) -> list[str]:
    found: list[str] = []

    def visit(item: dict[str, Any]) -> dict[str, Any]:
        ref = item.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
            found.append(ref[len(SCHEMA_PREFIX) :])
        return item

    _walk(node, visit)
    return found


SETTINGS: dict[str, Any] = {
    "generation": {
        "mode": "all",  # positive and negative data
        "max-examples": PER_OPERATION,
        "deterministic": EXAMPLES <= DEFAULT_EXAMPLES,  # the same cases in CI; a long run explores
        "database": "none",
        "with-security-parameters": False,  # the key is given (auth below); ignored_auth checks without it
    },
    # coverage (every boundary value of every field: ~500 cases per operation) only in a long run
    "phases": {"coverage": {"enabled": EXAMPLES > DEFAULT_EXAMPLES}, "stateful": {"enabled": False}},
    "checks": {
        "status_code_conformance": {"enabled": False},
        "positive_data_acceptance": {"enabled": False},
        "negative_data_rejection": {"enabled": False},  # run as negative_data_rejected (below)
        "use_after_free": {"enabled": False},
        "ensure_resource_availability": {"enabled": False},
    },
    "auth": {"openapi": {"ApiKeyAuth": {"bearer": API_KEY}}},
}
if EXAMPLES <= DEFAULT_EXAMPLES:
    SETTINGS["seed"] = 20240
schema = schemathesis.openapi.from_dict(narrowed_spec(), config=SchemathesisConfig.from_dict(SETTINGS))


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    sim = FakeAI(api_keys=(API_KEY,), max_calls=64)
    with Server(sim, host="127.0.0.1", port=0) as running:
        yield running


#: Parameters the simulator accepts as they come and does not model ("accepted and without effect",
#: docs/responses.md): a wrong value anywhere inside them is taken too, by design.
UNMODELLED: dict[str, tuple[str, ...]] = {
    "POST /chat/completions": ("audio", "prediction", "web_search_options", "prompt_cache_breakpoint"),
    "POST /responses": (
        *("access_programs", "background_options", "context_management", "image", "prompt_cache_options"),
        *("prompt_cache_breakpoint",),
    ),
    "POST /responses/input_tokens": ("personality", "prompt_cache_breakpoint"),
}
#: Where the simulator takes what the spec forbids, otherwise (docs/fuzzing.md, "Fidelity gaps"):
#: (operation, a piece of schemathesis' "Invalid component" line, when, why).
LENIENT: list[tuple[str, str, Callable[[Any], bool], str]] = [
    *(
        (label, "parameter `order` in query", lambda case: (case.query or {}).get("order") == "", "empty is not given")
        for label in ("GET /files", "GET /vector_stores")
    ),
    *(
        (
            label,
            "at /properties/stop",
            lambda case: isinstance(case.body, dict) and case.body.get("stop") == [],
            "an empty stop list is no stop",
        )
        for label in ("POST /completions", "POST /chat/completions")
    ),
    ("POST /moderations", "'uri' format", lambda case: True, "no image is fetched, so any URL string is taken"),
]


def _tolerated(case: Any, message: str) -> bool:
    label = case.operation.label
    if any(re.search(rf"/properties/{name}(/|\s|$)", message) for name in UNMODELLED.get(label, ())):
        return True
    return any(label == op and part in message and when(case) for op, part, when, _ in LENIENT)


def negative_data_rejected(ctx: Any, response: Any, case: Any) -> bool | None:
    """``negative_data_rejection``, except for multipart bodies (a form carries only text: a wrong type
    the generator meant, ``user: false`` or an empty array, arrives as a valid form), :data:`UNMODELLED`
    and :data:`LENIENT`."""
    if case.media_type == "multipart/form-data":
        return None
    try:
        result: bool | None = negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData as failure:
        if _tolerated(case, failure.message):
            return None
        raise
    return result


def openai_shaped_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """This project's check: every 4xx body is ``{"error": {"message", "type", "param", "code"}}``."""
    if 400 <= response.status_code < 500:
        check_error(json.loads(response.content))
    return True


@schema.parametrize()
def test_every_served_operation_against_the_spec(case: Any, server: Server) -> None:
    CASES["schemathesis"] += 1
    response = case.call_and_validate(
        base_url=server.url,
        additional_checks=[openai_shaped_errors, negative_data_rejected],
        excluded_checks=[status_code_conformance, positive_data_acceptance, negative_data_rejection],
        timeout=30,
    )
    STATUSES[f"schemathesis {response.status_code // 100}xx"] += 1
