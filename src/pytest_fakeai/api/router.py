"""Routing: (method, path) → handler, with OpenAI's 404 and 405 for everything else."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ApiError, method_not_allowed, not_found_route
from .types import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = ["ROUTES", "Handler", "Router", "default_router", "lazy"]

Handler = Callable[..., ApiResponse]  # (engine, request, **path_params) -> response

_PARAM = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(slots=True)
class _Route:
    template: str
    pattern: re.Pattern[str] | None
    handlers: dict[str, Handler] = field(default_factory=dict)


class Router:
    """Routes by exact path first, then by templates like ``/v1/models/{model:path}``."""

    def __init__(self) -> None:
        self._static: dict[str, _Route] = {}
        self._dynamic: list[_Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        route = self._static.get(template) or next((r for r in self._dynamic if r.template == template), None)
        if route is None:
            if "{" in template:
                regex = _PARAM.sub(
                    lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})",
                    re.escape(template).replace(r"\{", "{").replace(r"\}", "}"),
                )
                route = _Route(template, re.compile(f"^{regex}$"))
                self._dynamic.append(route)
            else:
                route = self._static[template] = _Route(template, None)
        route.handlers[method.upper()] = handler

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        path = path.rstrip("/") or "/"
        params: dict[str, str] = {}
        route = self._static.get(path)
        if route is None:
            for candidate in self._dynamic:
                assert candidate.pattern is not None
                m = candidate.pattern.match(path)
                if m:
                    route, params = candidate, m.groupdict()
                    break
        if route is None:
            raise not_found_route(method, path, self.describe())
        handler = route.handlers.get(method.upper())
        if handler is None:
            raise method_not_allowed(method, path, sorted(route.handlers))
        return handler, params

    def describe(self) -> list[str]:
        routes = [*self._static.values(), *self._dynamic]
        return [f"{m} {r.template}" for r in routes for m in sorted(r.handlers)]

    def dispatch(self, engine: Engine, request: ApiRequest) -> ApiResponse:
        _check_text(request)
        handler, params = self.resolve(request.method, request.path)
        return handler(engine, request, **params)


def _check_text(request: ApiRequest) -> None:
    """A request built in process (``FakeAI.handle``) may hold text no HTTP request can carry: a lone
    UTF-16 surrogate in its path, query or headers, which an answer echoing it could not encode."""
    headers = request.headers.items()
    if request.path.isascii() and request.query.isascii() and all(k.isascii() and v.isascii() for k, v in headers):
        return  # what every HTTP client sends: nothing to check (a cheap test on the hot path)
    texts = [("URL path", request.path), ("query string", request.query)]
    for name, value in headers:
        texts += [("header name", name), (f"'{_shown(name)}' header", value)]
    for where, text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(
                400,
                f"Invalid request: the {where} is not valid text; it holds a lone UTF-16 surrogate "
                f"({_shown(text)[:80]}). Send text that encodes as UTF-8.",
            ) from None


def _shown(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode()


def lazy(module: str, name: str) -> Handler:
    """A handler that imports ``pytest_fakeai.api.<module>`` on first use and calls its ``name``."""

    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        import importlib

        target = importlib.import_module(f"{__package__}.{module}")
        result: ApiResponse = getattr(target, name)(engine, request, **params)
        return result

    handler.__name__ = name
    handler.__qualname__ = f"{module}.{name}"
    return handler


_VS = "/v1/vector_stores/{vector_store_id}"

#: (method, path template, module, function): every route, each module loaded on first use.
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("POST", "/v1/chat/completions", "chat", "create_chat_completion"),
    ("POST", "/v1/completions", "completions", "create_completion"),
    ("GET", "/v1/models", "models", "list_models"),
    ("GET", "/v1/models/{model:path}", "models", "retrieve_model"),
    ("DELETE", "/v1/models/{model:path}", "models", "delete_model"),
    ("POST", "/v1/embeddings", "embeddings", "create_embedding"),
    ("POST", "/v1/moderations", "moderations", "create_moderation"),
    ("POST", "/v1/ranking", "ranking", "create_ranking"),
    ("POST", "/v1/files", "files", "create_file"),
    ("GET", "/v1/files", "files", "list_files"),
    ("GET", "/v1/files/{file_id}", "files", "retrieve_file"),
    ("DELETE", "/v1/files/{file_id}", "files", "delete_file"),
    ("GET", "/v1/files/{file_id}/content", "files", "file_content"),
    ("POST", "/v1/uploads", "uploads", "create_upload"),
    ("POST", "/v1/uploads/{upload_id}/parts", "uploads", "add_upload_part"),
    ("POST", "/v1/uploads/{upload_id}/complete", "uploads", "complete_upload"),
    ("POST", "/v1/uploads/{upload_id}/cancel", "uploads", "cancel_upload"),
    ("POST", "/v1/batches", "batches", "create_batch"),
    ("GET", "/v1/batches", "batches", "list_batches"),
    ("GET", "/v1/batches/{batch_id}", "batches", "retrieve_batch"),
    ("POST", "/v1/batches/{batch_id}/cancel", "batches", "cancel_batch"),
    ("POST", "/v1/responses", "responses", "create_response"),
    ("POST", "/v1/responses/input_tokens", "responses", "count_input_tokens"),
    ("GET", "/v1/responses/{response_id}", "responses", "retrieve_response"),
    ("DELETE", "/v1/responses/{response_id}", "responses", "delete_response"),
    ("POST", "/v1/responses/{response_id}/cancel", "responses", "cancel_response"),
    ("GET", "/v1/responses/{response_id}/input_items", "responses", "list_input_items"),
    ("POST", "/v1/images/generations", "images", "create_image"),
    ("POST", "/v1/images/edits", "images", "edit_image"),
    ("POST", "/v1/images/variations", "images", "create_variation"),
    ("GET", "/v1/images/files/{name}", "images", "image_file"),
    ("POST", "/v1/audio/speech", "audio", "create_speech"),
    ("POST", "/v1/audio/transcriptions", "audio", "create_transcription"),
    ("POST", "/v1/audio/translations", "audio", "create_translation"),
    ("POST", "/v1/vector_stores", "vector_stores", "create_vector_store"),
    ("GET", "/v1/vector_stores", "vector_stores", "list_vector_stores"),
    ("GET", _VS, "vector_stores", "retrieve_vector_store"),
    ("POST", _VS, "vector_stores", "modify_vector_store"),
    ("DELETE", _VS, "vector_stores", "delete_vector_store"),
    ("POST", _VS + "/search", "vector_stores", "search_vector_store"),
    ("POST", _VS + "/files", "vector_store_files", "create_vector_store_file"),
    ("GET", _VS + "/files", "vector_store_files", "list_vector_store_files"),
    ("GET", _VS + "/files/{file_id}", "vector_store_files", "retrieve_vector_store_file"),
    ("POST", _VS + "/files/{file_id}", "vector_store_files", "update_vector_store_file"),
    ("DELETE", _VS + "/files/{file_id}", "vector_store_files", "delete_vector_store_file"),
    ("GET", _VS + "/files/{file_id}/content", "vector_store_files", "vector_store_file_content"),
    ("POST", _VS + "/file_batches", "vector_store_files", "create_file_batch"),
    ("GET", _VS + "/file_batches/{batch_id}", "vector_store_files", "retrieve_file_batch"),
    ("POST", _VS + "/file_batches/{batch_id}/cancel", "vector_store_files", "cancel_file_batch"),
    ("GET", _VS + "/file_batches/{batch_id}/files", "vector_store_files", "list_file_batch_files"),
    ("POST", "/rag/api/prompt", "rag", "create_rag_prompt"),
    ("GET", "/health", "monitoring", "health"),
    ("GET", "/metrics", "monitoring", "metrics_json"),
    ("GET", "/metrics/prometheus", "monitoring", "prometheus_metrics"),
    ("GET", "/kv-cache/metrics", "monitoring", "kv_cache_metrics"),
    ("GET", "/dcgm/metrics", "monitoring", "dcgm_metrics"),
    ("GET", "/dynamo/metrics", "monitoring", "dynamo_metrics"),
)


def default_router() -> Router:
    """The routes this simulator serves (:data:`ROUTES`; each endpoint's module loads on first use)."""
    router = Router()
    for method, template, module, name in ROUTES:
        router.add(method, template, lazy(module, name))
    return router
