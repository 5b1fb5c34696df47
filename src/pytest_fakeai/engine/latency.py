"""Latency profiles: how long a request waits, prefills and decodes on simulated time.

The model follows llm-d-inference-sim (../shared/FIDELITY.md):

* load factor ``lf = 1 + (f - 1) * (running - 1) / (max_num_seqs - 1)`` from the requests
  running when this one starts (``f`` the slow-down of a full batch);
* TTFT ``~ N(ttft * lf + uncached_prompt_tokens * prefill_per_token * lf, jitter * mean)``;
* each inter-token gap ``~ N(itl * lf, jitter * mean)``, drawn per token;
* draws clamped to ``[0.3, 1.7] * mean`` (so a gap is never negative), jitter at most 30 %.

Past ``max_num_seqs`` running requests a new one waits (engine/serving.py).  Every number
comes from a named profile, each settable on its own; ``instant`` (all zero) is the default,
so tests do not model time unless they ask to.
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass

__all__ = ["PROFILES", "LatencyProfile", "profile_for", "profile_name"]


@dataclass(frozen=True, slots=True)
class LatencyProfile:
    """The numbers of one serving setup (seconds)."""

    name: str
    ttft: float = 0.0  # fixed overhead before the first token (scheduling, prefill launch)
    prefill_per_token: float = 0.0  # prefill cost of each uncached prompt token
    itl: float = 0.0  # mean gap between output tokens, one request alone
    jitter: float = 0.0  # coefficient of variation of every draw (<= 0.3)
    load_factor: float = 1.0  # how much slower a full batch runs than one request alone
    max_num_seqs: int = 256  # requests decoded at once; more wait in the queue

    @property
    def instant(self) -> bool:
        return self.ttft == 0 and self.prefill_per_token == 0 and self.itl == 0

    def lf(self, running: int) -> float:
        """The load factor with ``running`` requests in the batch (this one included)."""
        if self.max_num_seqs <= 1 or running <= 1:
            return 1.0
        return 1.0 + (self.load_factor - 1.0) * (min(running, self.max_num_seqs) - 1) / (self.max_num_seqs - 1)

    def draw(self, rng: random.Random, mean: float) -> float:
        """One draw around ``mean`` (llm-d's normal, clamped to [0.3, 1.7] * mean)."""
        if mean <= 0 or self.jitter <= 0:
            return max(0.0, mean)
        value = rng.gauss(mean, self.jitter * mean)
        return min(max(value, 0.3 * mean), 1.7 * mean)


#: Named profiles.  GPU profiles are self-hosted engines (vLLM / NIM / Dynamo) on one node;
#: the ``api-*`` ones are a hosted API seen from a client (network and queueing included).
PROFILES: dict[str, LatencyProfile] = {
    p.name: p
    for p in (
        LatencyProfile("instant"),
        # llm-d-inference-sim's H100 8B example: ITL 12 ms, prefill overhead 30 ms, 250 us per prompt token
        LatencyProfile("h100-8b", 0.030, 0.00025, 0.012, 0.15, 2.0, 64),
        LatencyProfile("h100-70b", 0.060, 0.0006, 0.030, 0.15, 2.5, 32),
        LatencyProfile("h200-70b", 0.050, 0.0005, 0.024, 0.15, 2.2, 48),
        LatencyProfile("b200-70b", 0.035, 0.0003, 0.016, 0.15, 2.0, 64),
        LatencyProfile("a100-8b", 0.045, 0.0004, 0.018, 0.15, 2.0, 48),
        LatencyProfile("a100-70b", 0.090, 0.0009, 0.045, 0.15, 2.5, 24),
        LatencyProfile("l40s-8b", 0.060, 0.0006, 0.028, 0.15, 2.2, 32),
        # hosted APIs: a few hundred ms to the first token, then fast decoding
        LatencyProfile("api-small", 0.25, 0.00002, 0.008, 0.25, 1.3, 256),
        LatencyProfile("api-large", 0.40, 0.00004, 0.015, 0.25, 1.3, 256),
        LatencyProfile("api-reasoning", 0.80, 0.00004, 0.012, 0.25, 1.3, 256),
    )
}

_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)b(?![a-z])", re.IGNORECASE)


def profile_name(model_id: str, provider: str, *, reasoning: bool = False) -> str:
    """The ``realistic`` profile for a model: hosted APIs by tier, self-hosted models by size on an H100."""
    if provider in ("openai", "anthropic", "google"):
        if reasoning:
            return "api-reasoning"
        small = any(word in model_id for word in ("mini", "nano", "haiku", "flash", "3.5"))
        return "api-small" if small else "api-large"
    m = _SIZE.search(model_id.replace("_", "-"))
    size = float(m.group(1)) if m else 8.0
    return "h100-8b" if size <= 20 else "h100-70b"


def profile_for(
    name: str,
    model_id: str,
    provider: str,
    *,
    reasoning: bool = False,
    overrides: dict[str, float | int | None] | None = None,
) -> LatencyProfile:
    """Profile ``name`` (``realistic``: chosen by :func:`profile_name`) with non-None ``overrides`` applied."""
    if name == "realistic":
        name = profile_name(model_id, provider, reasoning=reasoning)
    profile = PROFILES[name]
    changes = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "jitter" in changes:
        changes["jitter"] = min(float(changes["jitter"]), 0.3)
    return dataclasses.replace(profile, **changes) if changes else profile  # type: ignore[arg-type]
