"""The model catalog and the per-simulator registry."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from pytest_fakeai.engine import catalog, registry
from pytest_fakeai.engine.catalog import CATALOG
from pytest_fakeai.engine.registry import KINDS, ModelRegistry, ModelSpec, UnknownModelError


@pytest.fixture
def models() -> ModelRegistry:
    return ModelRegistry()


def _spec(**changes: object) -> ModelSpec:
    fields: dict[str, object] = {
        "id": "acme/test-model",
        "provider": "acme",
        "owned_by": "acme",
        "kind": "chat",
        "context_window": 4096,
        "max_output_tokens": 1024,
        "created": 1_700_000_000,
    }
    fields.update(changes)
    return ModelSpec(**fields)  # type: ignore[arg-type]


# -- the catalog -------------------------------------------------------------------------------


def test_modules_declare_sorted_all() -> None:
    for module in (catalog, registry):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name)


def test_catalog_is_an_immutable_tuple_of_specs() -> None:
    assert isinstance(CATALOG, tuple)
    assert all(isinstance(spec, ModelSpec) for spec in CATALOG)
    with pytest.raises(dataclasses.FrozenInstanceError):
        CATALOG[0].id = "changed"  # type: ignore[misc]


def test_catalog_size_providers_and_kinds() -> None:
    assert len(CATALOG) >= 45
    assert len({spec.provider for spec in CATALOG}) >= 7
    assert {spec.kind for spec in CATALOG} == set(KINDS)


def test_catalog_names_are_unique() -> None:
    names = [name for spec in CATALOG for name in spec.names]
    assert len(names) == len(set(names))
    assert not any(spec.auto_registered for spec in CATALOG)


@pytest.mark.parametrize("spec", CATALOG, ids=lambda spec: spec.id)
def test_every_spec_is_sane(spec: ModelSpec) -> None:
    assert spec.encoding in ("o200k_base", "cl100k_base")
    assert spec.max_output_tokens <= spec.context_window or spec.context_window == 0
    prices = [
        spec.input_price,
        spec.output_price,
        spec.cached_input_price,
        spec.audio_input_price,
        spec.audio_output_price,
        spec.image_price,
        spec.price_per_minute,
        spec.price_per_1m_characters,
    ]
    assert all(price is None or price >= 0 for price in prices)
    if spec.cached_input_price is not None:
        assert spec.cached_input_price <= spec.input_price
    if spec.kind == "embedding":
        assert spec.embedding_dimensions
        assert spec.max_output_tokens == 0
    if spec.generates_text:
        assert spec.context_window > 0
        assert spec.max_output_tokens > 0
        assert spec.streaming
    assert spec.created > 1_500_000_000
    assert spec.owned_by
    if spec.default_reasoning_effort is not None:
        assert spec.default_reasoning_effort in spec.reasoning_efforts


_REQUIRED = """
    gpt-4o gpt-4o-mini gpt-4.1 gpt-4.1-mini gpt-4.1-nano gpt-4-turbo gpt-4 gpt-3.5-turbo
    gpt-5 gpt-5-mini gpt-5-nano chatgpt-4o-latest o1 o1-mini o3 o3-mini o4-mini
    gpt-3.5-turbo-instruct davinci-002 babbage-002
    text-embedding-3-small text-embedding-3-large text-embedding-ada-002
    dall-e-2 dall-e-3 gpt-image-1
    whisper-1 tts-1 tts-1-hd gpt-4o-transcribe gpt-4o-mini-tts gpt-4o-audio-preview
    omni-moderation-latest text-moderation-latest
    meta-llama/Llama-3.1-8B-Instruct meta-llama/Llama-3.1-70B-Instruct
    meta-llama/Llama-3.3-70B-Instruct meta/llama-3.1-405b-instruct
    mistralai/Mistral-7B-Instruct-v0.3 mistralai/Mixtral-8x7B-Instruct-v0.1 mistral-large-latest
    deepseek-ai/DeepSeek-R1 deepseek-ai/DeepSeek-V3 deepseek-ai/DeepSeek-R1-Distill-Llama-8B
    nvidia/llama-3.1-nemotron-70b-instruct nvidia/llama-3.3-nemotron-super-49b-v1
    nvidia/nv-embedqa-e5-v5 nvidia/llama-3.2-nv-rerankqa-1b-v2
    Qwen/Qwen2.5-7B-Instruct Qwen/Qwen2.5-72B-Instruct Qwen/QwQ-32B Qwen/Qwen3-8B
    claude-sonnet-4-5 claude-opus-4-1 claude-3-5-haiku-latest
"""


def test_required_models_are_catalogued() -> None:
    catalogued = {spec.id for spec in CATALOG}
    assert [model_id for model_id in _REQUIRED.split() if model_id not in catalogued] == []


def test_real_numbers(models: ModelRegistry) -> None:
    gpt4o = models.resolve("gpt-4o")
    assert (gpt4o.context_window, gpt4o.max_output_tokens) == (128_000, 16_384)
    assert (gpt4o.input_price, gpt4o.output_price, gpt4o.cached_input_price) == (2.50, 10.00, 1.25)
    assert (gpt4o.encoding, gpt4o.owned_by, gpt4o.created) == ("o200k_base", "system", 1715367049)
    assert models.resolve("gpt-4").context_window == 8192
    assert models.resolve("gpt-4").encoding == "cl100k_base"
    assert models.resolve("gpt-4.1").context_window == 1_047_576
    assert models.resolve("gpt-3.5-turbo").owned_by == "openai"
    large = models.resolve("text-embedding-3-large")
    assert (large.kind, large.embedding_dimensions, large.max_embedding_dimensions) == (
        "embedding",
        3072,
        3072,
    )
    assert models.resolve("text-embedding-3-small").embedding_dimensions == 1536
    ada = models.resolve("text-embedding-ada-002")
    assert (ada.embedding_dimensions, ada.max_embedding_dimensions) == (1536, None)
    assert models.resolve("nvidia/nv-embedqa-e5-v5").embedding_dimensions == 1024


def test_kinds_and_capabilities_of_known_models(models: ModelRegistry) -> None:
    assert models.resolve("o3-mini").kind == "reasoning"
    assert models.resolve("deepseek-ai/DeepSeek-R1").kind == "reasoning"
    assert models.resolve("Qwen/QwQ-32B").kind == "reasoning"
    assert models.resolve("gpt-3.5-turbo-instruct").kind == "completion"
    assert models.resolve("nvidia/llama-3.2-nv-rerankqa-1b-v2").kind == "rerank"
    o1 = models.resolve("o1")
    assert not o1.supports_temperature
    assert not o1.supports_max_tokens
    assert o1.reasoning_efforts == ("low", "medium", "high")
    assert not models.resolve("o1-mini").supports_system_message
    gpt5 = models.resolve("gpt-5")
    assert gpt5.reasoning
    assert "minimal" in gpt5.reasoning_efforts
    assert models.resolve("gpt-4o").supports_temperature
    assert models.resolve("gpt-4o-audio-preview").audio_output


def test_spec_helpers(models: ModelRegistry) -> None:
    gpt4o = models.resolve("gpt-4o")
    assert gpt4o.response_model == "gpt-4o-2024-08-06"
    assert gpt4o.names == ("gpt-4o", "gpt-4o-2024-08-06")
    assert gpt4o.to_openai() == {
        "id": "gpt-4o",
        "object": "model",
        "created": 1715367049,
        "owned_by": "system",
    }
    # 1M prompt tokens of which half cached, plus 1M completion tokens
    assert gpt4o.cost(1_000_000, 1_000_000, cached_tokens=500_000) == pytest.approx(1.25 + 0.625 + 10.0)
    assert models.resolve("gpt-4").cost(1000) == pytest.approx(0.03)


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="max_output_tokens"):
        _spec(max_output_tokens=8192)
    with pytest.raises(ValueError, match="kind"):
        _spec(kind="telepathy")
    with pytest.raises(ValueError, match="encoding"):
        _spec(encoding="gpt2")
    with pytest.raises(ValueError, match="embedding_dimensions"):
        _spec(kind="embedding", max_output_tokens=0)
    with pytest.raises(ValueError, match="input_price"):
        _spec(input_price=-1.0)


# -- lookup ------------------------------------------------------------------------------------


def test_get_exact_alias_snapshot_and_case(models: ModelRegistry) -> None:
    assert models.get("gpt-4o") is models.get("gpt-4o-2024-08-06")
    assert models.get("GPT-4o") is models.get("gpt-4o")
    nim = models.get("meta/llama-3.1-8b-instruct")
    assert nim is not None
    assert nim.id == "meta-llama/Llama-3.1-8B-Instruct"
    assert models.get("deepseek-ai/deepseek-r1") is models.get("deepseek-ai/DeepSeek-R1")
    assert models.get("claude-sonnet-4-5-20250929") is models.get("claude-sonnet-4-5")
    assert models.get("no-such-model") is None
    assert "gpt-4o" in models
    assert "no-such-model" not in models
    assert 42 not in models


def test_snapshot_resolution_inherits(models: ModelRegistry) -> None:
    spec = models.resolve("gpt-4o-2024-05-13")
    assert spec.id == "gpt-4o-2024-05-13"
    assert spec.auto_registered
    assert spec.base_model == "gpt-4o"
    assert (spec.context_window, spec.input_price, spec.encoding) == (128_000, 2.50, "o200k_base")
    assert spec.response_model == "gpt-4o-2024-05-13"
    assert models.resolve("gpt-4-0314").base_model == "gpt-4"
    assert models.resolve("claude-sonnet-4-5-20991231").base_model == "claude-sonnet-4-5"
    assert "gpt-4o-2024-05-13" in models


def test_fine_tune_resolution_inherits(models: ModelRegistry) -> None:
    spec = models.resolve("ft:gpt-4o-mini-2024-07-18:my-org::abc123")
    assert spec.id == "ft:gpt-4o-mini-2024-07-18:my-org::abc123"
    assert spec.base_model == "gpt-4o-mini"
    assert spec.owned_by == "my-org"
    assert spec.auto_registered
    assert (spec.kind, spec.context_window, spec.tools) == ("chat", 128_000, True)
    assert models.resolve("ft:gpt-3.5-turbo-0125:acme:support:9x8y7z").encoding == "cl100k_base"


def test_provider_prefixed_ids_inherit(models: ModelRegistry) -> None:
    spec = models.resolve("openai/gpt-4o")
    assert (spec.id, spec.base_model, spec.context_window) == ("openai/gpt-4o", "gpt-4o", 128_000)
    assert models.resolve("Llama-3.1-8B-Instruct").id == "meta-llama/Llama-3.1-8B-Instruct"  # an alias
    hosted = models.resolve("hosted/Llama-3.1-8B-Instruct")
    assert (hosted.base_model, hosted.provider) == ("meta-llama/Llama-3.1-8B-Instruct", "meta")
    quantised = models.resolve("Qwen/Qwen2.5-7B-Instruct-AWQ")
    assert quantised.base_model == "Qwen/Qwen2.5-7B-Instruct"
    assert quantised.max_output_tokens == 8192
    assert models.resolve("models/gemini-2.5-flash").base_model == "gemini-2.5-flash"


def test_variants_inherit_from_their_family(models: ModelRegistry) -> None:
    assert models.resolve("o3-pro").base_model == "o3"
    assert models.resolve("o3-pro").kind == "reasoning"
    assert models.resolve("gpt-4o-mini-search-preview").base_model == "gpt-4o-mini"
    long = models.resolve("gpt-4-32k")
    assert (long.base_model, long.context_window) == ("gpt-4", 32_768)
    # a suffix announcing another kind is not the family's
    realtime = models.resolve("gpt-4o-mini-realtime-preview")
    assert realtime.kind == "realtime"
    assert realtime.base_model is None


@pytest.mark.parametrize(
    ("model_id", "provider", "kind"),
    [
        ("acme/my-embed-v2", "acme", "embedding"),
        ("BAAI/bge-large-en-v1.5", "baai", "embedding"),
        ("meta-llama/Llama-3.2-1B-Instruct", "meta", "chat"),
        ("llama3.1:8b", "meta", "chat"),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "deepseek", "reasoning"),
        ("Qwen/QwQ-72B-Preview", "qwen", "reasoning"),
        ("o9-mini", "openai", "reasoning"),
        ("mistralai/Mistral-Nemo-Instruct-2407", "mistral", "chat"),
        ("nvidia/llama-3.1-nemotron-nano-8b-v1", "nvidia", "chat"),
        ("google/gemma-2-9b-it", "google", "chat"),
        ("acme/reranker-rerank-v1", "acme", "rerank"),
        ("whisper-large-v3", "openai", "audio_transcription"),
        ("totally-new-model", "custom", "chat"),
    ],
)
def test_unknown_ids_are_guessed(models: ModelRegistry, model_id: str, provider: str, kind: str) -> None:
    spec = models.resolve(model_id)
    assert (spec.id, spec.provider, spec.kind) == (model_id, provider, kind)
    assert spec.auto_registered
    assert spec.max_output_tokens <= spec.context_window or spec.context_window == 0
    assert models.get(model_id) is spec
    assert models.ids()[-1] == model_id


def test_guessed_limits(models: ModelRegistry) -> None:
    llama = models.resolve("meta-llama/Llama-3.2-1B-Instruct")
    assert (llama.context_window, llama.owned_by, llama.encoding) == (131_072, "meta", "cl100k_base")
    assert models.resolve("meta-llama/Llama-2-7b-chat-hf").context_window == 4096
    assert models.resolve("acme/my-embed-v2").embedding_dimensions == 1024
    o9 = models.resolve("o9-mini")
    assert (o9.encoding, o9.supports_temperature, o9.reasoning) == ("o200k_base", False, True)


def test_strict_resolution_raises_with_suggestions(models: ModelRegistry) -> None:
    with pytest.raises(UnknownModelError) as caught:
        models.resolve("gpt-4o-ultra", auto_register=False)
    error = caught.value
    assert error.model_id == "gpt-4o-ultra"
    assert 1 <= len(error.suggestions) <= 3
    assert error.suggestions[0] == "gpt-4o"
    assert "`gpt-4o-ultra` does not exist" in str(error)
    assert "Did you mean" in str(error)
    assert isinstance(error, LookupError)
    assert "gpt-4o-ultra" not in models
    # known ids, aliases and pinned snapshots still resolve strictly
    assert models.resolve("gpt-4o-2024-08-06", auto_register=False).id == "gpt-4o"


def test_unknown_model_error_without_suggestions_and_pickling() -> None:
    error = UnknownModelError("zzz")
    assert error.suggestions == ()
    assert "Did you mean" not in str(error)
    copy = pickle.loads(pickle.dumps(UnknownModelError("x", ["a", "b", "c", "d"])))
    assert (copy.model_id, copy.suggestions) == ("x", ("a", "b", "c"))


def test_empty_or_padded_id_never_auto_registers(models: ModelRegistry) -> None:
    with pytest.raises(UnknownModelError):
        models.resolve("")
    with pytest.raises(UnknownModelError):
        models.resolve(" gpt-4o-foo ")


# -- discovery ---------------------------------------------------------------------------------


def test_find_normalises_and_ranks(models: ModelRegistry) -> None:
    assert models.find("gpt4o")[0].id == "gpt-4o"
    assert models.find("GPT-4O")[0].id == "gpt-4o"
    assert models.find("gpt4o", limit=2) == [models.get("gpt-4o"), models.get("gpt-4o-mini")]


def test_find_llama3(models: ModelRegistry) -> None:
    found = models.find("llama3", limit=5)
    assert len(found) == 5
    assert all(spec.provider == "meta" and "3" in spec.id for spec in found)


def test_find_r1_prefers_word_matches(models: ModelRegistry) -> None:
    found = [spec.id for spec in models.find("r1")]
    assert found[0] == "deepseek-ai/DeepSeek-R1"
    assert "deepseek-ai/DeepSeek-R1-Distill-Llama-8B" in found[:2]


def test_find_nemotron_and_typos(models: ModelRegistry) -> None:
    assert {spec.provider for spec in models.find("nemotron")} == {"nvidia"}
    assert models.find("nemotron")
    assert models.find("claude-sonet-4-5")[0].id == "claude-sonnet-4-5"
    assert models.find("") == []
    assert models.find("gpt", limit=0) == []
    assert models.find("qqqqqqqqqqqq") == []


# -- capability queries ------------------------------------------------------------------------


def test_query_by_kind_and_provider(models: ModelRegistry) -> None:
    embeddings = models.query(kind="embedding")
    assert {spec.id for spec in embeddings} >= {
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-embedding-ada-002",
        "nvidia/nv-embedqa-e5-v5",
    }
    assert all(spec.kind == "embedding" for spec in embeddings)
    both = models.query(kind=["chat", "reasoning"], provider="OpenAI")
    assert {spec.kind for spec in both} == {"chat", "reasoning"}
    assert all(spec.provider == "openai" for spec in both)
    assert models.query(provider="anthropic")
    assert models.query(provider="nobody") == []


def test_query_by_capability(models: ModelRegistry) -> None:
    vision_tools = models.query(vision=True, tools=True)
    assert models.get("gpt-4o") in vision_tools
    assert models.get("gpt-4") not in vision_tools
    reasoning = models.query(reasoning=True)
    assert {"o1", "o3", "deepseek-ai/DeepSeek-R1", "Qwen/QwQ-32B"} <= {spec.id for spec in reasoning}
    non_reasoning_chat = models.query(kind="chat", reasoning=False)
    assert all(not spec.reasoning for spec in non_reasoning_chat)
    audio = models.query(audio_input=True, audio_output=True)
    assert models.get("gpt-4o-audio-preview") in audio
    big = models.query(min_context=1_000_000)
    assert models.get("gpt-4.1") in big
    assert all(spec.context_window >= 1_000_000 for spec in big)
    structured = models.query(kind="chat", structured_outputs=True, streaming=True)
    assert models.get("gpt-4o-mini") in structured


def test_query_keeps_registry_order(models: ModelRegistry) -> None:
    ids = [spec.id for spec in models.query()]
    assert ids == models.ids() == [spec.id for spec in CATALOG]


# -- changing a registry -----------------------------------------------------------------------


def test_registries_do_not_share_registrations() -> None:
    first, second = ModelRegistry(), ModelRegistry()
    first.resolve("ft:gpt-4o-mini-2024-07-18:org::one")
    first.register(_spec())
    assert "ft:gpt-4o-mini-2024-07-18:org::one" in first
    assert "ft:gpt-4o-mini-2024-07-18:org::one" not in second
    assert "acme/test-model" not in second
    assert len(second) == len(CATALOG)
    assert len(first) == len(CATALOG) + 2


def test_register_and_replace() -> None:
    models = ModelRegistry([])
    assert len(models) == 0
    spec = models.register(_spec(aliases=("tm",)))
    assert models.get("tm") is spec
    with pytest.raises(ValueError, match="already registered"):
        models.register(_spec())
    bigger = _spec(context_window=8192, aliases=("tm",))
    models.register(_spec(id="other/model"))
    models.register(bigger, replace=True)
    assert models.get("tm") is bigger
    assert models.ids() == ["acme/test-model", "other/model"]  # replacing keeps the place
    with pytest.raises(ValueError, match="already names"):
        models.register(_spec(id="third/model", aliases=("tm",)))
    with pytest.raises(ValueError, match="already names"):
        models.register(_spec(id="third/model", aliases=("other/model",)))


def test_a_registered_id_outranks_an_alias(models: ModelRegistry) -> None:
    pinned = _spec(id="gpt-4o-2024-08-06", provider="openai", owned_by="system")
    models.register(pinned)
    assert models.get("gpt-4o-2024-08-06") is pinned
    assert models.get("gpt-4o") is not pinned


def test_remove(models: ModelRegistry) -> None:
    fine_tune = models.resolve("ft:gpt-4o-mini-2024-07-18:org::gone")
    assert models.remove(fine_tune.id) is fine_tune
    assert fine_tune.id not in models
    assert models.remove(fine_tune.id) is None
    removed = models.remove("gpt-4o")
    assert removed is not None
    assert models.get("gpt-4o") is None
    assert models.get("gpt-4o-2024-08-06") is None  # its names go with it
    assert models.remove("gpt-4o-mini-2024-07-18") is None  # ids only, not aliases
    assert "gpt-4o-mini" in models


def test_iteration_len_and_ids(models: ModelRegistry) -> None:
    assert len(models) == len(CATALOG)
    assert list(models) == list(CATALOG)
    assert models.ids()[:2] == ["gpt-4o", "gpt-4o-mini"]
    assert "ModelRegistry" in repr(models)
