"""The embedding math: deterministic, unit-length, Matryoshka-truncatable, and semantic enough for retrieval."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai.engine.embedding import Embedder, base64_float32, cosine, features, float32, truncate

SMALL = Embedder("text-embedding-3-small", 1536, baseline=0.1)
ADA = Embedder("text-embedding-ada-002", 1536, baseline=0.7)


def _norm(v: Sequence[float]) -> float:
    return math.hypot(*v)


def test_vectors_are_unit_length_and_deterministic_across_instances() -> None:
    text = "The harbor in Lisbon is busy in the morning."
    v = SMALL.embed(text)
    assert len(v) == 1536
    assert _norm(v) == pytest.approx(1.0, abs=1e-12)
    again = Embedder("text-embedding-3-small", 1536, baseline=0.1).embed(text)
    assert again == v  # a pure function of (model, text): no simulator state, no seed
    assert Embedder("text-embedding-3-large", 1536, baseline=0.1).embed(text) != v  # another model, another space


def test_every_component_is_nonzero_and_none_dominates() -> None:
    for text in ("hello", "The quick brown fox jumps over the lazy dog near the harbor in Lisbon."):
        v = SMALL.embed(text)
        assert all(x != 0.0 for x in v)
        assert max(abs(x) for x in v) < 0.45


def test_related_texts_are_closer_than_unrelated_ones() -> None:
    query = "How do I reset my password?"
    docs = [
        "To reset your password, open Settings and choose Reset password.",
        "Our office is closed on public holidays.",
        "The quarterly revenue grew by ten percent.",
    ]
    sims = [cosine(SMALL.embed(query), SMALL.embed(d)) for d in docs]
    assert sims[0] == max(sims)
    assert sims[0] - max(sims[1:]) > 0.2


def test_morphology_counts() -> None:
    base = SMALL.embed("running shoes")
    assert cosine(base, SMALL.embed("runner shoe")) > cosine(base, SMALL.embed("weather in paris")) + 0.1


def test_baseline_sets_the_cosine_of_unrelated_texts() -> None:
    pairs = [
        ("The cat sat on the mat", "Quarterly revenue grew by ten percent"),
        ("Photosynthesis converts light", "Football match tickets sold out"),
        ("Lisbon harbor ferries", "Compile the kernel module"),
    ]
    small = [cosine(SMALL.embed(a), SMALL.embed(b)) for a, b in pairs]
    ada = [cosine(ADA.embed(a), ADA.embed(b)) for a, b in pairs]
    assert all(-0.1 < s < 0.3 for s in small), small
    assert all(0.6 < s < 0.8 for s in ada), ada  # ada-002's famous floor


def test_equal_feature_bags_still_differ_a_little() -> None:
    a, b = SMALL.embed("Hello!"), SMALL.embed("hello")
    assert a != b
    assert cosine(a, b) > 0.99


def test_truncate_renormalises_and_keeps_meaning() -> None:
    query = SMALL.embed("GPU memory bandwidth of the H100")
    near = SMALL.embed("The H100 has very high memory bandwidth per GPU.")
    far = SMALL.embed("A recipe for apple pie with cinnamon.")
    for dims in (64, 256, 512, 1024):
        q, n, f = truncate(query, dims), truncate(near, dims), truncate(far, dims)
        assert len(q) == dims
        assert _norm(q) == pytest.approx(1.0, abs=1e-12)
        assert cosine(q, n) > cosine(q, f) + 0.15, dims
    assert truncate(query, 1536) == pytest.approx(query)


def test_float32_and_base64_agree() -> None:
    v = SMALL.embed("base64 is little-endian float32")
    values = float32(v)
    raw = base64.b64decode(base64_float32(v))
    assert len(raw) == 4 * 1536
    assert list(struct.unpack("<1536f", raw)) == values
    assert values == pytest.approx(v, abs=1e-7)


def test_features_are_lowercased_weighted_and_sublinear() -> None:
    f = features("Cat cat CAT sat")
    assert f["w:cat"] == pytest.approx(1 + math.log(3))
    assert f["w:sat"] == pytest.approx(1.0)
    assert "b:cat cat" in f and "c:#ca" in f and "s:cat" in f
    assert features("the of")["w:the"] < features("cat")["w:cat"]  # stop words weigh less
    assert features("") == {}


def test_empty_and_symbol_only_texts_still_get_a_unit_vector() -> None:
    for text in ("", "!!! ???", "\ud800"):
        v = SMALL.embed(text)
        assert _norm(v) == pytest.approx(1.0, abs=1e-12)


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="dims"):
        Embedder("m", 0)
    with pytest.raises(ValueError, match="baseline"):
        Embedder("m", 8, baseline=1.0)


# -- the retrieval property ----------------------------------------------------------------------
_STOP = {"a", "am", "an", "and", "be", "did", "i", "if", "in", "is", "it", "me", "my", "no", "he", "her", "him"}
# two alphabets with no letter in common: words from one share no feature with words from the other
_LEFT = st.text("abcdefghijklm", min_size=3, max_size=8).filter(lambda w: w not in _STOP)
_RIGHT = st.text("nopqrstuvwxyz", min_size=3, max_size=8).filter(lambda w: w not in _STOP)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shared=st.lists(_LEFT, min_size=1, max_size=6),
    extra=st.lists(_LEFT, max_size=6),
    other=st.lists(_RIGHT, min_size=1, max_size=8),
    order=st.randoms(use_true_random=False),
    dims=st.sampled_from([1536, 512, 256]),
)
def test_texts_sharing_words_are_closer_than_disjoint_ones(
    shared: list[str], extra: list[str], other: list[str], order: object, dims: int
) -> None:
    if len(extra) > 2 * len(shared):
        extra = extra[: 2 * len(shared)]
    a = " ".join(shared)
    words = shared + extra
    order.shuffle(words)  # type: ignore[attr-defined]
    b = " ".join(words)
    c = " ".join(other)
    for embedder in (SMALL, ADA):
        va, vb, vc = (truncate(embedder.embed(t), dims) for t in (a, b, c))
        assert cosine(va, vb) > cosine(va, vc), (a, b, c, dims)
