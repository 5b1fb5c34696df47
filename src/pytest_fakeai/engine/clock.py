"""Simulated time.

Models compute *when* things happen; only adapters wait.  A clock turns a due
moment (seconds on the simulator's timeline) into how long an adapter must
really wait: the ``real`` clock waits out the simulated time (divided by
``speed``), the ``virtual`` clock never waits and just moves its own time on.
"""

from __future__ import annotations

import threading
import time
from typing import Literal

__all__ = ["Clock", "ClockMode"]

ClockMode = Literal["real", "virtual"]


class Clock:
    """The simulator's timeline: ``now()`` in seconds since the Unix epoch."""

    def __init__(self, mode: ClockMode = "virtual", *, start: float, speed: float = 1.0) -> None:
        self.mode: ClockMode = mode
        self.speed = speed
        self._start = start
        self._virtual = 0.0  # simulated seconds elapsed (virtual mode)
        self._origin = time.monotonic()
        self._lock = threading.Lock()

    @property
    def waits(self) -> bool:
        """Whether adapters really wait for due moments."""
        return self.mode == "real"

    def elapsed(self) -> float:
        """Simulated seconds since the simulator started."""
        if self.mode == "virtual":
            return self._virtual
        return (time.monotonic() - self._origin) * self.speed

    def now(self) -> float:
        return self._start + self.elapsed()

    def advance_to(self, elapsed: float) -> None:
        """Move virtual time forward to ``elapsed`` (never backwards); no-op on the real clock."""
        if self.mode == "virtual":
            with self._lock:
                if elapsed > self._virtual:
                    self._virtual = elapsed

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds``; the real clock cannot be moved."""
        if self.mode == "virtual":
            with self._lock:
                self._virtual += max(0.0, seconds)
        else:
            raise RuntimeError("the real clock cannot be advanced; use clock='virtual'")

    def wait_seconds(self, due: float) -> float:
        """Real seconds an adapter must wait until simulated moment ``due`` (0 on the virtual clock)."""
        if self.mode == "virtual":
            return 0.0
        return max(0.0, due - self.elapsed()) / self.speed
