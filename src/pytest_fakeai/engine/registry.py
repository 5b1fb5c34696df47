"""Model specifications and the per-simulator model registry.

`ModelSpec` is the immutable description of one model: what it is (``kind``), who
serves it, its limits, capabilities and list prices. The catalog of real models lives
in :mod:`pytest_fakeai.engine.catalog`; every simulator builds its own `ModelRegistry`
from it, so registrations in one simulator never leak into another.

A registry answers three kinds of question:

* *lookup* - `ModelRegistry.get` (exact id, alias or pinned snapshot; exact case first,
  then case-insensitive) and `ModelRegistry.resolve`, which can also infer and register
  a plausible spec for an id it has never seen (fine-tunes, dated snapshots,
  provider-prefixed ids, unknown open-weight models);
* *discovery* - `ModelRegistry.find`, a forgiving fuzzy search (``gpt4o``, ``llama3``);
* *capabilities* - `ModelRegistry.query` (every vision model, every embedding model
  with at least 8k context, ...).

Exceptions::

    LookupError
     └── UnknownModelError   an id that is not registered and was not inferred
"""

from __future__ import annotations

import calendar
import dataclasses
import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = [
    "ENCODINGS",
    "KINDS",
    "ModelKind",
    "ModelRegistry",
    "ModelSpec",
    "UnknownModelError",
]

ModelKind = Literal[
    "chat",
    "reasoning",
    "completion",
    "embedding",
    "rerank",
    "image",
    "audio_speech",
    "audio_transcription",
    "moderation",
    "realtime",
]
"""What a model does, which decides the endpoints that accept it.

``chat`` and ``reasoning`` models both serve ``/v1/chat/completions`` (and
``/v1/responses``); ``reasoning`` marks models that are reasoning models first (o-series,
DeepSeek-R1, QwQ). Whether a model emits reasoning tokens is the ``reasoning`` flag,
which is also true for hybrid chat models such as gpt-5 or Qwen3.
"""

KINDS: Final[tuple[ModelKind, ...]] = get_args(ModelKind)
"""Every `ModelKind`, in a fixed order."""

ENCODINGS: Final[tuple[str, ...]] = ("o200k_base", "cl100k_base")
"""The tiktoken encodings a spec may name."""

_TEXT_KINDS: Final = frozenset({"chat", "reasoning", "completion", "realtime"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """One model: identity, limits, capabilities and list prices.

    Prices are USD per one million tokens unless the field name says otherwise.
    ``context_window`` is 0 for models whose input is not limited in tokens (DALL·E,
    tts-1, whisper-1); ``max_output_tokens`` is 0 for models that produce no text
    tokens (embeddings, images, speech, moderation, rerankers).
    """

    id: str
    provider: str
    owned_by: str
    kind: ModelKind
    context_window: int
    max_output_tokens: int
    created: int
    encoding: str = "cl100k_base"

    vision: bool = False
    tools: bool = False
    structured_outputs: bool = False
    json_mode: bool = False
    reasoning: bool = False
    audio_input: bool = False
    audio_output: bool = False
    streaming: bool = False
    logprobs: bool = False

    # Request parameters the real API rejects for some models (o-series, gpt-5).
    supports_temperature: bool = True
    supports_max_tokens: bool = True
    """False when the model needs ``max_completion_tokens`` instead of ``max_tokens``."""
    supports_system_message: bool = True
    reasoning_efforts: tuple[str, ...] = ()
    default_reasoning_effort: str | None = None

    embedding_dimensions: int | None = None
    """Length of the vector returned when the request gives no ``dimensions``."""
    max_embedding_dimensions: int | None = None
    """Largest ``dimensions`` a request may ask for; None when it may not ask at all."""

    input_price: float = 0.0
    output_price: float = 0.0
    cached_input_price: float | None = None
    audio_input_price: float | None = None
    audio_output_price: float | None = None
    image_price: float | None = None
    """USD per generated image at the default size and quality."""
    price_per_minute: float | None = None
    """USD per minute of transcribed audio."""
    price_per_1m_characters: float | None = None
    """USD per million characters of speech input."""
    max_input_characters: int | None = None
    """Prompt limit in characters, where the API states one (images, speech)."""

    snapshot: str | None = None
    """The pinned id the alias points to; the real API reports it as ``model``."""
    aliases: tuple[str, ...] = ()
    base_model: str | None = None
    """For a derived model (fine-tune, snapshot, prefixed id): the id it came from."""
    auto_registered: bool = False

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.id or self.id != self.id.strip():
            problems.append("id must be non-empty without surrounding whitespace")
        if self.kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.encoding not in ENCODINGS:
            problems.append(f"encoding must be one of {', '.join(ENCODINGS)}, not {self.encoding!r}")
        if self.context_window < 0 or self.max_output_tokens < 0:
            problems.append("context_window and max_output_tokens must be >= 0")
        elif self.context_window and self.max_output_tokens > self.context_window:
            problems.append("max_output_tokens must not exceed context_window")
        for name in (
            "input_price",
            "output_price",
            "cached_input_price",
            "audio_input_price",
            "audio_output_price",
            "image_price",
            "price_per_minute",
            "price_per_1m_characters",
        ):
            value = getattr(self, name)
            if value is not None and value < 0:
                problems.append(f"{name} must be >= 0")
        if self.kind == "embedding" and not self.embedding_dimensions:
            problems.append("an embedding model needs embedding_dimensions")
        if (
            self.embedding_dimensions is not None
            and self.max_embedding_dimensions is not None
            and self.max_embedding_dimensions < self.embedding_dimensions
        ):
            problems.append("max_embedding_dimensions must be >= embedding_dimensions")
        if self.default_reasoning_effort is not None and (self.default_reasoning_effort not in self.reasoning_efforts):
            problems.append("default_reasoning_effort must be one of reasoning_efforts")
        if problems:
            raise ValueError(f"invalid ModelSpec {self.id!r}: " + "; ".join(problems))

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this spec answers to: id, pinned snapshot, then aliases."""
        extra = (self.snapshot,) if self.snapshot and self.snapshot != self.id else ()
        return (self.id, *extra, *(a for a in self.aliases if a != self.id))

    @property
    def response_model(self) -> str:
        """The ``model`` value the real API puts in responses to this id."""
        return self.snapshot or self.id

    @property
    def generates_text(self) -> bool:
        """True for the kinds that produce text tokens (chat, reasoning, completion, realtime)."""
        return self.kind in _TEXT_KINDS

    def cost(self, prompt_tokens: int, completion_tokens: int = 0, cached_tokens: int = 0) -> float:
        """USD for one request's text tokens at list price (cached tokens are part of the prompt)."""
        cached = min(max(cached_tokens, 0), prompt_tokens)
        cached_price = self.input_price if self.cached_input_price is None else self.cached_input_price
        return (
            (prompt_tokens - cached) * self.input_price + cached * cached_price + completion_tokens * self.output_price
        ) / 1_000_000

    def to_openai(self) -> dict[str, object]:
        """This model as one entry of ``GET /v1/models``."""
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by}


class UnknownModelError(LookupError):
    """A model id that is not registered (and was not auto-registered)."""

    model_id: str
    suggestions: tuple[str, ...]

    def __init__(self, model_id: str, suggestions: Iterable[str] = ()) -> None:
        self.model_id = model_id
        self.suggestions = tuple(suggestions)[:3]
        super().__init__(model_id, self.suggestions)

    def __str__(self) -> str:
        message = f"The model `{self.model_id}` does not exist or you do not have access to it."
        if self.suggestions:
            message += " Did you mean: " + ", ".join(f"`{s}`" for s in self.suggestions) + "?"
        return message


# -- name handling -----------------------------------------------------------------------------

_NON_ALNUM: Final = re.compile(r"[^a-z0-9]+")
_DATE_SUFFIX: Final = re.compile(r"^(?P<base>.+?)-(?P<date>\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$")
_CONTEXT_IN_NAME: Final = re.compile(r"(?:^|[-_:])(\d{1,4})k(?:$|[-_:])")
_DEFAULT_CREATED: Final = 1704067200  # 2024-01-01T00:00:00Z, for ids that carry no date


def _normalise(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _tokens(name: str) -> list[str]:
    return [t for t in _NON_ALNUM.split(name.lower()) if t]


def _date_to_unix(text: str) -> int | None:
    digits = text.replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    if not (1 <= month <= 12 and 1 <= day <= 31 and 2000 <= year <= 2100):
        return None
    return calendar.timegm((year, month, day, 0, 0, 0, 0, 0, 0))


# -- inference for ids nobody registered -------------------------------------------------------

_ORG_PROVIDERS: Final[dict[str, str]] = {
    "openai": "openai",
    "meta": "meta",
    "meta-llama": "meta",
    "facebook": "meta",
    "mistralai": "mistral",
    "mistral": "mistral",
    "deepseek-ai": "deepseek",
    "deepseek": "deepseek",
    "nvidia": "nvidia",
    "qwen": "qwen",
    "alibaba": "qwen",
    "anthropic": "anthropic",
    "google": "google",
    "microsoft": "microsoft",
    "ibm-granite": "ibm",
    "ibm": "ibm",
}

# Ordered: the first pattern that matches the lower-cased id names the provider.
_NAME_PROVIDERS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"nemotron|(?:^|[-/])nv-|nvidia"), "nvidia"),
    (re.compile(r"llama"), "meta"),
    (re.compile(r"mistral|mixtral|codestral|ministral|magistral|pixtral|devstral"), "mistral"),
    (re.compile(r"deepseek"), "deepseek"),
    (re.compile(r"qwen|qwq"), "qwen"),
    (re.compile(r"claude"), "anthropic"),
    (re.compile(r"gemini|gemma"), "google"),
    (re.compile(r"(?:^|/)phi-"), "microsoft"),
    (re.compile(r"granite"), "ibm"),
    (
        re.compile(r"gpt|(?:^|/)o\d(?:$|-)|dall-e|whisper|(?:^|-)tts-|text-embedding|davinci|babbage|moderation|sora"),
        "openai",
    ),
)

_OWNED_BY: Final[dict[str, str]] = {
    "openai": "system",
    "meta": "meta",
    "mistral": "mistralai",
    "deepseek": "deepseek-ai",
    "nvidia": "nvidia",
    "qwen": "qwen",
    "anthropic": "anthropic",
    "google": "google",
    "microsoft": "microsoft",
    "ibm": "ibm",
}

# (pattern on the lower-cased id, context window, max output) for families the catalog
# does not pin down; the first match wins.
_FAMILY_LIMITS: Final[tuple[tuple[re.Pattern[str], int, int], ...]] = (
    (re.compile(r"llama-?3\.[1-3]|llama3\.[1-3]|llama-?4"), 131072, 131072),
    (re.compile(r"llama-?3"), 8192, 8192),
    (re.compile(r"llama-?2"), 4096, 4096),
    (re.compile(r"mistral|mixtral|codestral|ministral"), 32768, 32768),
    (re.compile(r"qwen|qwq"), 32768, 32768),
    (re.compile(r"deepseek"), 131072, 32768),
    (re.compile(r"nemotron"), 131072, 131072),
    (re.compile(r"gemini"), 1048576, 8192),
    (re.compile(r"claude"), 200000, 8192),
    (re.compile(r"gpt-5"), 400000, 128000),
    (re.compile(r"gpt-4o|gpt-4-turbo|gpt-4-\d{4}-preview"), 128000, 4096),
    (re.compile(r"gpt-4\.1"), 1047576, 32768),
    (re.compile(r"gpt-3\.5"), 16385, 4096),
    (re.compile(r"gpt-4"), 8192, 8192),
    (re.compile(r"(?:^|/)o\d"), 200000, 100000),
)

_O200K: Final = re.compile(r"gpt-4o|gpt-4\.1|gpt-5|(?:^|/)o\d|chatgpt|gpt-image|omni|realtime|transcribe|gpt-oss")
_VISION: Final = re.compile(
    r"vision|(?:^|[-_])vl(?:$|[-_])|pixtral|llava|multimodal|omni|gpt-4o|gpt-4\.1|gpt-5|claude|gemini|"
    r"llama-?4|maverick|scout"
)
_OPEN_WEIGHT: Final = frozenset({"meta", "mistral", "deepseek", "nvidia", "qwen", "microsoft", "ibm"})


def _kind_from_name(name: str) -> ModelKind | None:
    """The kind an id's words announce, or None when they announce none."""
    lower = name.lower()
    tokens = _tokens(_basename(name))
    words = set(tokens)
    if "rerank" in lower:
        return "rerank"
    if "embed" in lower or words & {"e5", "bge", "gte"} or any(t.startswith(("bge", "gte")) for t in tokens):
        return "embedding"
    if "moderation" in lower:
        return "moderation"
    if "realtime" in lower:
        return "realtime"
    if "transcribe" in lower or "whisper" in lower or words & {"stt", "asr"}:
        return "audio_transcription"
    if "tts" in words or "speech" in words:
        return "audio_speech"
    if "dall-e" in lower or "image" in words or words & {"flux", "sdxl", "diffusion"}:
        return "image"
    if words & {"davinci", "babbage", "curie", "ada", "base"}:
        return "completion"
    if words & {"r1", "qwq", "reasoner", "reasoning", "thinking", "magistral"} or (
        tokens and re.fullmatch(r"o\d+", tokens[0]) is not None
    ):
        return "reasoning"
    if words & {"instruct", "chat", "it"}:
        return "chat"
    return None


def _guess(model_id: str) -> ModelSpec:
    """A plausible spec for an id that matches nothing registered."""
    lower = model_id.lower()
    org = lower.split("/", 1)[0] if "/" in lower else ""
    provider = _ORG_PROVIDERS.get(org) or next(
        (p for pattern, p in _NAME_PROVIDERS if pattern.search(lower)), org or "custom"
    )
    kind: ModelKind = _kind_from_name(model_id) or "chat"
    openai = provider == "openai"
    date = _DATE_SUFFIX.match(model_id)
    created = (_date_to_unix(date.group("date")) if date else None) or _DEFAULT_CREATED
    words = _tokens(lower)

    ctx, out = 0, 0
    dims: int | None = None
    if kind == "embedding":
        dims = 1536 if openai else 1024
        ctx = 8191 if openai else (512 if "e5" in words else 8192)
    elif kind == "rerank":
        ctx = 8192
    elif kind == "moderation":
        ctx = 32768
    elif kind in _TEXT_KINDS:
        ctx, out = next(((c, o) for pattern, c, o in _FAMILY_LIMITS if pattern.search(lower)), (32768, 4096))
        explicit = _CONTEXT_IN_NAME.search(lower)
        if explicit:
            ctx = int(explicit.group(1)) * 1024
        if provider in _OPEN_WEIGHT:
            out = ctx  # vLLM and NIM let a request generate up to the whole window
        out = min(out, ctx)

    chatty = kind in ("chat", "reasoning", "realtime")
    o_series = openai and kind == "reasoning"
    audio = kind == "realtime" or (chatty and "audio" in words)
    return ModelSpec(
        id=model_id,
        provider=provider,
        owned_by=_OWNED_BY.get(provider, org or "system"),
        kind=kind,
        context_window=ctx,
        max_output_tokens=out,
        created=created,
        encoding="o200k_base" if openai and _O200K.search(lower) else "cl100k_base",
        vision=chatty and _VISION.search(lower) is not None,
        tools=chatty,
        structured_outputs=chatty,
        json_mode=chatty,
        reasoning=kind == "reasoning" or "thinking" in words,
        audio_input=audio,
        audio_output=audio,
        streaming=kind in _TEXT_KINDS,
        logprobs=kind in ("chat", "completion"),
        supports_temperature=not o_series,
        supports_max_tokens=not o_series,
        reasoning_efforts=("low", "medium", "high") if o_series else (),
        default_reasoning_effort="medium" if o_series else None,
        embedding_dimensions=dims,
        max_input_characters=4096 if kind == "audio_speech" else None,
        auto_registered=True,
    )


def _derive(base: ModelSpec, model_id: str, *, owned_by: str | None = None) -> ModelSpec:
    """A copy of ``base`` answering to ``model_id`` (a fine-tune, snapshot or prefixed id)."""
    date = _DATE_SUFFIX.match(model_id)
    created = (_date_to_unix(date.group("date")) if date else None) or base.created
    lower = model_id.lower()
    start = lower.find(_basename(base.id).lower())
    extra = lower[start + len(_basename(base.id)) :] if start >= 0 else ""
    explicit = _CONTEXT_IN_NAME.search(extra)
    ctx = int(explicit.group(1)) * 1024 if explicit else base.context_window
    chatty = base.kind in ("chat", "reasoning")
    audio = chatty and "audio" in _tokens(extra)
    return dataclasses.replace(
        base,
        id=model_id,
        owned_by=owned_by or base.owned_by,
        created=created,
        context_window=ctx,
        max_output_tokens=min(base.max_output_tokens, ctx) if ctx else base.max_output_tokens,
        vision=base.vision or (chatty and "vision" in _tokens(extra)),
        audio_input=base.audio_input or audio,
        audio_output=base.audio_output or audio,
        aliases=(),
        snapshot=None,
        base_model=base.id,
        auto_registered=True,
    )


# -- fuzzy ranking -----------------------------------------------------------------------------

_SIMILARITY_CUTOFF: Final = 0.6


def _word_starts(tokens: list[str]) -> frozenset[int]:
    """Offsets in the normalised name at which each of its words begins."""
    starts, offset = set(), 0
    for token in tokens:
        starts.add(offset)
        offset += len(token)
    return frozenset(starts)


def _rank(query: str, names: Iterable[str]) -> tuple[int, int, float] | None:
    """Best (tier, sub-tier, tie-break) of ``query`` against a spec's names; lower is better.

    Tiers: 0 exact, 1 prefix, 2 substring (a match starting a word beats one inside a
    word, so ``r1`` prefers DeepSeek-R1 to whisper-1), 3 a name the query contains,
    4 difflib similarity.
    """
    best: tuple[int, int, float] | None = None
    for name in names:
        for variant in {name, _basename(name)}:
            tokens = _tokens(variant)
            candidate = "".join(tokens)
            if not candidate:
                continue
            score: tuple[int, int, float]
            if candidate == query:
                score = (0, 0, len(candidate))
            elif candidate.startswith(query):
                score = (1, 0, len(candidate))
            elif query in candidate:
                starts = _word_starts(tokens)
                at_word = any(candidate.startswith(query, i) for i in starts if i + len(query) <= len(candidate))
                score = (2, 0 if at_word else 1, len(candidate))
            elif len(candidate) >= 4 and candidate in query:
                score = (3, 0, -len(candidate))
            else:
                matcher = difflib.SequenceMatcher(None, query, candidate)
                if matcher.real_quick_ratio() < _SIMILARITY_CUTOFF or matcher.quick_ratio() < _SIMILARITY_CUTOFF:
                    continue
                ratio = matcher.ratio()
                if ratio < _SIMILARITY_CUTOFF:
                    continue
                score = (4, 0, -ratio)
            if best is None or score < best:
                best = score
    return best


# -- the registry ------------------------------------------------------------------------------


class ModelRegistry:
    """The models one simulator knows: the catalog plus whatever it registered since.

    Ordering is deterministic: catalog order, then registration order.
    """

    __slots__ = ("_basenames", "_folded", "_names", "_specs")

    def __init__(self, specs: Iterable[ModelSpec] | None = None) -> None:
        """Build a registry from ``specs``; the default is the built-in catalog."""
        if specs is None:
            from pytest_fakeai.engine.catalog import CATALOG

            specs = CATALOG
        self._specs: dict[str, ModelSpec] = {}
        self._names: dict[str, str] = {}  # exact id / alias / snapshot -> id
        self._folded: dict[str, str] = {}  # lower-cased name -> id; first registered wins
        self._basenames: dict[str, str] = {}  # lower-cased part after the last "/" -> id
        for spec in specs:
            self.register(spec)

    # -- container protocol

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(list(self._specs.values()))

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    def __repr__(self) -> str:
        return f"<ModelRegistry: {len(self)} models>"

    def ids(self) -> list[str]:
        """Every registered id, in order."""
        return list(self._specs)

    # -- changing

    def register(self, spec: ModelSpec, *, replace: bool = False) -> ModelSpec:
        """Add ``spec`` and return it; with ``replace`` it supersedes the spec with its id.

        Raises ValueError when the id is taken (and ``replace`` is false) or when an
        alias or snapshot of ``spec`` already names a different model.
        """
        if spec.id in self._specs and not replace:
            raise ValueError(f"model {spec.id!r} is already registered (pass replace=True to replace it)")
        for name in spec.names[1:]:
            owner = self._names.get(name)
            if owner is not None and owner != spec.id:
                raise ValueError(f"{name!r}, an alias of {spec.id!r}, already names {owner!r}")
        replacing = spec.id in self._specs
        self._specs[spec.id] = spec  # a replaced spec keeps its place in the order
        if replacing:
            self._reindex()
        else:
            self._index(spec)
        return spec

    def remove(self, model_id: str) -> ModelSpec | None:
        """Remove the model whose id is exactly ``model_id``; return it, or None if absent."""
        spec = self._specs.pop(model_id, None)
        if spec is not None:
            self._reindex()
        return spec

    def _index(self, spec: ModelSpec) -> None:
        self._names[spec.id] = spec.id  # an id outranks another model's alias
        for name in spec.names[1:]:
            self._names.setdefault(name, spec.id)
        for name in spec.names:
            self._folded.setdefault(name.lower(), spec.id)
            self._basenames.setdefault(_basename(name).lower(), spec.id)

    def _reindex(self) -> None:
        self._names.clear()
        self._folded.clear()
        self._basenames.clear()
        for spec in self._specs.values():
            self._index(spec)

    # -- lookup

    def get(self, model_id: str) -> ModelSpec | None:
        """The spec for an exact id, alias or pinned snapshot; then the same ignoring case."""
        found = self._names.get(model_id) or self._folded.get(model_id.lower())
        return self._specs[found] if found is not None else None

    def resolve(self, model_id: str, *, auto_register: bool = True) -> ModelSpec:
        """The spec for ``model_id``, inferring and registering one if need be.

        Without ``auto_register`` an unknown id raises `UnknownModelError` carrying up
        to three close ids. With it, the new spec (``auto_registered=True``) inherits from
        the model it names - ``ft:gpt-4o-mini-2024-07-18:org::id``, ``gpt-4o-2024-05-13``,
        ``openai/gpt-4o`` and ``Qwen/Qwen2.5-7B-Instruct-AWQ`` all inherit - or, failing
        that, is guessed from the words of the id.
        """
        spec = self.get(model_id)
        if spec is not None:
            return spec
        if not auto_register or not model_id or model_id != model_id.strip():
            raise UnknownModelError(model_id, [s.id for s in self.find(model_id, limit=3)])
        spec = self._infer(model_id)
        self._specs[spec.id] = spec
        self._index(spec)
        return spec

    def _infer(self, model_id: str) -> ModelSpec:
        if model_id.startswith("ft:"):
            # ft:<base>:<org>:<suffix>:<job id>, as the fine-tuning API names its results
            parts = model_id.split(":")
            base = self._base_for(parts[1]) if len(parts) > 1 and parts[1] else None
            base = base or _guess(parts[1] if len(parts) > 1 and parts[1] else model_id)
            owner = parts[2] if len(parts) > 2 and parts[2] else "user"
            return _derive(base, model_id, owned_by=owner)
        base = self._base_for(model_id)
        return _derive(base, model_id) if base is not None else _guess(model_id)

    def _base_for(self, name: str, depth: int = 0) -> ModelSpec | None:
        """The registered model ``name`` is a variant of, if any."""
        spec = self.get(name)
        if spec is not None or depth > 4:
            return spec
        by_basename = self._basenames.get(_basename(name).lower())
        if by_basename is not None:
            return self._specs[by_basename]
        date = _DATE_SUFFIX.match(name)
        if date:
            spec = self._base_for(date.group("base"), depth + 1)
            if spec is not None:
                return spec
        if "/" in name:
            spec = self._base_for(name.split("/", 1)[1], depth + 1)
            if spec is not None:
                return spec
        return self._family_of(name)

    def _family_of(self, name: str) -> ModelSpec | None:
        """The longest registered name that ``name`` extends (``gpt-5-pro`` -> ``gpt-5``).

        A suffix that announces another kind (``gpt-4o-mini-realtime``) breaks the family
        tie: such an id is guessed afresh instead.
        """
        lower = name.lower()
        best: tuple[int, str] | None = None
        for known, spec_id in (*self._folded.items(), *self._basenames.items()):
            if len(known) < len(lower) and lower.startswith(known) and lower[len(known)] in "-_:.":
                extra = lower[len(known) :]
                kind = _kind_from_name(extra)
                if kind is not None and kind not in ("chat", self._specs[spec_id].kind):
                    continue
                if best is None or len(known) > best[0]:
                    best = (len(known), spec_id)
        return self._specs[best[1]] if best is not None else None

    # -- discovery

    def find(self, query: str, limit: int = 5) -> list[ModelSpec]:
        """Models whose names resemble ``query``, best first.

        Case and punctuation are ignored (``gpt4o`` finds gpt-4o). Ranking: exact match,
        then names starting with the query (shorter first), then names containing it,
        then names the query contains, then difflib similarity; ties keep registry order.
        """
        wanted = _normalise(query)
        if not wanted or limit <= 0:
            return []
        scored: list[tuple[tuple[int, int, float], int, ModelSpec]] = []
        for position, spec in enumerate(self._specs.values()):
            score = _rank(wanted, spec.names)
            if score is not None:
                scored.append((score, position, spec))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [spec for _, _, spec in scored[:limit]]

    def query(
        self,
        *,
        kind: ModelKind | Iterable[ModelKind] | None = None,
        provider: str | None = None,
        vision: bool | None = None,
        tools: bool | None = None,
        structured_outputs: bool | None = None,
        reasoning: bool | None = None,
        audio_input: bool | None = None,
        audio_output: bool | None = None,
        streaming: bool | None = None,
        min_context: int | None = None,
    ) -> list[ModelSpec]:
        """Models matching every criterion given (None means "either"), in registry order.

        ``kind`` may be one kind or several; ``provider`` ignores case.
        """
        kinds: frozenset[str] | None
        if kind is None:
            kinds = None
        elif isinstance(kind, str):
            kinds = frozenset({kind})
        else:
            kinds = frozenset(kind)
        flags = {
            "vision": vision,
            "tools": tools,
            "structured_outputs": structured_outputs,
            "reasoning": reasoning,
            "audio_input": audio_input,
            "audio_output": audio_output,
            "streaming": streaming,
        }
        wanted = {name: value for name, value in flags.items() if value is not None}
        result = []
        for spec in self._specs.values():
            if kinds is not None and spec.kind not in kinds:
                continue
            if provider is not None and spec.provider.lower() != provider.lower():
                continue
            if min_context is not None and spec.context_window < min_context:
                continue
            if any(getattr(spec, name) != value for name, value in wanted.items()):
                continue
            result.append(spec)
        return result
