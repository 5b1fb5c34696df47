"""Tests for the deterministic text generator: exact token accounting verified with tiktoken."""

from __future__ import annotations

import math
import os
import random
import re
import timeit
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai.engine import _words as W
from pytest_fakeai.engine import textgen
from pytest_fakeai.engine.textgen import PARAGRAPH_BREAKS, PUNCTUATION, Generated, TextGenerator

ENCODINGS = ("o200k_base", "cl100k_base")
_REPO = Path(__file__).resolve().parents[2]


def _cache_dir() -> str | None:
    for candidate in (_REPO.parent / "shared" / "tiktoken-cache", Path("/work/shared/tiktoken-cache")):
        if candidate.is_dir():
            return str(candidate)
    return None


@pytest.fixture(scope="module")
def encs() -> list[Any]:
    """Both tiktoken encodings, loaded from the shared offline cache."""
    cache = _cache_dir()
    if cache is not None:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache)
    import tiktoken

    return [tiktoken.get_encoding(name) for name in ENCODINGS]


@pytest.fixture(scope="module")
def gen() -> TextGenerator:
    return TextGenerator()


def _all_word_forms() -> Iterator[str]:
    """Every word of every vocabulary table in ``_words`` (found by introspection, so a new
    table is checked without being listed here): tuples of words or of word forms."""
    for name, table in vars(W).items():
        if not name.isupper() or not isinstance(table, tuple):
            continue
        for entry in table:
            if isinstance(entry, str):
                yield entry
            else:
                yield from entry


def _single(enc: Any, piece: str) -> bool:
    ids = enc.encode_ordinary(piece)
    return len(ids) == 1 and enc.decode_single_token_bytes(ids[0]) == piece.encode()


def _assert_prefix_exact(encs: list[Any], pieces: tuple[str, ...], every_prefix: bool = True) -> None:
    for enc in encs:
        ids = [enc.encode_single_token(p) for p in pieces]
        assert enc.encode_ordinary("".join(pieces)) == ids, enc.name
        if every_prefix:
            for k in range(len(pieces)):
                assert enc.encode_ordinary("".join(pieces[:k])) == ids[:k], (enc.name, k)


# --------------------------------------------------------------------------- vocabulary


def test_every_word_form_is_one_token_with_a_leading_space(encs: list[Any]) -> None:
    bad = [(e.name, w) for w in set(_all_word_forms()) for e in encs if not _single(e, " " + w)]
    assert not bad


def test_words_are_lowercase_ascii_letters() -> None:
    assert all(re.fullmatch(r"[a-z]+", w) for w in _all_word_forms())


def test_capitalizable_words_are_one_token_in_every_form(encs: list[Any]) -> None:
    bad = [
        (e.name, form)
        for w in W.CAPITALIZABLE
        for form in (" " + w.capitalize(), w.capitalize(), " " + w)
        for e in encs
        if not _single(e, form)
    ]
    assert not bad


def test_sentence_initial_classes_are_capitalizable() -> None:
    cap = W.CAPITALIZABLE
    assert set(W.SENTENCE_ADVERBS) <= cap
    assert set(W.INTERJECTIONS) <= cap
    assert {p[0] for p in W.OPENER_PHRASES} <= cap
    for group in (W.DETERMINERS_SINGULAR, W.DETERMINERS_PLURAL, W.DETERMINERS_MASS, W.PRONOUNS_SINGULAR):
        assert set(group) <= cap
    assert {"there", "it", "what", "how", "a", "an", "the", "two", "three", "four"} <= cap


def test_vocabulary_sizes() -> None:
    assert len(W.NOUNS) >= 500
    assert len(W.ADJECTIVES) >= 300
    assert len(W.VERBS_TRANSITIVE) >= 300
    assert len(W.VERBS_INTRANSITIVE) >= 50
    assert len(W.CAPITALIZABLE) >= 1000
    for name in W.__all__:
        assert len(getattr(W, name)) > 0, name


def test_verb_and_noun_forms_look_right() -> None:
    verbs = {v[0]: v for v in W.VERBS_TRANSITIVE + W.VERBS_INTRANSITIVE + W.VERBS_CLAUSAL}
    assert verbs["use"] == ("use", "uses", "used")
    assert verbs["make"] == ("make", "makes", "made")
    assert verbs["stop"] == ("stop", "stops", "stopped")
    assert verbs["apply"] == ("apply", "applies", "applied")
    nouns = dict(W.NOUNS)
    assert nouns["model"] == "models"
    assert nouns["person"] == "people"
    assert nouns["query"] == "queries"


def test_punctuation_pieces_are_single_tokens(encs: list[Any]) -> None:
    for enc in encs:
        for p in PUNCTUATION:
            assert _single(enc, p), (enc.name, p)
    assert set(PARAGRAPH_BREAKS) <= set(PUNCTUATION)


def test_known_pieces_are_single_tokens(encs: list[Any], gen: TextGenerator) -> None:
    bad = [(e.name, p) for p in gen.known_pieces for e in encs if not _single(e, p)]
    assert not bad


def test_pretokenizer_splits_at_piece_boundaries(encs: list[Any]) -> None:
    # The arrangements the generator relies on, spelled out.
    cases = [
        ("The", " model", " works", "."),
        ("Yes", ",", " the", " data", " is", " clean", ".\n\n", "It", " works", "?\n\n", "We", " agree", "!"),
        (" however", ",", " users", " need", " three", " tools", ":", " logs", ",", " and", " tests", "."),
    ]
    for pieces in cases:
        _assert_prefix_exact(encs, pieces)


def test_engine_does_not_use_tiktoken_at_runtime() -> None:
    for module in (textgen, W):
        source = Path(str(module.__file__)).read_text()
        assert "import tiktoken" not in source


# --------------------------------------------------------------------------- generation: token exactness


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32),
    max_tokens=st.one_of(st.none(), st.integers(1, 300)),
    min_tokens=st.integers(0, 150),
    ignore_eos=st.booleans(),
    target=st.one_of(st.none(), st.integers(0, 250)),
)
def test_generated_text_is_prefix_exact(
    encs: list[Any],
    gen: TextGenerator,
    seed: int,
    max_tokens: int | None,
    min_tokens: int,
    ignore_eos: bool,
    target: int | None,
) -> None:
    out = gen.generate(
        random.Random(seed),
        max_tokens=max_tokens,
        min_tokens=min_tokens,
        ignore_eos=ignore_eos,
        target_tokens=target,
    )
    assert set(out.pieces) <= gen.known_pieces
    _assert_prefix_exact(encs, out.pieces)


def test_many_natural_texts_tokenize_exactly(encs: list[Any], gen: TextGenerator) -> None:
    for seed in range(400):
        out = gen.generate(random.Random(seed), max_tokens=None, topic_words=("cache", "tokens", "fast"))
        _assert_prefix_exact(encs, out.pieces, every_prefix=False)


def test_long_ignore_eos_text_tokenizes_exactly(encs: list[Any], gen: TextGenerator) -> None:
    out = gen.generate(random.Random(7), max_tokens=5000, ignore_eos=True)
    assert len(out.pieces) == 5000
    _assert_prefix_exact(encs, out.pieces, every_prefix=False)


# --------------------------------------------------------------------------- generation: lengths


def test_natural_length_and_ending(gen: TextGenerator) -> None:
    lengths = []
    for seed in range(300):
        out = gen.generate(random.Random(seed), max_tokens=None)
        assert out.finished
        assert out.finish_reason == "stop"
        assert out.pieces[-1] == "."
        lengths.append(len(out.pieces))
    assert min(lengths) >= 6
    assert max(lengths) <= 150
    assert 30 <= sum(lengths) / len(lengths) <= 80


def test_max_tokens_cuts_exactly_and_is_a_prefix(gen: TextGenerator) -> None:
    for seed in range(60):
        full = gen.generate(random.Random(seed), max_tokens=None)
        for m in (1, 2, 5, 17, len(full.pieces) - 1, len(full.pieces), len(full.pieces) + 3, 1000):
            if m <= 0:
                continue
            out = gen.generate(random.Random(seed), max_tokens=m)
            if m < len(full.pieces):
                assert len(out.pieces) == m
                assert not out.finished
                assert out.finish_reason == "length"
                assert out.pieces == full.pieces[:m]
            else:
                assert out == full


def test_min_tokens(gen: TextGenerator) -> None:
    for seed in range(50):
        for floor in (1, 40, 200, 333):
            out = gen.generate(random.Random(seed), max_tokens=None, min_tokens=floor)
            assert out.finished
            assert len(out.pieces) >= floor
            assert out.pieces[-1] == "."
            capped = gen.generate(random.Random(seed), max_tokens=floor - 1 or None, min_tokens=floor)
            if floor > 1:
                assert len(capped.pieces) == floor - 1
                assert not capped.finished


def test_ignore_eos_fills_to_max_tokens(gen: TextGenerator) -> None:
    for seed in range(30):
        for m in (1, 3, 50, 400):
            out = gen.generate(random.Random(seed), max_tokens=m, ignore_eos=True)
            assert len(out.pieces) == m
            assert not out.finished
    # without a limit there is nothing to run to: natural text
    natural = gen.generate(random.Random(3), max_tokens=None)
    assert gen.generate(random.Random(3), max_tokens=None, ignore_eos=True) == natural


def test_target_tokens_exact(gen: TextGenerator) -> None:
    for target in range(1, 260):
        out = gen.generate(random.Random(target), max_tokens=None, target_tokens=target)
        assert len(out.pieces) == target
        assert out.finished
        if target >= 2:
            assert out.pieces[-1] == "."
        else:
            assert out.pieces[0].isalpha()
    # min_tokens raises the target; max_tokens cuts it
    out = gen.generate(random.Random(1), max_tokens=None, target_tokens=10, min_tokens=30)
    assert len(out.pieces) == 30
    full = gen.generate(random.Random(2), max_tokens=None, target_tokens=100)
    cut = gen.generate(random.Random(2), max_tokens=40, target_tokens=100)
    assert cut.pieces == full.pieces[:40]
    assert not cut.finished
    exact = gen.generate(random.Random(2), max_tokens=100, target_tokens=100)
    assert exact == full


def test_zero_and_negative_limits_do_not_crash(gen: TextGenerator) -> None:
    assert gen.generate(random.Random(0), max_tokens=0) == Generated((), False)
    assert gen.generate(random.Random(0), max_tokens=-5) == Generated((), False)
    assert gen.generate(random.Random(0), max_tokens=0, ignore_eos=True) == Generated((), False)
    assert gen.generate(random.Random(0), max_tokens=None, target_tokens=0) == Generated((), True)
    assert gen.generate(random.Random(0), max_tokens=0, target_tokens=0) == Generated((), True)


def test_every_sentence_length_is_reachable() -> None:
    t = textgen._tables()
    for seed in range(40):
        b = textgen._Builder(t, random.Random(seed), ())
        for n in range(1, 70):
            for last in (False, True):
                out: list[str] = []
                b.sentence(n, last, out)
                assert len(out) == n, (seed, n, out)


# --------------------------------------------------------------------------- determinism and style


def test_deterministic(gen: TextGenerator) -> None:
    for seed in range(20):
        a = gen.generate(random.Random(seed), max_tokens=None, topic_words=["model"])
        b = gen.generate(random.Random(seed), max_tokens=None, topic_words=["model"])
        assert a == b
    texts = {gen.generate(random.Random(seed), max_tokens=None).text for seed in range(100)}
    assert len(texts) == 100


def test_rng_is_the_only_source_of_randomness(gen: TextGenerator) -> None:
    rng = random.Random(5)
    state = rng.getstate()
    first = gen.generate(rng, max_tokens=64)
    rng.setstate(state)
    assert gen.generate(rng, max_tokens=64) == first


def test_text_looks_like_english(gen: TextGenerator) -> None:
    for seed in range(300):
        out = gen.generate(random.Random(seed), max_tokens=None, min_tokens=seed % 90)
        pieces = out.pieces
        text = out.text
        assert pieces[0][0].isupper(), pieces[0]
        assert text.endswith(".")
        assert "  " not in text
        assert not re.search(r" [.,?!:]", text)
        assert "\n\n\n" not in text
        prev = None
        for p in pieces:
            if p in PUNCTUATION:
                assert prev is not None
                assert prev not in PUNCTUATION
            elif prev is None or prev.endswith("\n"):
                assert re.fullmatch(r"[A-Z][a-z]*", p), (p, text)
            elif prev in (".", "?", "!"):
                assert re.fullmatch(r" [A-Z][a-z]*", p), (p, text)
            else:
                assert re.fullmatch(r" [a-z]+", p), (p, text)
            prev = p
        # sentences: capitalised start, at least two words (bar one-word answers)
        for sentence in re.split(r"(?<=[.?!])\s+", text):
            assert sentence[0].isupper()
            assert sentence[-1] in ".?!"


def test_articles_agree(gen: TextGenerator) -> None:
    text = " ".join(gen.generate(random.Random(s), max_tokens=None).text for s in range(300))
    assert not re.search(r"\b[Aa] [aeio]", text)
    assert not re.search(r"\b[Aa]n [bcdfgjklmnpqrstvwxyz]", text)


def test_topic_words_bias_nouns(gen: TextGenerator) -> None:
    def count(topic: tuple[str, ...]) -> int:
        n = 0
        for seed in range(100):
            words = re.findall(
                r"[a-z]+", gen.generate(random.Random(seed), max_tokens=None, topic_words=topic).text.lower()
            )
            n += sum(w in ("cache", "caches", "token", "tokens") for w in words)
        return n

    assert count(("Cache,", "TOKENS", "the", "zzz")) > 3 * max(1, count(()))


# --------------------------------------------------------------------------- alternatives / logprobs


def test_alternatives_distinct_single_token_same_part_of_speech(encs: list[Any], gen: TextGenerator) -> None:
    rng = random.Random(0)
    singular = {" " + sg for sg, _ in W.NOUNS}
    past = {" " + v[2] for v in W.VERBS_TRANSITIVE + W.VERBS_INTRANSITIVE + W.VERBS_CLAUSAL}
    for piece, k, pool in (
        (" model", 5, singular),
        (" used", 20, past),
        (".", 5, None),
        ("The", 8, None),
        (" However", 3, None),
        (" xyzzy", 10, None),
        ("\n", 4, None),
    ):
        alts = gen.alternatives(rng, piece, k)
        assert len(alts) == k
        assert len(set(alts)) == k
        assert piece not in alts
        for alt in alts:
            for enc in encs:
                assert _single(enc, alt), (piece, alt)
        if pool is not None:
            assert set(alts) <= pool
    assert all(a[0].isupper() for a in gen.alternatives(rng, "The", 10))
    assert all(a.startswith(" ") and a[1].isupper() for a in gen.alternatives(rng, " However", 10))
    assert gen.alternatives(rng, " model", 0) == []
    assert len(set(gen.alternatives(rng, " and", 50))) == 50


def test_alternatives_for_every_generated_piece(gen: TextGenerator) -> None:
    rng = random.Random(1)
    out = gen.generate(random.Random(1), max_tokens=200, ignore_eos=True)
    for piece in out.pieces:
        alts = gen.alternatives(rng, piece, 5)
        assert len(set(alts)) == 5
        assert piece not in alts
        assert set(alts) <= gen.known_pieces


def test_logprobs(gen: TextGenerator) -> None:
    rng = random.Random(2)
    out = gen.generate(random.Random(2), max_tokens=300, ignore_eos=True)
    for piece in out.pieces:
        lp = gen.logprob_for(rng, piece)
        assert -3.0 <= lp < 0.0
        top = gen.top_logprobs(rng, piece, lp, 5)
        assert len(top) == 5
        assert (piece, lp) in top
        assert [p for p, _ in top].count(piece) == 1
        assert [x for _, x in top] == sorted((x for _, x in top), reverse=True)
        assert sum(math.exp(x) for _, x in top) <= 1.0 + 1e-9
    assert gen.top_logprobs(rng, " model", -0.5, 0) == []
    assert gen.top_logprobs(rng, " model", -0.5, 1) == [(" model", -0.5)]


# --------------------------------------------------------------------------- echo


def test_echo_pieces_roundtrip(gen: TextGenerator) -> None:
    for seed in range(100):
        out = gen.generate(random.Random(seed), max_tokens=None)
        assert gen.echo_pieces(out.text) == out.pieces
    assert gen.echo_pieces("") == ()
    assert gen.echo_pieces("Hello, world") is None  # "Hello" is not in the vocabulary
    assert gen.echo_pieces("The model.Works") is None
    assert gen.echo_pieces("The  model") is None
    assert gen.echo_pieces("The model ") is None
    assert gen.echo_pieces("It works.,") is None


_ECHO_BITS = [
    "The",
    " model",
    " works",
    "It",
    " a",
    " an",
    ".",
    ",",
    "\n",
    "\n\n",
    " ",
    "?",
    "Data",
    " is",
    "!",
    "x",
    "'s",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_ECHO_BITS), max_size=14).map("".join))
def test_echo_pieces_agree_with_tiktoken(encs: list[Any], gen: TextGenerator, text: str) -> None:
    pieces = gen.echo_pieces(text)
    if pieces is None:
        return
    assert "".join(pieces) == text
    for enc in encs:
        assert enc.encode_ordinary(text) == [enc.encode_single_token(p) for p in pieces]


# --------------------------------------------------------------------------- speed


def test_generation_is_fast(gen: TextGenerator) -> None:
    rng = random.Random(0)
    runs = 200
    seconds = timeit.timeit(lambda: gen.generate(rng, max_tokens=100, ignore_eos=True), number=runs)
    per_100 = seconds / runs
    assert per_100 < 100 * 50e-6, f"{per_100 * 1e3:.2f} ms per 100 pieces"
