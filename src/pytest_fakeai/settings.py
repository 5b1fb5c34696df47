"""Simulator settings: one table drives ``FakeAI(...)``, the marker, ``--fakeai-*`` and ``fakeai_*`` ini.

Precedence, closest wins: marker > command line > environment (``FAKEAI_*``) > ini > defaults.  A bad value
raises :class:`SettingsError` naming the setting and where the value came from.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SETTINGS", "SettingSpec", "Settings", "SettingsError"]


class SettingsError(ValueError):
    """A setting has an unknown name or a bad value."""


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting.  ``kind`` is bool, int, float, str, ``tuple`` (a list of strings, comma-separated
    as text) or ``dict`` (``name=number`` pairs, comma-separated as text); ``item`` checks and
    normalises each list item or dict key (raising ValueError with the reason)."""

    name: str
    kind: type
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    nullable: bool = False
    maximum: float | None = None
    item: Callable[[str], str] | None = None

    @property
    def option(self) -> str:
        return "--fakeai-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "fakeai_" + self.name

    @property
    def env(self) -> str:
        """The environment variable: ``FAKEAI_OUTPUT_TOKENS``."""
        return "FAKEAI_" + self.name.upper()

    def describe(self) -> str:
        if self.choices:
            return " | ".join(repr(c) for c in self.choices)
        text = {
            bool: "a boolean",
            int: "an integer",
            float: "a number",
            str: "a string",
            tuple: "a list of strings (comma-separated as text)",
            dict: "name=number pairs (a dict; comma-separated as text)",
        }[self.kind]
        if self.minimum is not None:
            text += f" >= {self.minimum:g}" if self.kind is not dict else f" (numbers >= {self.minimum:g}"
            if self.maximum is not None:
                text += f" and <= {self.maximum:g}"
            text += ")" if self.kind is dict else ""
        return text + (" or None" if self.nullable else "")

    def parse_text(self, text: str, source: str) -> Any:
        """Convert a command-line or ini string."""
        raw = text.strip()
        if self.nullable and raw.lower() in ("", "none", "null"):
            return None
        try:
            if self.kind is bool:
                lowered = raw.lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError(raw)
            if self.kind is int:
                return int(raw)
            if self.kind is float:
                return float(raw)
            if self.kind is tuple:
                return tuple(part.strip() for part in raw.split(",") if part.strip())
            if self.kind is dict:
                pairs: dict[str, float] = {}
                for part in (p.strip() for p in raw.split(",") if p.strip()):
                    key, sep, number = part.rpartition("=")
                    if not sep or not key.strip():
                        raise ValueError(part)
                    pairs[key.strip()] = float(number)
                return pairs
        except ValueError:
            raise SettingsError(
                f"Invalid value {text!r} for fakeai setting {self.name!r} from {source}: expected {self.describe()}."
            ) from None
        return raw

    def check(self, value: Any, source: str) -> Any:
        """Validate a typed value (marker or keyword argument); return it normalised."""

        def bad() -> SettingsError:
            return SettingsError(
                f"Invalid value {value!r} for fakeai setting {self.name!r} from {source}: expected {self.describe()}."
            )

        if value is None:
            if self.nullable:
                return None
            raise bad()
        if self.kind is bool:
            if not isinstance(value, bool):
                raise bad()
        elif self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad()
        elif self.kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise bad()
            value = float(value)
        elif self.kind is tuple:
            return self._check_items(value, source)
        elif self.kind is dict:
            return self._check_pairs(value, source)
        elif not isinstance(value, str):
            raise bad()
        if self.choices and value not in self.choices:
            raise bad()
        if self.minimum is not None and value < self.minimum:
            raise bad()
        if self.maximum is not None and value > self.maximum:
            raise bad()
        return value

    def _normal_item(self, item: Any, value: Any, source: str) -> str:
        if not isinstance(item, str) and not (isinstance(item, int) and not isinstance(item, bool)):
            raise SettingsError(
                f"Invalid item {item!r} in fakeai setting {self.name!r} from {source}: expected a string."
            )
        text = str(item).strip()
        if self.item is None:
            return text
        try:
            return self.item(text)
        except ValueError as exc:
            raise SettingsError(
                f"Invalid value {value!r} for fakeai setting {self.name!r} from {source}: {exc}"
            ) from None

    def _check_items(self, value: Any, source: str) -> tuple[str, ...]:
        if isinstance(value, str):
            value = self.parse_text(value, source)
        if not isinstance(value, list | tuple):
            raise SettingsError(
                f"Invalid value {value!r} for fakeai setting {self.name!r} from {source}: expected {self.describe()}."
            )
        return tuple(self._normal_item(item, value, source) for item in value)

    def _check_pairs(self, value: Any, source: str) -> dict[str, float]:
        if isinstance(value, str):
            value = self.parse_text(value, source)
        if not isinstance(value, Mapping):
            raise SettingsError(
                f"Invalid value {value!r} for fakeai setting {self.name!r} from {source}: expected {self.describe()}."
            )
        pairs: dict[str, float] = {}
        for key, number in value.items():
            ok = not isinstance(number, bool) and isinstance(number, int | float) and math.isfinite(number)
            ok = ok and (self.minimum is None or number >= self.minimum)
            ok = ok and (self.maximum is None or number <= self.maximum)
            if not ok:
                raise SettingsError(
                    f"Invalid value {number!r} for {key!r} in fakeai setting {self.name!r} from {source}: "
                    f"expected {self.describe()}."
                )
            pairs[self._normal_item(key, value, source)] = float(number)
        return pairs


_PROFILE_NAMES = (
    "instant",
    "realistic",
    "h100-8b",
    "h100-70b",
    "h200-70b",
    "b200-70b",
    "a100-8b",
    "a100-70b",
    "l40s-8b",
    "api-small",
    "api-large",
    "api-reasoning",
)
_GPU_NAMES = ("H100", "H200", "A100", "B200", "L40S")


def _model_profile(text: str) -> str:
    model, sep, name = text.partition("=")
    if not sep or not model.strip() or name.strip() not in _PROFILE_NAMES:
        raise ValueError(f"a latency_models item is 'model=profile' with a profile of {', '.join(_PROFILE_NAMES)}")
    return f"{model.strip()}={name.strip()}"


def _fault_kind(text: str) -> str:
    from .engine.faults import fault_kind

    return fault_kind(text)


def _spike(text: str) -> str:
    from .engine.faults import parse_spike

    parse_spike(text)
    return text.strip()


def _limit_key(text: str) -> str:
    from .engine.ratelimit import limit_key

    return limit_key(text)


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "seed",
        int,
        "Base seed. Under pytest each test's seed is seed + crc32(node id) unless a marker sets it.",
    ),
    SettingSpec(
        "strict_models",
        bool,
        "Unknown model ids are a 404 model_not_found (default: auto-register them with inferred properties).",
    ),
    SettingSpec(
        "mode",
        str,
        "What unscripted chat and completion requests answer: generated English, or an echo of the last user message.",
        choices=("generate", "echo"),
    ),
    SettingSpec(
        "output_tokens",
        int,
        "Every completion has exactly this many tokens (finish_reason 'length'), as benchmark tools expect; "
        "in echo mode the echo is cut to at most this many.",
        minimum=1,
        nullable=True,
    ),
    SettingSpec("max_calls", int, "How many exchanges fakeai.calls keeps (a ring; older ones drop).", minimum=0),
    SettingSpec(
        "clock",
        str,
        "'virtual': nothing waits, simulated time still advances; 'real': adapters wait out simulated latency.",
        choices=("virtual", "real"),
    ),
    SettingSpec("speed", float, "Real clock only: simulated seconds per real second.", minimum=1e-6),
    SettingSpec(
        "start_time",
        float,
        "Unix time at which the simulator's clock starts (fixed by default so responses are byte-identical).",
        minimum=0,
    ),
    SettingSpec(
        "latency",
        str,
        "Latency profile: 'instant' (nothing takes time), 'realistic' (chosen per model: hosted-API tiers, "
        "or an H100 by model size), or a named one (docs/latency.md).",
        choices=_PROFILE_NAMES,
    ),
    SettingSpec(
        "latency_models",
        tuple,
        "Per-model profiles, 'model=profile' items, e.g. 'gpt-4o=api-large,llama-3.1-8b=h100-8b'.",
        item=_model_profile,
    ),
    SettingSpec("ttft", float, "Fixed time to the first token, seconds (non-zero: replaces the profile's).", minimum=0),
    SettingSpec("itl", float, "Mean seconds between output tokens (non-zero: replaces the profile's).", minimum=0),
    SettingSpec(
        "prefill_per_token",
        float,
        "Seconds of prefill per uncached prompt token (None: the profile's).",
        minimum=0,
        nullable=True,
    ),
    SettingSpec(
        "latency_jitter",
        float,
        "Coefficient of variation of each latency draw, at most 0.3 (None: the profile's).",
        minimum=0,
        maximum=0.3,
        nullable=True,
    ),
    SettingSpec(
        "load_factor",
        float,
        "How much slower a full batch decodes than one request alone (None: the profile's).",
        minimum=1,
        nullable=True,
    ),
    SettingSpec(
        "max_num_seqs",
        int,
        "Requests a model serves at once; more wait in its queue (None: the profile's).",
        minimum=1,
        nullable=True,
    ),
    SettingSpec("kv_cache", bool, "Model a prefix (KV) cache per model: cached prompt tokens shorten TTFT."),
    SettingSpec("kv_block_size", int, "Tokens per KV-cache block.", minimum=1),
    SettingSpec("kv_blocks", int, "KV-cache capacity per model, in blocks.", minimum=1),
    SettingSpec("gpu", str, "GPU type of the simulated node (DCGM telemetry).", choices=_GPU_NAMES),
    SettingSpec("gpu_count", int, "GPUs in the simulated node.", minimum=1),
    SettingSpec("stream_chunk_tokens", int, "Tokens per streamed content chunk.", minimum=1),
    SettingSpec("base_url", str, "Base URL the ready-made clients use (it must end in /v1 for OpenAI paths)."),
    SettingSpec("api_key", str, "API key the ready-made clients send."),
    SettingSpec(
        "intercept",
        bool,
        "Route requests that any httpx/httpx2 client in the process sends to OpenAI's base URL (and to "
        "intercept_urls) into the simulator for the whole test.",
    ),
    SettingSpec(
        "intercept_urls",
        str,
        "More base URLs to intercept, comma-separated (Azure OpenAI, a NIM or vLLM endpoint).",
    ),
    SettingSpec(
        "block_network",
        bool,
        "While intercepting, refuse every other request with a clear error instead of letting it through.",
    ),
    SettingSpec(
        "api_keys",
        tuple,
        "Accepted API keys. When set, every route (the real port's too) answers OpenAI's 401 to a missing or "
        "wrong key, and the ready-made clients send the first key. Empty: any key is accepted.",
    ),
    SettingSpec(
        "open_monitoring",
        bool,
        "Monitoring routes (/health, /metrics, ...) answer without an API key even when api_keys is set.",
    ),
    SettingSpec(
        "error_rate",
        float,
        "Fraction of requests that fail with an injected fault (drawn from error_types, seeded).",
        minimum=0,
        maximum=1,
    ),
    SettingSpec(
        "error_types",
        tuple,
        "The fault kinds drawn, equally likely: statuses ('429', '503', ...) or names (rate_limit_tokens, "
        "overloaded, timeout, connection_reset, stream_cut, stream_error, ...; docs/faults.md lists them).",
        item=_fault_kind,
    ),
    SettingSpec(
        "error_rates",
        dict,
        "Fault rates per model id or endpoint path, e.g. {'gpt-4o': 0.5, '/v1/embeddings': 0.1}; "
        "a model's rate wins over its endpoint's, which wins over error_rate.",
        minimum=0,
        maximum=1,
    ),
    SettingSpec(
        "error_sequence",
        tuple,
        "Fault kinds for the first requests, in order ('ok' for a success), e.g. '503,503,ok': fail the "
        "first two, then succeed; after the sequence the rates apply.",
        item=_fault_kind,
    ),
    SettingSpec(
        "error_spikes",
        tuple,
        "Time windows of the simulated clock with their own fault rate, 'START-END:RATE' in seconds since "
        "the simulator started, e.g. '10-20:0.8'.",
        item=_spike,
    ),
    SettingSpec(
        "stream_cut_after",
        int,
        "A stream_cut fault stops the stream after this many chunks (None: a seeded point in the stream).",
        minimum=1,
        nullable=True,
    ),
    SettingSpec("rpm", int, "Requests per minute per API key and model (None: unlimited).", minimum=0, nullable=True),
    SettingSpec("tpm", int, "Tokens per minute per API key and model (None: unlimited).", minimum=0, nullable=True),
    SettingSpec("rpd", int, "Requests per day per API key and model (None: unlimited).", minimum=0, nullable=True),
    SettingSpec("tpd", int, "Tokens per day per API key and model (None: unlimited).", minimum=0, nullable=True),
    SettingSpec(
        "rate_limits",
        dict,
        "Per-model and per-key limits overriding rpm/tpm/rpd/tpd, e.g. {'gpt-4o:rpm': 10, 'sk-a:tpm': 1000}.",
        minimum=0,
        item=_limit_key,
    ),
    SettingSpec(
        "fast_retries",
        bool,
        "Virtual clock: the openai SDK's retry waits cost no wall time, while the simulated timeline (and the "
        "rate-limit buckets) still move on by the delay the SDK would have slept.",
    ),
    SettingSpec(
        "assert_all_used",
        bool,
        "At the end of a test, fail if a scripted reply (fakeai.on(...)) was never used.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    """Validated simulator settings (see ``docs/settings.md``)."""

    seed: int = 0
    strict_models: bool = False
    mode: str = "generate"
    output_tokens: int | None = None
    max_calls: int = 1000
    clock: str = "virtual"
    speed: float = 1.0
    start_time: float = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    latency: str = "instant"
    latency_models: tuple[str, ...] = ()
    ttft: float = 0.0
    itl: float = 0.0
    prefill_per_token: float | None = None
    latency_jitter: float | None = None
    load_factor: float | None = None
    max_num_seqs: int | None = None
    kv_cache: bool = True
    kv_block_size: int = 16
    kv_blocks: int = 4096
    gpu: str = "H100"
    gpu_count: int = 8
    stream_chunk_tokens: int = 1
    base_url: str = "https://api.openai.com/v1"
    api_key: str = "sk-fakeai-test-key"
    intercept: bool = False
    intercept_urls: str = ""
    block_network: bool = False
    api_keys: tuple[str, ...] = ()
    open_monitoring: bool = False
    error_rate: float = 0.0
    error_types: tuple[str, ...] = ("rate_limit_requests", "server_error", "overloaded")
    error_rates: Mapping[str, float] = field(default_factory=dict)
    error_sequence: tuple[str, ...] = ()
    error_spikes: tuple[str, ...] = ()
    stream_cut_after: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    rpd: int | None = None
    tpd: int | None = None
    rate_limits: Mapping[str, float] = field(default_factory=dict)
    fast_retries: bool = True
    assert_all_used: bool = False
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Settings(...) built directly is checked too (build() has already named each value's source).
        for spec in SETTINGS:
            value = getattr(self, spec.name)
            checked = spec.check(value, self.sources.get(spec.name, "Settings(...)"))
            if checked is not value:
                object.__setattr__(self, spec.name, checked)

    @classmethod
    def build(cls, layers: Iterable[tuple[str, Mapping[str, Any]]]) -> Settings:
        """Merge ``(source, values)`` layers, lowest precedence first; validate every value."""
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for source, layer in layers:
            for name, value in layer.items():
                spec = _BY_NAME.get(name)
                if spec is None:
                    known = ", ".join(sorted(_BY_NAME))
                    raise SettingsError(f"Unknown fakeai setting {name!r} from {source}. Known settings: {known}.")
                values[name] = spec.check(value, source)
                sources[name] = source
        return cls(**values, sources=sources)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` checked and applied; ``sources`` names them ``replace()``."""
        checked = {name: _spec(name, "replace()").check(v, "replace()") for name, v in changes.items()}
        sources = {**self.sources, **dict.fromkeys(checked, "replace()")}
        return dataclasses.replace(self, **checked, sources=sources)

    def as_dict(self) -> dict[str, Any]:
        return {s.name: getattr(self, s.name) for s in SETTINGS}


def _spec(name: str, source: str) -> SettingSpec:
    spec = _BY_NAME.get(name)
    if spec is None:
        raise SettingsError(
            f"Unknown fakeai setting {name!r} from {source}. Known settings: {', '.join(sorted(_BY_NAME))}."
        )
    return spec
