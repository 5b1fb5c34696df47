"""``/v1/models``: list, retrieve, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .common import json_response, resolve_model
from .errors import ApiError, model_not_found
from .types import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.registry import ModelSpec

__all__ = ["delete_model", "list_models", "model_object", "retrieve_model"]


def model_object(spec: ModelSpec) -> dict[str, Any]:
    return {"id": spec.id, "object": "model", "created": spec.created, "owned_by": spec.owned_by}


def _ok(engine: Engine, body: dict[str, Any]) -> ApiResponse:
    return json_response(engine, body)


def list_models(engine: Engine, request: ApiRequest) -> ApiResponse:
    return _ok(engine, {"object": "list", "data": [model_object(s) for s in engine.registry]})


def retrieve_model(engine: Engine, request: ApiRequest, model: str) -> ApiResponse:
    return _ok(engine, model_object(resolve_model(engine, model)))


def delete_model(engine: Engine, request: ApiRequest, model: str) -> ApiResponse:
    spec = engine.registry.get(model)
    if spec is None:
        raise model_not_found(model)
    if not (spec.id.startswith("ft:") or spec.auto_registered):
        raise ApiError(
            403,
            f"You have insufficient permissions for this operation: only fine-tuned models you own can be "
            f"deleted, and `{spec.id}` is a base model.",
            type="invalid_request_error",
            code="model_not_owned",
        )
    engine.registry.remove(spec.id)
    return _ok(engine, {"id": spec.id, "object": "model", "deleted": True})
