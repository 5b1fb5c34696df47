"""Root conftest: point tiktoken at the shared offline encodings when they are beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

_SHARED_CACHE = Path(__file__).resolve().parent.parent / "shared" / "tiktoken-cache"
if "TIKTOKEN_CACHE_DIR" not in os.environ and _SHARED_CACHE.is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_SHARED_CACHE)
