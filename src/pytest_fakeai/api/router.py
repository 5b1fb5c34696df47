"""Routing: (method, path) → handler, with OpenAI's 404 and 405 for everything else."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import method_not_allowed, not_found_route
from .types import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = ["Handler", "Router", "default_router"]

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
        handler, params = self.resolve(request.method, request.path)
        return handler(engine, request, **params)


def _chat(engine: Engine, request: ApiRequest) -> ApiResponse:
    from .chat import create_chat_completion

    return create_chat_completion(engine, request)


def _completions(engine: Engine, request: ApiRequest) -> ApiResponse:
    from .completions import create_completion

    return create_completion(engine, request)


def _models(name: str) -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import models

        result: ApiResponse = getattr(models, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _files(name: str) -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import files

        result: ApiResponse = getattr(files, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _uploads(name: str) -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import uploads

        result: ApiResponse = getattr(uploads, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _embeddings(engine: Engine, request: ApiRequest) -> ApiResponse:
    from .embeddings import create_embedding

    return create_embedding(engine, request)


def _moderations(engine: Engine, request: ApiRequest) -> ApiResponse:
    from .moderations import create_moderation

    return create_moderation(engine, request)


def _ranking(engine: Engine, request: ApiRequest) -> ApiResponse:
    from .ranking import create_ranking

    return create_ranking(engine, request)


def _batches(name: str) -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import batches

        result: ApiResponse = getattr(batches, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _responses(name: str) -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import responses

        result: ApiResponse = getattr(responses, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _images(name: str) -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import images

        result: ApiResponse = getattr(images, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _audio(name: str) -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import audio

        result: ApiResponse = getattr(audio, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _monitoring(name: str) -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import monitoring

        result: ApiResponse = getattr(monitoring, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _vector_stores(name: str, module: str = "vector_stores") -> Handler:
    def handler(engine: Engine, request: ApiRequest, **params: Any) -> ApiResponse:
        from . import vector_store_files, vector_stores

        target = vector_stores if module == "vector_stores" else vector_store_files
        result: ApiResponse = getattr(target, name)(engine, request, **params)
        return result

    handler.__name__ = name
    return handler


def _rag(engine: Engine, request: ApiRequest) -> ApiResponse:
    from .rag import create_rag_prompt

    return create_rag_prompt(engine, request)


def default_router() -> Router:
    """The routes this simulator serves (each endpoint's module loads on first use)."""
    router = Router()
    router.add("POST", "/v1/chat/completions", _chat)
    router.add("POST", "/v1/completions", _completions)
    router.add("GET", "/v1/models", _models("list_models"))
    router.add("GET", "/v1/models/{model:path}", _models("retrieve_model"))
    router.add("DELETE", "/v1/models/{model:path}", _models("delete_model"))
    router.add("POST", "/v1/embeddings", _embeddings)
    router.add("POST", "/v1/moderations", _moderations)
    router.add("POST", "/v1/ranking", _ranking)
    router.add("POST", "/v1/files", _files("create_file"))
    router.add("GET", "/v1/files", _files("list_files"))
    router.add("GET", "/v1/files/{file_id}", _files("retrieve_file"))
    router.add("DELETE", "/v1/files/{file_id}", _files("delete_file"))
    router.add("GET", "/v1/files/{file_id}/content", _files("file_content"))
    router.add("POST", "/v1/uploads", _uploads("create_upload"))
    router.add("POST", "/v1/uploads/{upload_id}/parts", _uploads("add_upload_part"))
    router.add("POST", "/v1/uploads/{upload_id}/complete", _uploads("complete_upload"))
    router.add("POST", "/v1/uploads/{upload_id}/cancel", _uploads("cancel_upload"))
    router.add("POST", "/v1/batches", _batches("create_batch"))
    router.add("GET", "/v1/batches", _batches("list_batches"))
    router.add("GET", "/v1/batches/{batch_id}", _batches("retrieve_batch"))
    router.add("POST", "/v1/batches/{batch_id}/cancel", _batches("cancel_batch"))
    router.add("POST", "/v1/responses", _responses("create_response"))
    router.add("POST", "/v1/responses/input_tokens", _responses("count_input_tokens"))
    router.add("GET", "/v1/responses/{response_id}", _responses("retrieve_response"))
    router.add("DELETE", "/v1/responses/{response_id}", _responses("delete_response"))
    router.add("POST", "/v1/responses/{response_id}/cancel", _responses("cancel_response"))
    router.add("GET", "/v1/responses/{response_id}/input_items", _responses("list_input_items"))
    router.add("POST", "/v1/images/generations", _images("create_image"))
    router.add("POST", "/v1/images/edits", _images("edit_image"))
    router.add("POST", "/v1/images/variations", _images("create_variation"))
    router.add("GET", "/v1/images/files/{name}", _images("image_file"))
    router.add("POST", "/v1/audio/speech", _audio("create_speech"))
    router.add("POST", "/v1/audio/transcriptions", _audio("create_transcription"))
    router.add("POST", "/v1/audio/translations", _audio("create_translation"))
    router.add("GET", "/health", _monitoring("health"))
    router.add("GET", "/metrics", _monitoring("metrics_json"))
    router.add("GET", "/metrics/prometheus", _monitoring("prometheus_metrics"))
    router.add("GET", "/kv-cache/metrics", _monitoring("kv_cache_metrics"))
    router.add("GET", "/dcgm/metrics", _monitoring("dcgm_metrics"))
    router.add("GET", "/dynamo/metrics", _monitoring("dynamo_metrics"))
    router.add("POST", "/v1/vector_stores", _vector_stores("create_vector_store"))
    router.add("GET", "/v1/vector_stores", _vector_stores("list_vector_stores"))
    router.add("GET", "/v1/vector_stores/{vector_store_id}", _vector_stores("retrieve_vector_store"))
    router.add("POST", "/v1/vector_stores/{vector_store_id}", _vector_stores("modify_vector_store"))
    router.add("DELETE", "/v1/vector_stores/{vector_store_id}", _vector_stores("delete_vector_store"))
    router.add("POST", "/v1/vector_stores/{vector_store_id}/search", _vector_stores("search_vector_store"))
    _vsf = "vector_store_files"
    router.add("POST", "/v1/vector_stores/{vector_store_id}/files", _vector_stores("create_vector_store_file", _vsf))
    router.add("GET", "/v1/vector_stores/{vector_store_id}/files", _vector_stores("list_vector_store_files", _vsf))
    for method, name in (("GET", "retrieve"), ("POST", "update"), ("DELETE", "delete")):
        router.add(
            method,
            "/v1/vector_stores/{vector_store_id}/files/{file_id}",
            _vector_stores(f"{name}_vector_store_file", _vsf),
        )
    router.add(
        "GET",
        "/v1/vector_stores/{vector_store_id}/files/{file_id}/content",
        _vector_stores("vector_store_file_content", _vsf),
    )
    router.add("POST", "/v1/vector_stores/{vector_store_id}/file_batches", _vector_stores("create_file_batch", _vsf))
    router.add(
        "GET",
        "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}",
        _vector_stores("retrieve_file_batch", _vsf),
    )
    router.add(
        "POST",
        "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel",
        _vector_stores("cancel_file_batch", _vsf),
    )
    router.add(
        "GET",
        "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files",
        _vector_stores("list_file_batch_files", _vsf),
    )
    router.add("POST", "/rag/api/prompt", _rag)
    return router
