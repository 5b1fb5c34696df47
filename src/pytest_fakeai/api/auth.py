"""API-key checks: OpenAI's 401s, on every route when ``api_keys`` is set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import ApiError

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = ["MONITORING_PREFIXES", "api_key_of", "check_auth", "masked_key", "missing_key", "wrong_key"]

#: Paths of the monitoring routes (``open_monitoring`` lets them answer without a key).
MONITORING_PREFIXES = ("/health", "/metrics", "/kv-cache", "/dcgm", "/dynamo")


def masked_key(api_key: str) -> str:
    """How OpenAI shows a key in its 401 message: ``sk-abc*****wxyz``."""
    if len(api_key) <= 8:
        return "*" * len(api_key)
    return api_key[:3] + "*" * (len(api_key) - 7) + api_key[-4:]


def api_key_of(headers: Mapping[str, str]) -> str | None:
    """The key a request presents: ``Authorization: Bearer …`` (or Azure's ``api-key`` header)."""
    auth = headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else auth.strip()
    key = headers.get("api-key")
    return key.strip() if key is not None else None


def missing_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
        "you're accessing the API from your browser and are prompted for a username and password. You can "
        "obtain an API key from https://platform.openai.com/account/api-keys.",
    )


def wrong_key(api_key: str) -> ApiError:
    return ApiError(
        401,
        f"Incorrect API key provided: {masked_key(api_key)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def check_auth(engine: Engine, path: str, headers: Mapping[str, str]) -> None:
    """Raise OpenAI's 401 unless the request carries an accepted key (no-op when ``api_keys`` is empty)."""
    keys = engine.settings.api_keys
    if not keys:
        return
    if engine.settings.open_monitoring and path.startswith(MONITORING_PREFIXES):
        return
    key = api_key_of(headers)
    if not key:
        raise missing_key()
    if key not in keys:
        raise wrong_key(key)
