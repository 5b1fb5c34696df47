"""Simulator settings: one table drives ``FakeAI(...)``, the marker, ``--fakeai-*`` and ``fakeai_*`` ini.

Precedence, closest wins: marker > command line > ini > defaults.  A bad value
raises :class:`SettingsError` naming the setting and where the value came from.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SETTINGS", "SettingSpec", "Settings", "SettingsError"]


class SettingsError(ValueError):
    """A setting has an unknown name or a bad value."""


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    kind: type  # bool, int, float, str
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    nullable: bool = False

    @property
    def option(self) -> str:
        return "--fakeai-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "fakeai_" + self.name

    def describe(self) -> str:
        if self.choices:
            return " | ".join(repr(c) for c in self.choices)
        text = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}[self.kind]
        if self.minimum is not None:
            text += f" >= {self.minimum:g}"
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
        elif not isinstance(value, str):
            raise bad()
        if self.choices and value not in self.choices:
            raise bad()
        if self.minimum is not None and value < self.minimum:
            raise bad()
        return value


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
    SettingSpec("ttft", float, "Seconds to the first token (constant latency).", minimum=0),
    SettingSpec("itl", float, "Seconds between tokens (constant latency).", minimum=0),
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
    ttft: float = 0.0
    itl: float = 0.0
    stream_chunk_tokens: int = 1
    base_url: str = "https://api.openai.com/v1"
    api_key: str = "sk-fakeai-test-key"
    intercept: bool = False
    intercept_urls: str = ""
    block_network: bool = False
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
