"""Rate limits: token buckets for requests and tokens per minute and per day, per API key and model.

Buckets refill continuously on the simulator's clock (as OpenAI's limits do: a limit
of 60 RPM gives back one request a second), so on the virtual clock a test that
waits -- or whose retry is modelled as waiting -- sees capacity return exactly as
it would against the real service.  No HTTP here: :meth:`RateLimiter.admit`
returns a :class:`Decision` the api layer turns into headers or a 429.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["LIMITS", "Bucket", "Decision", "RateLimiter", "duration", "limit_key"]

#: limit name -> (what it counts, window in seconds, the words OpenAI's message uses)
LIMITS: dict[str, tuple[str, float, str]] = {
    "rpm": ("requests", 60.0, "requests per min (RPM)"),
    "tpm": ("tokens", 60.0, "tokens per min (TPM)"),
    "rpd": ("requests", 86_400.0, "requests per day (RPD)"),
    "tpd": ("tokens", 86_400.0, "tokens per day (TPD)"),
}


def limit_key(text: str) -> str:
    """Check a ``rate_limits`` key: ``"<model or API key>:<rpm|tpm|rpd|tpd>"``."""
    target, sep, name = text.strip().rpartition(":")
    if not sep or not target or name.lower() not in LIMITS:
        raise ValueError(
            f"a rate_limits key is '<model or API key>:<rpm|tpm|rpd|tpd>' (e.g. 'gpt-4o:rpm'), not {text!r}"
        )
    return f"{target}:{name.lower()}"


def duration(seconds: float) -> str:
    """OpenAI's duration format (Go's ``time.Duration``): ``20ms``, ``1s``, ``17.28s``, ``6m0s``, ``1h2m3s``."""
    ms = max(0, math.ceil(seconds * 1000 - 1e-6))
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


class Bucket:
    """A continuously refilling bucket of ``limit`` units over ``window`` seconds."""

    __slots__ = ("at", "level", "limit", "window")

    def __init__(self, limit: int, window: float, now: float) -> None:
        self.limit = limit
        self.window = window
        self.level = float(limit)
        self.at = now

    def refill(self, now: float) -> None:
        if now > self.at:
            self.level = min(float(self.limit), self.level + (now - self.at) * self.limit / self.window)
            self.at = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` units are available (inf if never: more than the limit)."""
        if amount <= self.level:
            return 0.0
        if amount > self.limit or self.limit == 0:
            return math.inf
        return (amount - self.level) * self.window / self.limit

    def reset_in(self) -> float:
        """Seconds until the bucket is full again (OpenAI's ``x-ratelimit-reset-*``)."""
        return (self.limit - self.level) * self.window / self.limit if self.limit else 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """What the limiter decided.  ``limited``: the name of the limit hit (None: admitted)."""

    headers: tuple[tuple[str, str], ...]
    limited: str | None = None
    limit: int = 0
    used: int = 0
    requested: int = 0
    retry_after: float = 0.0  # seconds until the request would fit (inf: never, it is too large)


class RateLimiter:
    """Buckets per (API key, model); limits from global numbers and per-model / per-key overrides."""

    def __init__(self, defaults: Mapping[str, int | None], overrides: Mapping[str, float] | None = None) -> None:
        self.defaults = {name: defaults.get(name) for name in LIMITS}
        self.overrides: dict[str, dict[str, int]] = {}
        for key, value in (overrides or {}).items():
            target, _, name = limit_key(key).rpartition(":")
            self.overrides.setdefault(target, {})[name] = int(value)
        self._buckets: dict[tuple[str, str], dict[str, Bucket]] = {}
        self._lock = threading.Lock()
        self.limited: dict[str, int] = {}  # limit name -> requests refused

    @property
    def active(self) -> bool:
        return any(v is not None for v in self.defaults.values()) or bool(self.overrides)

    def limits_for(self, api_key: str, model: str) -> dict[str, int]:
        """The limits that apply to (key, model): an override for the model or the key wins over the
        global number; where both override one limit, the lower applies."""
        found: dict[str, int] = {n: v for n, v in self.defaults.items() if v is not None}
        specific: dict[str, int] = {}
        for target in (model, api_key):
            for name, value in self.overrides.get(target, {}).items():
                specific[name] = min(value, specific.get(name, value))
        found.update(specific)
        return found

    def admit(self, api_key: str, model: str, tokens: int, now: float) -> Decision:
        """Take one request of ``tokens`` estimated tokens, or refuse it (and take nothing)."""
        limits = self.limits_for(api_key, model)
        if not limits:
            return Decision(())
        with self._lock:
            buckets = self._buckets.setdefault((api_key, model), {})
            for name, limit in limits.items():
                bucket = buckets.get(name)
                if bucket is None or bucket.limit != limit:
                    bucket = buckets[name] = Bucket(limit, LIMITS[name][1], now)
                bucket.refill(now)
            cost = {"requests": 1, "tokens": max(0, tokens)}
            refused: tuple[str, Bucket] | None = None
            for name in ("rpm", "tpm", "rpd", "tpd"):  # per-minute limits are reported first
                bucket = buckets.get(name)
                if bucket is not None and bucket.wait_for(cost[LIMITS[name][0]]) > 0:
                    refused = (name, bucket)
                    break
            if refused is None:
                for name, bucket in buckets.items():
                    if name in limits:
                        bucket.level -= cost[LIMITS[name][0]]
            headers = _headers(buckets, limits)
            if refused is None:
                return Decision(headers)
            name, bucket = refused
            self.limited[name] = self.limited.get(name, 0) + 1
            requested = cost[LIMITS[name][0]]
            return Decision(
                headers,
                limited=name,
                limit=bucket.limit,
                used=bucket.limit - max(0, math.floor(bucket.level)),
                requested=requested,
                retry_after=bucket.wait_for(requested),
            )


def _headers(buckets: Mapping[str, Bucket], limits: Mapping[str, int]) -> tuple[tuple[str, str], ...]:
    # OpenAI reports the per-minute limits in x-ratelimit-*; a per-day limit stands in when no
    # per-minute one is set for that unit.
    found: dict[str, Bucket] = {}
    for unit, (minute, day) in (("requests", ("rpm", "rpd")), ("tokens", ("tpm", "tpd"))):
        name = minute if minute in limits else day if day in limits else None
        if name is not None:
            found[unit] = buckets[name]
    # OpenAI's order: both limits, both remainders, both resets
    out = [(f"x-ratelimit-limit-{unit}", str(b.limit)) for unit, b in found.items()]
    out += [(f"x-ratelimit-remaining-{unit}", str(max(0, math.floor(b.level)))) for unit, b in found.items()]
    out += [(f"x-ratelimit-reset-{unit}", duration(b.reset_in())) for unit, b in found.items()]
    return tuple(out)
