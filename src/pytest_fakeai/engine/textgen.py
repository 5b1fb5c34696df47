"""Deterministic, token-exact English text generator.

The generator writes plausible English prose from a small grammar over the vocabulary in
:mod:`pytest_fakeai.engine._words`.  Its output is a sequence of *pieces* with one key property:

    every piece is exactly one token in both ``o200k_base`` and ``cl100k_base``, and tiktoken's
    encoding of the concatenation of any prefix of the pieces is exactly that prefix, piece by piece.

So ``len(pieces)`` *is* the completion token count, a ``max_tokens`` cut is a list slice, and the
pieces can be used verbatim as the ``token`` strings of ``logprobs``.  No tokenizer runs here: the
vocabulary was filtered with tiktoken when it was written, and ``tests/engine/test_textgen.py``
re-verifies both the vocabulary and the prefix property of generated text.

Why the prefix property holds: pieces are ``" word"`` (mid-sentence, or a sentence start after
``". "``), ``"Word"`` (the very first piece, or right after a paragraph break) and the punctuation in
:data:`PUNCTUATION`.  A word is always preceded by a space, by nothing, or by a newline, and a
punctuation piece always follows a word, so tiktoken's pre-tokeniser (the regex both encodings use)
splits the text exactly at piece boundaries; each pre-token is then a single vocabulary entry.  A
paragraph break is the one piece ``".\\n\\n"`` (also ``"?\\n\\n"``, ``"!\\n\\n"``): the regex glues
newlines onto the preceding punctuation, so ``"."`` followed by a separate ``"\\n\\n"`` piece would not
be prefix-exact.

Everything is driven by a caller-supplied :class:`random.Random`: the same RNG state and arguments
give the same pieces.  Sentences are produced lazily, so the cost is proportional to the number of
pieces returned (a ``max_tokens`` cut stops generation early), and a cut output is a prefix of the
uncut output for the same RNG state.
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from . import _words as W

__all__ = [
    "PARAGRAPH_BREAKS",
    "PUNCTUATION",
    "Generated",
    "TextGenerator",
]

#: Punctuation pieces the generator emits.  Each is a single token in both encodings.
PUNCTUATION: tuple[str, ...] = (".", ",", "?", "!", ":", ".\n\n", "?\n\n", "!\n\n")
#: Sentence ends that also start a new paragraph (the next sentence begins with ``"Word"``).
PARAGRAPH_BREAKS: tuple[str, ...] = (".\n\n", "?\n\n", "!\n\n")

_PUNCT_SET = frozenset(PUNCTUATION)
# Subsets of the vocabulary with special roles.
_INDEF_SINGULAR = ("a", "one", "another", "no")
_INDEF_PLURAL = ("some", "many", "several", "few", "two", "three", "four", "five", "no")
_INDEF_MASS = ("some", "more", "enough", "little", "no")
_COPULA_ADVERBS = ("also", "still", "often", "usually", "always", "now", "already", "never", "really",
                   "generally", "sometimes", "actually", "probably", "certainly", "clearly", "not")  # fmt: skip
_TAIL_PREPOSITIONS = ("for", "with", "from", "in", "on", "about", "without")
_WH_TRANSITIVE = ("how", "why", "when", "where")
_LIST_NUMBERS = {2: "two", 3: "three", 4: "four"}
# "a" vs "an": by sound, approximated from spelling.
_AN_EXCEPTIONS = ("uni", "use", "usu", "usa", "uti", "one", "once", "eu")
_AN_SILENT_H = ("hour", "honest", "honor")

# Natural output: number of sentences (weights for 1..6) and per-sentence length 6..24.
_SENTENCE_COUNT_WEIGHTS = (15, 25, 25, 18, 11, 6)
_SENTENCE_COUNT_CUM = tuple(sum(_SENTENCE_COUNT_WEIGHTS[: i + 1]) for i in range(6))
_MIN_SENTENCE = 6
_MAX_TAIL_SENTENCE = 24
_PARAGRAPH_P = 0.22
_QUESTION_P = 0.05
_EXCLAIM_P = 0.02
_PAST_TENSE_P = 0.2
_TOPIC_NOUN_P = 0.35
_TOPIC_ADJ_P = 0.2
_WORKING_NOUNS = 14
_WORKING_MASS = 6
_WORKING_ADJECTIVES = 12
_WORKING_VERBS = 14
_MAX_TOPIC_WORDS = 4096
_CLOSED_CATEGORIES = 13  # the first categories in _Tables: determiners ... adverbs (function-like)

_ECHO_RE = re.compile(r" ?[A-Za-z]+|[.,?!:](?:\n\n)?|.", re.DOTALL)

_Range = tuple[int, int]
_T = TypeVar("_T")

# Clause slot sizes (min, max) in pieces; each clause adds a fixed number of pieces of its own.
_SVO: tuple[_Range, ...] = ((1, 5), (1, 3), (1, 5))
_SVO_PP: tuple[_Range, ...] = ((1, 4), (1, 3), (1, 4), (2, 5))
_SVO_ADV: tuple[_Range, ...] = ((1, 4), (1, 2), (1, 4))
_PURPOSE: tuple[_Range, ...] = ((1, 4), (1, 3), (1, 4), (1, 4))
_SV: tuple[_Range, ...] = ((1, 5), (1, 3))
_SV_ADV: tuple[_Range, ...] = ((1, 4), (1, 3))
_SV_PP: tuple[_Range, ...] = ((1, 4), (1, 3), (2, 5))
_COP: tuple[_Range, ...] = ((1, 5), (1, 2), (1, 3))
_EXIST: tuple[_Range, ...] = ((1, 2), (1, 4), (2, 5))
_IT_ADJ: tuple[_Range, ...] = ((1, 2), (1, 2), (1, 4))
_THAT: tuple[_Range, ...] = ((1, 4), (1, 2), (3, 13))


@dataclass(frozen=True, slots=True)
class Generated:
    """Result of :meth:`TextGenerator.generate`.

    ``pieces`` are single tokens (see the module docstring); ``finished`` is True when the text ended
    naturally (finish reason ``"stop"``) and False when it was cut by ``max_tokens`` (``"length"``).
    """

    pieces: tuple[str, ...]
    finished: bool

    @property
    def text(self) -> str:
        """The generated text: the concatenation of the pieces."""
        return "".join(self.pieces)

    @property
    def finish_reason(self) -> str:
        """``"stop"`` or ``"length"``, as the OpenAI API reports it."""
        return "stop" if self.finished else "length"


def _capitalized(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(w for w in words if w in W.CAPITALIZABLE)


def _article(next_word: str) -> str:
    if next_word[0] in "aeiou":
        return "a" if next_word.startswith(_AN_EXCEPTIONS) else "an"
    return "an" if next_word.startswith(_AN_SILENT_H) else "a"


def _alloc(rand: Callable[[], float], total: int, ranges: Sequence[_Range]) -> list[int]:
    """Split ``total`` into one size per range, each within its (lo, hi), at random."""
    sizes = [lo for lo, _ in ranges]
    extra = total - sum(sizes)
    growable = [i for i, (lo, hi) in enumerate(ranges) if hi > lo]
    while extra > 0:
        j = int(rand() * len(growable))
        i = growable[j]
        sizes[i] += 1
        extra -= 1
        if sizes[i] == ranges[i][1]:
            growable.pop(j)
    return sizes


def _span(ranges: Sequence[_Range], fixed: int = 0) -> _Range:
    return fixed + sum(lo for lo, _ in ranges), fixed + sum(hi for _, hi in ranges)


class _Tables:
    """Immutable lookup tables derived from the vocabulary, built once per process."""

    def __init__(self) -> None:
        cap = W.CAPITALIZABLE
        self.nouns = W.NOUNS
        self.nouns_cap_plural = tuple(n for n in W.NOUNS if n[1] in cap)
        self.noun_by_form: dict[str, int] = {}
        for i, (sg, pl) in enumerate(W.NOUNS):
            self.noun_by_form.setdefault(sg, i)
            self.noun_by_form.setdefault(pl, i)
        self.mass = W.MASS_NOUNS
        self.mass_cap = _capitalized(W.MASS_NOUNS)
        self.mass_set = frozenset(W.MASS_NOUNS)
        self.adj = W.ADJECTIVES
        self.adj_cap = _capitalized(W.ADJECTIVES)
        self.adj_set = frozenset(W.ADJECTIVES)
        # Indexed by 0 singular, 1 plural, 2 mass.
        by_number = (W.DETERMINERS_SINGULAR, W.DETERMINERS_PLURAL, W.DETERMINERS_MASS)
        self.det_obj = by_number
        self.det_subj = tuple(tuple(d for d in dets if d != "no") for dets in by_number)
        self.det_subj_cap = tuple(_capitalized(dets) for dets in self.det_subj)
        self.det_indef = tuple(
            tuple(d for d in wanted if d in dets)
            for wanted, dets in zip((_INDEF_SINGULAR, _INDEF_PLURAL, _INDEF_MASS), by_number, strict=True)
        )
        self.pron_sg = W.PRONOUNS_SINGULAR
        self.pron_pl = W.PRONOUNS_PLURAL
        self.pron_sg_cap = _capitalized(self.pron_sg)
        self.pron_pl_cap = _capitalized(self.pron_pl)
        self.obj_pron = W.OBJECT_PRONOUNS
        self.vt = W.VERBS_TRANSITIVE
        self.vi = W.VERBS_INTRANSITIVE
        self.vc = W.VERBS_CLAUSAL
        self.adv_manner = W.ADVERBS_MANNER
        self.adv_freq = W.ADVERBS_FREQUENCY
        self.cop_adv = tuple(a for a in _COPULA_ADVERBS if a in W.ADVERBS_FREQUENCY or a == "not")
        self.openers = W.SENTENCE_ADVERBS
        self.phrases_by_len: dict[int, tuple[tuple[str, ...], ...]] = {}
        for phrase in W.OPENER_PHRASES:
            self.phrases_by_len[len(phrase)] = (*self.phrases_by_len.get(len(phrase), ()), phrase)
        self.intens = W.INTENSIFIERS
        self.preps = W.PREPOSITIONS
        self.preps_cap = _capitalized(W.PREPOSITIONS)
        self.tail_preps = tuple(p for p in _TAIL_PREPOSITIONS if p in W.PREPOSITIONS)
        self.coord = W.COORDINATORS
        self.subord = W.SUBORDINATORS
        self.subord_cap = _capitalized(W.SUBORDINATORS)
        self.modals = W.MODALS
        self.modals_past = W.MODALS_PAST
        self.modals_not = tuple(m for m in W.MODALS if m != "can")  # "can not" -> "cannot"
        self.interj = W.INTERJECTIONS
        self.wh = tuple(w for w in _WH_TRANSITIVE if w in cap)
        self.list_numbers = {n: w for n, w in _LIST_NUMBERS.items() if w in W.NUMBERS}
        self.opener_max = max((len(p) for p in W.OPENER_PHRASES), default=1)

        # --- pieces: every single-token piece the generator can emit, for echo and alternatives.
        lower: list[str] = []
        for group in (
            [w for pair in W.NOUNS for w in pair],
            W.MASS_NOUNS,
            W.ADJECTIVES,
            [w for v in (*W.VERBS_TRANSITIVE, *W.VERBS_INTRANSITIVE, *W.VERBS_CLAUSAL) for w in v],
            W.ADVERBS_MANNER,
            W.ADVERBS_FREQUENCY,
            W.SENTENCE_ADVERBS,
            [w for p in W.OPENER_PHRASES for w in p],
            W.INTENSIFIERS,
            W.PREPOSITIONS,
            W.COORDINATORS,
            W.SUBORDINATORS,
            W.DETERMINERS_SINGULAR,
            W.DETERMINERS_PLURAL,
            W.DETERMINERS_MASS,
            W.PRONOUNS_SINGULAR,
            W.PRONOUNS_PLURAL,
            W.OBJECT_PRONOUNS,
            W.MODALS,
            W.MODALS_PAST,
            W.NUMBERS,
            W.INTERJECTIONS,
            W.FUNCTION_WORDS,
        ):
            lower.extend(group)
        words = tuple(dict.fromkeys(lower))
        self.words = words
        self.lower_pieces = tuple(" " + w for w in words)
        self.cap_space_pieces = tuple(" " + w.capitalize() for w in words if w in cap)
        self.cap_pieces = tuple(w.capitalize() for w in words if w in cap)
        self.known_pieces = frozenset((*self.lower_pieces, *self.cap_space_pieces, *self.cap_pieces, *PUNCTUATION))

        # --- alternatives: pools of same-part-of-speech pieces, per piece form.
        categories: list[Sequence[str]] = [
            (*W.DETERMINERS_SINGULAR, *W.DETERMINERS_PLURAL, *W.DETERMINERS_MASS),
            (*W.PRONOUNS_SINGULAR, *W.PRONOUNS_PLURAL, *W.OBJECT_PRONOUNS),
            ("is", "are", "was", "were"),
            ("does", "do", "did", "has", "have", "had"),
            (*W.MODALS, *W.MODALS_PAST),
            W.PREPOSITIONS,
            W.COORDINATORS,
            W.SUBORDINATORS,
            W.INTENSIFIERS,
            W.NUMBERS,
            W.INTERJECTIONS,
            W.SENTENCE_ADVERBS,
            (*W.ADVERBS_FREQUENCY, *W.ADVERBS_MANNER),
            [sg for sg, _ in W.NOUNS],
            [pl for _, pl in W.NOUNS],
            W.MASS_NOUNS,
            W.ADJECTIVES,
            [v[0] for v in (*W.VERBS_TRANSITIVE, *W.VERBS_INTRANSITIVE, *W.VERBS_CLAUSAL)],
            [v[1] for v in (*W.VERBS_TRANSITIVE, *W.VERBS_INTRANSITIVE, *W.VERBS_CLAUSAL)],
            [v[2] for v in (*W.VERBS_TRANSITIVE, *W.VERBS_INTRANSITIVE, *W.VERBS_CLAUSAL)],
            W.FUNCTION_WORDS,
            [w for p in W.OPENER_PHRASES for w in p],
        ]
        self.pool_of: dict[str, tuple[str, ...]] = {}
        for cat in categories:
            uniq = tuple(dict.fromkeys(cat))
            capped = _capitalized(uniq)
            for pool in (
                tuple(" " + w for w in uniq),
                tuple(" " + w.capitalize() for w in capped),
                tuple(w.capitalize() for w in capped),
            ):
                for piece in pool:
                    self.pool_of.setdefault(piece, pool)
        continuations = (" and", " to", " of", " in", " with", " for", " that", " but", " the")
        punct_pool = (*PUNCTUATION, *(c for c in continuations if c in self.known_pieces))
        for p in PUNCTUATION:
            self.pool_of[p] = punct_pool
        self.punct_pool = punct_pool
        # Function-like pieces get high-probability logprobs.
        self.function_pieces = (
            frozenset(
                piece
                for cat in (*categories[:_CLOSED_CATEGORIES], W.FUNCTION_WORDS)
                for w in cat
                for piece in (" " + w, " " + w.capitalize(), w.capitalize())
            )
            | _PUNCT_SET
        )


_TABLES: _Tables | None = None


def _tables() -> _Tables:
    global _TABLES
    if _TABLES is None:
        _TABLES = _Tables()
    return _TABLES


class _Builder:
    """Per-call state: the RNG, the tense and the topic bias.  Emits pieces into ``out`` lists."""

    def __init__(self, t: _Tables, rng: random.Random, topic_words: Sequence[str]) -> None:
        self.t = t
        self.rand = rng.random
        self.past = self.rand() < _PAST_TENSE_P
        # A small working vocabulary per call, biased toward the (common, general) head of each
        # list: reusing a dozen nouns makes a text read as if it were about something.
        cap = W.CAPITALIZABLE
        self.nouns = self.sample(t.nouns, _WORKING_NOUNS)
        self.nouns_cap = tuple(n for n in self.nouns if n[1] in cap) or self.sample(t.nouns_cap_plural, _WORKING_NOUNS)
        self.mass = self.sample(t.mass, _WORKING_MASS)
        self.mass_cap = tuple(m for m in self.mass if m in cap) or t.mass_cap
        self.adj = self.sample(t.adj, _WORKING_ADJECTIVES)
        self.adj_cap = tuple(a for a in self.adj if a in cap) or t.adj_cap
        self.vt = self.sample(t.vt, _WORKING_VERBS)
        self.vi = self.sample(t.vi, _WORKING_VERBS // 2)
        self.vc = self.sample(t.vc, _WORKING_VERBS // 3)
        self.topic_nouns: list[tuple[str, str]] = []
        self.topic_mass: list[str] = []
        self.topic_adj: list[str] = []
        if topic_words:
            seen: set[str] = set()
            for raw in topic_words:
                w = raw.strip(" \t\r\n.,;:!?\"'()[]{}").lower()
                if not w or w in seen:
                    continue
                seen.add(w)
                idx = t.noun_by_form.get(w)
                if idx is not None:
                    self.topic_nouns.append(t.nouns[idx])
                elif w in t.mass_set:
                    self.topic_mass.append(w)
                elif w in t.adj_set:
                    self.topic_adj.append(w)
                if len(seen) >= _MAX_TOPIC_WORDS:
                    break

    # ------------------------------------------------------------------ picking helpers
    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.rand() * len(seq))]

    def pick_common(self, seq: Sequence[_T]) -> _T:
        """Pick with a bias toward the head of ``seq`` (lists are ordered most useful first)."""
        r = self.rand()
        return seq[int(r * r * len(seq))]

    def sample(self, seq: Sequence[_T], k: int) -> tuple[_T, ...]:
        return tuple(dict.fromkeys(self.pick_common(seq) for _ in range(k)))

    def noun(self, cap_plural: bool = False) -> tuple[str, str]:
        """A ``(singular, plural)`` noun; with ``cap_plural`` its plural can start a sentence."""
        if self.topic_nouns and self.rand() < _TOPIC_NOUN_P:
            n = self.pick(self.topic_nouns)
            if not cap_plural or n[1] in W.CAPITALIZABLE:
                return n
        return self.pick(self.nouns_cap if cap_plural else self.nouns)

    def mass_noun(self, cap: bool = False) -> str:
        if self.topic_mass and self.rand() < _TOPIC_NOUN_P:
            w = self.pick(self.topic_mass)
            if not cap or w in W.CAPITALIZABLE:
                return w
        return self.pick(self.mass_cap if cap else self.mass)

    def adjective(self, cap: bool = False) -> str:
        if self.topic_adj and self.rand() < _TOPIC_ADJ_P:
            w = self.pick(self.topic_adj)
            if not cap or w in W.CAPITALIZABLE:
                return w
        return self.pick(self.adj_cap if cap else self.adj)

    # ------------------------------------------------------------------ phrases
    def np(self, n: int, out: list[str], cap: bool = False, obj: bool = False, indef: bool = False) -> bool:
        """Emit a noun phrase of exactly ``n`` (1..5) pieces; return True if it is plural."""
        t = self.t
        r = self.rand()
        if n == 1:
            if not indef and r < 0.3:
                if obj:
                    out.append(" " + self.pick(t.obj_pron))
                    return False  # object pronouns never govern agreement
                plural = self.rand() < 0.4
                if plural:
                    out.append(" " + self.pick(t.pron_pl_cap if cap else t.pron_pl))
                else:
                    out.append(" " + self.pick(t.pron_sg_cap if cap else t.pron_sg))
                return plural
            if r < 0.8:
                out.append(" " + self.noun(cap)[1])
                return True
            out.append(" " + self.mass_noun(cap))
            return False
        if n == 2 and r < 0.15:
            # adjective + bare plural / mass noun: "new users", "clean data"
            a = self.adjective(cap)
            if self.rand() < 0.7:
                out += (" " + a, " " + self.noun()[1])
                return True
            out += (" " + a, " " + self.mass_noun())
            return False
        # determiner-led phrases
        kind = self.rand()
        plural = False
        # which=0 singular, 1 plural, 2 mass; determiner tables: indefinite / object / subject (no
        # "no": "no request does not ..." reads badly) / sentence-initial subject.
        which = 0 if kind < 0.55 else 1 if kind < 0.88 else 2
        if which == 0:
            head = self.noun()[0]
        elif which == 1:
            head = self.noun()[1]
            plural = True
        else:
            head = self.mass_noun()
        if indef:
            dets = t.det_indef[which]
        elif obj:
            dets = t.det_obj[which]
        else:
            dets = t.det_subj_cap[which] if cap else t.det_subj[which]
        det = self.pick_common(dets)
        body: list[str]
        if n == 2:
            body = [head]
        elif n == 3:
            body = [self.adjective(), head]
        elif n == 4:
            r = self.rand()
            if r < 0.35:
                body = [self.pick_common(t.intens), self.adjective(), head]
            else:
                body = [head, "of" if r < 0.65 else self.pick(t.tail_preps), self.tail(head)]
        else:
            r = self.rand()
            if r < 0.6:
                det2 = self.pick_common(t.det_obj[0])
                noun2 = self.noun()[0]
                while self.same_noun(noun2, head):
                    noun2 = self.pick(t.nouns)[0]
                if det2 in ("a", "an"):
                    det2 = _article(noun2)
                body = [head, "of" if r < 0.3 else self.pick(t.tail_preps), det2, noun2]
            else:
                body = [self.adjective(), head, "of" if r < 0.8 else self.pick(t.tail_preps), self.tail(head)]
        if det in ("a", "an"):
            det = _article(body[0])
        out.append(" " + det)
        out += [" " + w for w in body]
        return plural

    def same_noun(self, a: str, b: str) -> bool:
        by_form = self.t.noun_by_form
        return a == b or (a in by_form and by_form.get(a) == by_form.get(b))

    def tail(self, head: str) -> str:
        """A bare plural or mass noun to follow ``head`` + "of"/a preposition (never ``head`` again)."""
        for _ in range(4):
            w = self.noun()[1] if self.rand() < 0.75 else self.mass_noun()
            if not self.same_noun(w, head):
                return w
        return self.mass_noun() if head not in self.t.mass_set else self.noun()[1]

    def verb(self, kind: str) -> tuple[str, str, str]:
        pool = self.vt if kind == "t" else self.vi if kind == "i" else self.vc
        return pool[int(self.rand() * len(pool))]

    def vg(self, n: int, out: list[str], plural: bool, kind: str) -> None:
        """Emit a finite verb group of exactly ``n`` (1..3) pieces agreeing with the subject."""
        t = self.t
        v = self.verb(kind)
        finite = v[2] if self.past else (v[0] if plural else v[1])
        if n == 1:
            out.append(" " + finite)
            return
        modals = t.modals_past if self.past else t.modals
        r = self.rand()
        if n == 2:
            if r < 0.55:
                out += (" " + self.pick(t.adv_freq), " " + finite)
            else:
                out += (" " + self.pick(modals), " " + v[0])
            return
        if r < 0.4:
            out += (" " + self.pick(modals), " " + self.pick(t.adv_freq), " " + v[0])
        elif r < 0.75:
            aux = "did" if self.past else ("do" if plural else "does")
            out += (" " + aux, " not", " " + v[0])
        else:
            m = self.pick(t.modals_past if self.past else t.modals_not)
            out += (" " + m, " not", " " + v[0])

    def cop(self, n: int, out: list[str], plural: bool) -> None:
        if self.past:
            out.append(" were" if plural else " was")
        else:
            out.append(" are" if plural else " is")
        if n == 2:
            out.append(" " + self.pick(self.t.cop_adv))

    def adjp(self, n: int, out: list[str]) -> None:
        if n == 1:
            out.append(" " + self.adjective())
        elif n == 2:
            out += (" " + self.pick_common(self.t.intens), " " + self.adjective())
        else:
            a = self.adjective()
            b = self.adjective()
            while b == a:
                b = self.adjective()
            out += (" " + a, " and", " " + b)

    def pp(self, n: int, out: list[str], cap: bool = False) -> None:
        out.append(" " + self.pick(self.t.preps_cap if cap else self.t.preps))
        self.np(n - 1, out, obj=True)

    # ------------------------------------------------------------------ clauses
    def clause(self, n: int, out: list[str], cap: bool, simple: bool = False) -> None:
        """Emit a clause of exactly ``n`` pieces (no final punctuation)."""
        fns, cum = (_SIMPLE_CLAUSES_BY_LEN if simple else _CLAUSES_BY_LEN)[n]
        x = self.rand() * cum[-1]
        for fn, c in zip(fns, cum, strict=True):
            if x < c:
                fn(self, n, out, cap)
                return
        fns[-1](self, n, out, cap)

    def c_svo(self, n: int, out: list[str], cap: bool) -> None:
        s, v, o = _alloc(self.rand, n, _SVO)
        plural = self.np(s, out, cap)
        self.vg(v, out, plural, "t")
        self.np(o, out, obj=True)

    def c_svo_pp(self, n: int, out: list[str], cap: bool) -> None:
        s, v, o, p = _alloc(self.rand, n, _SVO_PP)
        plural = self.np(s, out, cap)
        self.vg(v, out, plural, "t")
        self.np(o, out, obj=True)
        self.pp(p, out)

    def c_svo_adv(self, n: int, out: list[str], cap: bool) -> None:
        s, v, o = _alloc(self.rand, n - 1, _SVO_ADV)
        plural = self.np(s, out, cap)
        self.vg(v, out, plural, "t")
        self.np(o, out, obj=True)
        out.append(" " + self.pick(self.t.adv_manner))

    def c_purpose(self, n: int, out: list[str], cap: bool) -> None:
        s, v, o, o2 = _alloc(self.rand, n - 2, _PURPOSE)
        plural = self.np(s, out, cap)
        self.vg(v, out, plural, "t")
        self.np(o, out, obj=True)
        out += (" to", " " + self.verb("t")[0])
        self.np(o2, out, obj=True)

    def c_sv(self, n: int, out: list[str], cap: bool) -> None:
        s, v = _alloc(self.rand, n, _SV)
        plural = self.np(s, out, cap)
        self.vg(v, out, plural, "i")

    def c_sv_adv(self, n: int, out: list[str], cap: bool) -> None:
        s, v = _alloc(self.rand, n - 1, _SV_ADV)
        plural = self.np(s, out, cap)
        self.vg(v, out, plural, "i")
        out.append(" " + self.pick(self.t.adv_manner))

    def c_sv_pp(self, n: int, out: list[str], cap: bool) -> None:
        s, v, p = _alloc(self.rand, n, _SV_PP)
        plural = self.np(s, out, cap)
        self.vg(v, out, plural, "i")
        self.pp(p, out)

    def c_cop(self, n: int, out: list[str], cap: bool) -> None:
        s, c, a = _alloc(self.rand, n, _COP)
        plural = self.np(s, out, cap)
        self.cop(c, out, plural)
        self.adjp(a, out)

    def c_exist(self, n: int, out: list[str], cap: bool) -> None:
        c, s, p = _alloc(self.rand, n - 1, _EXIST)
        subject: list[str] = []
        plural = self.np(s, subject, indef=True)
        out.append(" there")
        self.cop(c, out, plural)
        out += subject
        self.pp(p, out)

    def c_it_adj(self, n: int, out: list[str], cap: bool) -> None:
        c, a, o = _alloc(self.rand, n - 3, _IT_ADJ)
        out.append(" it")
        self.cop(c, out, False)
        self.adjp(a, out)
        out += (" to", " " + self.verb("t")[0])
        self.np(o, out, obj=True)

    def c_that(self, n: int, out: list[str], cap: bool) -> None:
        s, v, rest = _alloc(self.rand, n - 1, _THAT)
        plural = self.np(s, out, cap)
        self.vg(v, out, plural, "c")
        out.append(" that")
        self.clause(rest, out, False, simple=True)

    # ------------------------------------------------------------------ sentences
    def sentence(self, n: int, last: bool, out: list[str]) -> None:
        """Emit one sentence of exactly ``n`` pieces (punctuation included), starting with a
        capitalizable word rendered as ``" word"`` (the caller fixes its capitalisation)."""
        if n <= 2:
            out.append(" " + self.pick(self.t.interj))
            if n == 2:
                out.append(".")
            return
        r = self.rand()
        if not last and 6 <= n <= 12 and r < _QUESTION_P:
            self.s_question(n, out)
            return
        if not last and 4 <= n <= 11 and r < _QUESTION_P + _EXCLAIM_P:
            self.c_cop(n - 1, out, True)
            out.append("!")
            return
        choices: list[tuple[float, Callable[[int, list[str]], None]]] = []
        if n <= 21:
            choices.append((5.0, self.s_plain))
        if 6 <= n <= 23:
            choices.append((2.0, self.s_opener))
        if 9 <= n <= 33:
            choices.append((2.0, self.s_coord))
            choices.append((1.2, self.s_sub_front))
        if 8 <= n <= 30:
            choices.append((1.2, self.s_sub_back))
        if 7 <= n <= 22:
            choices.append((1.0, self.s_pp_front))
        if 9 <= n <= 20:
            choices.append((0.7, self.s_colon))
        if not choices:  # longer than any template: two sentences' worth joined by "and"
            choices.append((1.0, self.s_coord_long))
        x = self.rand() * sum(w for w, _ in choices)
        for w, fn in choices:
            x -= w
            if x < 0:
                fn(n, out)
                break
        else:
            choices[-1][1](n, out)

    def s_plain(self, n: int, out: list[str]) -> None:
        self.clause(n - 1, out, True)
        out.append(".")

    def s_opener(self, n: int, out: list[str]) -> None:
        t = self.t
        length = 1
        if self.rand() < 0.35:
            length = 2 + int(self.rand() * (t.opener_max - 1))
            while length > 1 and (length not in t.phrases_by_len or n - length - 2 < 3):
                length -= 1
        if length == 1:
            out.append(" " + self.pick(t.openers))
        else:
            phrases = t.phrases_by_len[length]
            out += [" " + w for w in phrases[int(self.rand() * len(phrases))]]
        out.append(",")
        self.clause(n - length - 2, out, False)
        out.append(".")

    def s_coord(self, n: int, out: list[str]) -> None:
        a, b = _alloc(self.rand, n - 3, ((3, 15), (3, 15)))
        self.clause(a, out, True)
        out += (",", " " + self.pick(self.t.coord))
        self.clause(b, out, False)
        out.append(".")

    def s_coord_long(self, n: int, out: list[str]) -> None:
        a = (n - 3) // 2
        self.clause(min(a, 20), out, True)
        out += (",", " and")
        rest = n - 3 - min(a, 20)
        while rest > 20:
            self.clause(17, out, False)
            out += (",", " and")
            rest -= 19
        self.clause(rest, out, False)
        out.append(".")

    def s_sub_front(self, n: int, out: list[str]) -> None:
        a, b = _alloc(self.rand, n - 3, ((3, 15), (3, 15)))
        out.append(" " + self.pick(self.t.subord_cap))
        self.clause(a, out, False)
        out.append(",")
        self.clause(b, out, False)
        out.append(".")

    def s_sub_back(self, n: int, out: list[str]) -> None:
        a, b = _alloc(self.rand, n - 2, ((3, 14), (3, 14)))
        self.clause(a, out, True)
        out.append(" " + self.pick(self.t.subord))
        self.clause(b, out, False)
        out.append(".")

    def s_pp_front(self, n: int, out: list[str]) -> None:
        p, c = _alloc(self.rand, n - 2, ((2, 5), (3, 15)))
        self.pp(p, out, cap=True)
        out.append(",")
        self.clause(c, out, False)
        out.append(".")

    def s_colon(self, n: int, out: list[str]) -> None:
        t = self.t
        # subject(1..3) verb(1..2) NUMBER head(1..2) ":" items "."; items + separators
        counts = [m for m in (2, 3, 4) if m in t.list_numbers]
        fitting = [m for m in counts if 5 + m + (1 if m == 2 else m) <= n - 1 <= 8 + 2 * m + (1 if m == 2 else m)]
        if not fitting:
            self.s_plain(n, out)
            return
        m = fitting[int(self.rand() * len(fitting))]
        seps = 1 if m == 2 else m
        sizes = _alloc(self.rand, n - 3 - seps, ((1, 3), (1, 2), (1, 2), *([(1, 2)] * m)))
        plural = self.np(sizes[0], out, True)
        self.vg(sizes[1], out, plural, "t")
        out.append(" " + t.list_numbers[m])
        if sizes[2] == 2:
            out.append(" " + self.adjective())
        head = self.noun()[1]
        out += (" " + head, ":")
        used = {head}
        for k, size in enumerate(sizes[3:]):
            if k == m - 1:
                if m > 2:
                    out.append(",")
                out.append(" and")
            elif k > 0:
                out.append(",")
            if size == 2:
                out.append(" " + self.adjective())
            noun = self.noun()[1]
            tries = 0
            while noun in used:
                tries += 1
                noun = self.noun()[1] if tries < 8 else self.pick(t.nouns)[1]
            used.add(noun)
            out.append(" " + noun)
        out.append(".")

    def s_question(self, n: int, out: list[str]) -> None:
        t = self.t
        if n <= 8 and self.rand() < 0.4:
            (s,) = _alloc(self.rand, n - 4, ((1, 4),))
            out.append(" what")
            body: list[str] = []
            plural = self.np(s, body)
            out.append(" " + ("did" if self.past else "do" if plural else "does"))
            out += body
            out += (" " + self.verb("t")[0], "?")
            return
        s, o = _alloc(self.rand, n - 4, ((1, 4), (1, 4)))
        out.append(" " + self.pick(t.wh))
        body = []
        plural = self.np(s, body)
        out.append(" " + ("did" if self.past else "do" if plural else "does"))
        out += body
        out.append(" " + self.verb("t")[0])
        self.np(o, out, obj=True)
        out.append("?")

    # ------------------------------------------------------------------ planning
    def natural_lengths(self) -> list[int]:
        r = self.rand() * _SENTENCE_COUNT_CUM[-1]
        count = next(i + 1 for i, c in enumerate(_SENTENCE_COUNT_CUM) if r < c)
        return [self.sentence_length() for _ in range(count)]

    def sentence_length(self) -> int:
        return _MIN_SENTENCE + int(9.5 * self.rand() + 9.5 * self.rand())

    def plan_natural(self, min_tokens: int, endless: bool) -> Iterator[tuple[int, bool]]:
        lengths = self.natural_lengths()
        total = sum(lengths)
        while total < min_tokens:
            lengths.append(self.sentence_length())
            total += lengths[-1]
        for i, length in enumerate(lengths):
            yield length, (not endless and i == len(lengths) - 1)
        while endless:
            yield self.sentence_length(), False

    def plan_exact(self, total: int) -> Iterator[tuple[int, bool]]:
        rem = total
        while rem > 0:
            length = rem
            if rem > _MAX_TAIL_SENTENCE:
                length = min(self.sentence_length(), rem - _MIN_SENTENCE)
            rem -= length
            yield length, rem == 0


class _Planner(_Builder):
    """Only what planning needs (the RNG): skips the working vocabulary a sentence builder draws."""

    def __init__(self, t: _Tables, rng: random.Random) -> None:
        self.t = t
        self.rand = rng.random


#: Sentences pre-built per (length, is-last); drawing one costs one random() call instead of
#: ~2 µs per piece.  Each pool is built from its own fixed seed, so its content does not depend on
#: the order in which a process first needs it.
_POOL_SIZE = 32
#: Each entry holds the sentence twice: opening a paragraph ("Word ...") and following one (" Word ...").
_Pool = tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
_POOLS: dict[tuple[int, bool], _Pool] = {}
_POOL_LOCK = threading.Lock()


def _pool(t: _Tables, n: int, last: bool) -> _Pool:
    pool = _POOLS.get((n, last))
    if pool is None:
        with _POOL_LOCK:
            pool = _POOLS.get((n, last))
            if pool is None:
                sentences = []
                for i in range(_POOL_SIZE):
                    out: list[str] = []
                    _Builder(t, random.Random(f"fakeai-pool:{n}:{last}:{i}"), ()).sentence(n, last, out)
                    first = out[0][1:].capitalize()
                    sentences.append(((first, *out[1:]), (" " + first, *out[1:])))
                pool = _POOLS[(n, last)] = tuple(sentences)
    return pool


_ClauseFn = Callable[[_Builder, int, list[str], bool], None]
_Clause = tuple[int, int, float, _ClauseFn]

#: Clause templates: (min length, max length, weight, builder method).
_CLAUSES: tuple[_Clause, ...] = (
    (*_span(_SVO, 0), 5.0, _Builder.c_svo),
    (*_span(_SVO_PP, 0), 3.0, _Builder.c_svo_pp),
    (*_span(_SVO_ADV, 1), 1.0, _Builder.c_svo_adv),
    (*_span(_PURPOSE, 2), 2.0, _Builder.c_purpose),
    (*_span(_SV, 0), 1.0, _Builder.c_sv),
    (*_span(_SV_ADV, 1), 1.0, _Builder.c_sv_adv),
    (*_span(_SV_PP, 0), 1.5, _Builder.c_sv_pp),
    (*_span(_COP, 0), 2.5, _Builder.c_cop),
    (*_span(_EXIST, 1), 0.7, _Builder.c_exist),
    (*_span(_IT_ADJ, 3), 0.7, _Builder.c_it_adj),
    (*_span(_THAT, 1), 1.0, _Builder.c_that),
)
#: Clauses that may follow "that" (no nesting).
_SIMPLE_CLAUSES: tuple[_Clause, ...] = tuple(
    c for c in _CLAUSES if c[3] in (_Builder.c_svo, _Builder.c_sv, _Builder.c_cop, _Builder.c_sv_pp)
)


def _by_length(clauses: Sequence[_Clause]) -> list[tuple[tuple[_ClauseFn, ...], tuple[float, ...]]]:
    """For each length n, the clauses that can be exactly n long and their cumulative weights."""
    table: list[tuple[tuple[_ClauseFn, ...], tuple[float, ...]]] = []
    for n in range(max(c[1] for c in clauses) + 1):
        fits = [c for c in clauses if c[0] <= n <= c[1]]
        cum: list[float] = []
        for c in fits:
            cum.append((cum[-1] if cum else 0.0) + c[2])
        table.append((tuple(c[3] for c in fits), tuple(cum)))
    return table


_CLAUSES_BY_LEN = _by_length(_CLAUSES)
_SIMPLE_CLAUSES_BY_LEN = _by_length(_SIMPLE_CLAUSES)


class TextGenerator:
    """Deterministic English text generator with exact token accounting.

    Construction is cheap (the lookup tables are built once per process, without tiktoken).  All
    randomness comes from the :class:`random.Random` passed to each method.
    """

    __slots__ = ("_t",)

    def __init__(self) -> None:
        self._t = _tables()

    @property
    def known_pieces(self) -> frozenset[str]:
        """Every piece the generator can emit (all single tokens in both encodings)."""
        return self._t.known_pieces

    def generate(
        self,
        rng: random.Random,
        *,
        max_tokens: int | None,
        min_tokens: int = 0,
        ignore_eos: bool = False,
        target_tokens: int | None = None,
        topic_words: Sequence[str] = (),
    ) -> Generated:
        """Generate a completion.

        * Natural length (no ``target_tokens``): 1–6 sentences of 6–24 pieces each, drawn from
          ``rng``; the text ends with a complete sentence ending in ``"."``.
        * ``target_tokens``: exactly that many pieces (sentences sized so the text still ends with
          ``"."``; 1 piece is a bare one-word answer such as ``"Yes"``).
        * ``min_tokens``: the text never ends naturally before that many pieces (natural length:
          sentences are added; ``target_tokens``: the target is raised to ``min_tokens``).
        * ``max_tokens``: if the text would be longer, it is cut to exactly ``max_tokens`` pieces and
          ``finished`` is False (``"length"``).  A text of exactly ``max_tokens`` pieces is finished.
          A cut text is a prefix of the uncut text for the same RNG state.
        * ``ignore_eos`` (with ``max_tokens``): keep writing past the natural end to exactly
          ``max_tokens`` pieces, ``finished=False`` (as vLLM reports ``"length"``).  Without
          ``max_tokens`` there is no limit to run to, and it is ignored.
        * ``topic_words``: words of the prompt; those in the vocabulary (nouns, mass nouns,
          adjectives; either number) are preferred when choosing nouns and adjectives.

        ``max_tokens <= 0`` returns no pieces (``finished`` False unless the natural text is empty).
        """
        t = self._t
        limit = None if max_tokens is None else max(0, max_tokens)
        # With topic words each sentence is built piece by piece around them; without, whole
        # sentences come from the pools (the fast path the API uses).
        b = _Builder(t, rng, topic_words) if topic_words else _Planner(t, rng)
        plan: Iterator[tuple[int, bool]]
        if ignore_eos and limit is not None:
            plan = b.plan_natural(min_tokens, endless=True)
        elif target_tokens is not None:
            plan = b.plan_exact(max(target_tokens, min_tokens, 0))
        else:
            plan = b.plan_natural(min_tokens, endless=False)
        out: list[str] = []
        new_paragraph = True  # the first sentence starts without a leading space
        in_paragraph = 0
        pooled = not topic_words
        for length, last in plan:
            if limit is not None and len(out) >= limit:
                break
            if pooled:
                pool = _POOLS.get((length, last)) or _pool(t, length, last)
                out.extend(pool[int(b.rand() * _POOL_SIZE)][0 if new_paragraph else 1])
            else:
                start = len(out)
                b.sentence(length, last, out)
                first = out[start][1:].capitalize()
                out[start] = first if new_paragraph else " " + first
            in_paragraph += 1
            new_paragraph = False
            if not last and in_paragraph >= 2 and b.rand() < _PARAGRAPH_P and length > 1:
                out[-1] += "\n\n"
                new_paragraph = True
                in_paragraph = 0
        else:
            # The plan ran out (an endless ignore_eos plan never does): a natural end.
            if limit is None or len(out) <= limit:
                return Generated(tuple(out), True)
        return Generated(tuple(out[:limit]), False)

    def alternatives(self, rng: random.Random, piece: str, k: int) -> list[str]:
        """Return ``k`` distinct single-token pieces, all different from ``piece``, that could stand
        in its place (for ``top_logprobs``).

        Same part of speech and same form (``" word"`` / ``" Word"`` / ``"Word"``) when ``piece`` is a
        vocabulary word; other punctuation and a few continuation words for punctuation; words of
        the same form for anything else.  Fewer than ``k`` only if ``k`` exceeds the whole vocabulary.
        """
        if k <= 0:
            return []
        rand = rng.random
        result: list[str] = []
        seen = {piece}
        for pool in self._pools_for(piece):
            if len(result) >= k:
                break
            size = len(pool)
            if size > 4 * (k - len(result)) + 8:
                while len(result) < k:
                    cand = pool[int(rand() * size)]
                    if cand not in seen:
                        seen.add(cand)
                        result.append(cand)
            else:
                order = list(pool)
                rng.shuffle(order)
                for cand in order:
                    if cand not in seen:
                        seen.add(cand)
                        result.append(cand)
                        if len(result) >= k:
                            break
        return result

    def _pools_for(self, piece: str) -> list[tuple[str, ...]]:
        t = self._t
        pools: list[tuple[str, ...]] = []
        own = t.pool_of.get(piece)
        if own is not None:
            pools.append(own)
        if piece.startswith(" ") and piece[1:2].isupper():
            pools.append(t.cap_space_pieces)
        elif piece[:1].isupper():
            pools.append(t.cap_pieces)
        elif piece.startswith(" "):
            pools.append(t.lower_pieces)
        else:
            pools.append(t.punct_pool)
        pools.append(t.lower_pieces)
        return pools

    def logprob_for(self, rng: random.Random, piece: str) -> float:
        """A plausible (negative) log-probability for ``piece`` having been sampled.

        Punctuation and function words are near-certain (−0.0001 … −0.5); content words less so
        (−0.01 … −3).  Log-uniform within those ranges.
        """
        if piece in self._t.function_pieces:
            lo, hi = 1e-4, 0.5
        else:
            lo, hi = 1e-2, 3.0
        return -math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * rng.random())

    def top_logprobs(self, rng: random.Random, piece: str, logprob: float, k: int) -> list[tuple[str, float]]:
        """``k`` (piece, logprob) pairs for a ``top_logprobs`` list, most likely first.

        Contains ``(piece, logprob)`` itself plus ``k - 1`` :meth:`alternatives`, whose probabilities
        share part of the remaining mass ``1 - exp(logprob)`` in decreasing amounts, so the total never
        exceeds 1.  The sampled piece is usually, but not always, ranked first (like sampling at a
        temperature).
        """
        if k <= 0:
            return []
        alts = self.alternatives(rng, piece, k - 1)
        remaining = max(0.0, 1.0 - math.exp(min(logprob, 0.0)))
        mass = remaining * (0.5 + 0.45 * rng.random())
        ratio = 0.3 + 0.4 * rng.random()
        weights = [ratio**i for i in range(len(alts))]
        scale = mass / sum(weights) if weights else 0.0
        pairs = [(piece, logprob)]
        pairs += [(alt, math.log(max(w * scale, 1e-30))) for alt, w in zip(alts, weights, strict=True)]
        pairs.sort(key=lambda p: -p[1])
        return pairs

    def echo_pieces(self, text: str) -> tuple[str, ...] | None:
        """Split ``text`` into single-token pieces without tiktoken, if it is made of them.

        Returns the pieces when ``text`` consists only of known pieces (such as text this generator
        wrote) arranged so that tiktoken's pre-tokeniser splits it at those boundaries; then
        ``pieces`` is exactly tiktoken's tokenisation in both encodings.  Otherwise returns None, and
        the caller should fall back to tiktoken.
        """
        known = self._t.known_pieces
        pieces: list[str] = []
        prev = ""
        for m in _ECHO_RE.finditer(text):
            p = m.group()
            if p not in known:
                return None
            if p in _PUNCT_SET:
                if prev in _PUNCT_SET:
                    return None  # adjacent punctuation merges into one pre-token
            elif p[0] != " ":
                if pieces and not prev.endswith("\n"):
                    return None  # "Word" glues onto a preceding piece unless after a newline
            elif prev.endswith("\n"):
                return None  # keep to the verified "\n\n" + "Word" arrangement
            pieces.append(p)
            prev = p
        return tuple(pieces)
