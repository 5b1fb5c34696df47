"""The engine: per-simulator state that handlers draw on.  No HTTP, no pytest."""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .clock import Clock
from .rng import derive_seed

if TYPE_CHECKING:
    from ..settings import Settings
    from .gpu import GpuNode
    from .registry import ModelRegistry, ModelSpec
    from .serving import ServingModel
    from .stats import ServingStats
    from .textgen import TextGenerator
    from .tokenizer import Tokenizer

__all__ = ["Engine", "random_token"]

_ID_ALPHABET = string.ascii_letters + string.digits
# byte -> id character: random bytes translate straight into an id (the 256 % 62 bias is harmless here)
_ID_TABLE = bytes(ord(_ID_ALPHABET[i % len(_ID_ALPHABET)]) for i in range(256))


def random_token(rng: random.Random, length: int) -> str:
    """``length`` letters and digits from ``rng`` (random bytes translated: ~10x cheaper than choices())."""
    return rng.randbytes(length).translate(_ID_TABLE).decode("ascii")


class Engine:
    """Registry, tokenizers, generator, clock and id sources of one simulator."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seed = settings.seed
        self.clock = Clock(settings.clock, start=settings.start_time, speed=settings.speed)  # type: ignore[arg-type]
        self._registry: ModelRegistry | None = None
        self._tokenizers: dict[str, Tokenizer] = {}
        self._generator: TextGenerator | None = None
        self._serving: ServingModel | None = None
        self._stats: ServingStats | None = None
        self._gpu: GpuNode | None = None
        self._ids = random.Random(derive_seed(self.seed, "ids"))
        self.draws = random.Random(derive_seed(self.seed, "draws"))  # unseeded requests' running stream
        self._lock = threading.Lock()
        self._fingerprints: dict[str, str] = {}
        # per-endpoint memo of parsed request bodies (bounded by the endpoint; pure functions of the bytes)
        self.caches: dict[str, dict[bytes, Any]] = {}
        # per-simulator state (files, batches, stored responses, ...): one object per owning module,
        # created on first use by that module (``engine.stores.setdefault(name, ...)``); never shared
        self.stores: dict[str, Any] = {}
        # how handlers reach the simulator's own endpoints (a batch runs its lines through them);
        # set by FakeAI: (method, path, body) -> (status, json body or None)
        self.dispatch: Callable[[str, str, bytes], tuple[int, Any]] | None = None

    # -- lazily built parts -----------------------------------------------------------------
    @property
    def registry(self) -> ModelRegistry:
        if self._registry is None:
            from .registry import ModelRegistry

            self._registry = ModelRegistry()
        return self._registry

    @property
    def stats(self) -> ServingStats:
        """What was served, accumulated (engine/stats.py): the source of metrics and Prometheus text."""
        if self._stats is None:
            from .stats import ServingStats

            self._stats = ServingStats(derive_seed(self.seed, "stats") & 0xFFFFFFFF)
        return self._stats

    @property
    def gpu(self) -> GpuNode:
        """The simulated GPU node (engine/gpu.py); :meth:`update_gpu` brings it to now."""
        if self._gpu is None:
            from .gpu import GpuNode

            self._gpu = GpuNode(self.settings.gpu, self.settings.gpu_count, seed=self.seed)
        return self._gpu

    def update_gpu(self) -> GpuNode:
        """Move the GPU node to the clock's now at the current load (requests in flight / capacity) and
        KV usage (the fullest model cache)."""
        now = self.clock.elapsed()
        gpu = self.gpu
        if self._serving is None:
            gpu.update(now, load=0.0, kv_usage=0.0)
            return gpu
        running, capacity, kv, rate = 0, 0, 0.0, 0.0
        for name, model in self._serving.models.items():
            busy = self._serving.running_of(name, now)
            running += busy
            profile = model.profile
            capacity += profile.max_num_seqs if busy else 0
            if busy and profile.itl > 0:  # each request in the batch makes a token per inter-token gap
                rate += busy / (profile.itl * profile.lf(busy))
            if model.kv is not None:
                kv = max(kv, model.kv.usage)
        load = min(1.0, running / capacity) if capacity else 0.0
        gpu.update(now, load=load, kv_usage=kv, active_requests=running, tokens_per_s=rate)
        return gpu

    @property
    def serving(self) -> ServingModel:
        """Latency, queueing and the KV cache of every model (engine/serving.py)."""
        if self._serving is None:
            from .serving import ServingModel

            self._serving = ServingModel(self.settings, self.seed)
        return self._serving

    @property
    def generator(self) -> TextGenerator:
        if self._generator is None:
            from .textgen import TextGenerator

            self._generator = TextGenerator()
        return self._generator

    def tokenizer(self, spec: ModelSpec) -> Tokenizer:
        # gpt-4o-mini counts images as 2833 + 5667 per tile; the other vision models as 85 + 170.
        mini = spec.id.startswith("gpt-4o-mini") or (spec.base_model or "").startswith("gpt-4o-mini")
        key = spec.encoding + (":mini" if mini else "")
        tok = self._tokenizers.get(key)
        if tok is None:
            from .tokenizer import Tokenizer

            costs = {"image_base": 2833, "image_tile": 5667} if mini else {}
            tok = self._tokenizers[key] = Tokenizer(spec.encoding, **costs)
        return tok

    # -- identity ---------------------------------------------------------------------------
    def new_id(self, prefix: str, length: int = 24) -> str:
        """An id like OpenAI's (``chatcmpl-…``), from the simulator's own seeded source."""
        with self._lock:
            return prefix + random_token(self._ids, length)

    def new_hex(self, length: int) -> str:
        with self._lock:
            return f"{self._ids.getrandbits(4 * length):0{length}x}"

    def fingerprint(self, model: str) -> str:
        """A stable ``system_fingerprint`` per (seed, model), like a backend configuration."""
        fp = self._fingerprints.get(model)
        if fp is None:
            fp = self._fingerprints[model] = f"fp_{derive_seed(self.seed, 'fingerprint', model) & 0xFFFFFFFFFF:010x}"
        return fp
