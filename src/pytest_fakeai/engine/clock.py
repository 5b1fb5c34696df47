"""Simulated time.

Models compute *when* things happen; only adapters wait.  A clock turns a due
moment (seconds on the simulator's timeline) into how long an adapter must
really wait: the ``real`` clock waits out the simulated time (divided by
``speed``), the ``virtual`` clock never waits and just moves its own time on.

On the virtual clock, concurrency is modelled like this: every flow of control
(a thread, an asyncio task: a :mod:`contextvars` context) has its own "now", the
end of the last response it received; a response handed to an adapter that will
deliver it later is *pending* (:meth:`Clock.begin`), and the shared time moves on
to the latest end only once nothing is pending (:meth:`Clock.finish`).  So
requests sent together (``asyncio.gather``, a thread pool) arrive at the same
simulated moment and load each other, a client's next request arrives when its
previous answer came, and code that waits for all of them continues after the
last one -- as on a real server, without anybody waiting.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
from typing import Literal

__all__ = ["Clock", "ClockMode"]

ClockMode = Literal["real", "virtual"]
_ids = itertools.count()


class Clock:
    """The simulator's timeline: ``now()`` in seconds since the Unix epoch."""

    def __init__(self, mode: ClockMode = "virtual", *, start: float, speed: float = 1.0) -> None:
        self.mode: ClockMode = mode
        self.speed = speed
        self._start = start
        self._virtual = 0.0  # shared simulated seconds elapsed (virtual mode)
        self._horizon = 0.0  # the latest end delivered while others were pending
        self._local: contextvars.ContextVar[float] = contextvars.ContextVar(f"fakeai_clock_{next(_ids)}", default=0.0)
        self._pending: dict[int, float] = {}
        self._tokens = itertools.count(1)
        self._origin = time.monotonic()
        self._lock = threading.Lock()

    @property
    def waits(self) -> bool:
        """Whether adapters really wait for due moments."""
        return self.mode == "real"

    def elapsed(self) -> float:
        """Simulated seconds since the simulator started, as the current thread or task sees it."""
        if self.mode == "virtual":
            local = self._local.get()
            return local if local > self._virtual else self._virtual
        return (time.monotonic() - self._origin) * self.speed

    def now(self) -> float:
        return self._start + self.elapsed()

    def advance_to(self, elapsed: float) -> None:
        """Move virtual time forward to ``elapsed`` (never backwards); no-op on the real clock."""
        if self.mode == "virtual":
            with self._lock:
                if elapsed > self._virtual:
                    self._virtual = elapsed
                if elapsed > self._local.get():
                    self._local.set(elapsed)

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds``; the real clock cannot be moved."""
        if self.mode == "virtual":
            with self._lock:
                target = max(self._virtual, self._local.get()) + max(0.0, seconds)
                self._virtual = max(self._virtual, target)
                self._local.set(target)
        else:
            raise RuntimeError("the real clock cannot be advanced; use clock='virtual'")

    # -- responses delivered later ----------------------------------------------------------------
    def begin(self, end: float) -> int:
        """A response ending at ``end`` is on its way: time waits for it (virtual clock).  A token for finish()."""
        with self._lock:
            token = next(self._tokens)
            self._pending[token] = end
            return token

    def finish(self, token: int, end: float | None = None) -> None:
        """The response of ``token`` was delivered (``end``: when it really ended, e.g. a stream cut short)."""
        if self.mode != "virtual":
            with self._lock:
                self._pending.pop(token, None)
            return
        with self._lock:
            planned = self._pending.pop(token, None)
            if planned is None:
                return
            end = planned if end is None else end
            if end > self._local.get():
                self._local.set(end)
            if end > self._horizon:
                self._horizon = end
            if not self._pending and self._horizon > self._virtual:
                self._virtual = self._horizon

    def wait_seconds(self, due: float) -> float:
        """Real seconds an adapter must wait until simulated moment ``due`` (0 on the virtual clock)."""
        if self.mode == "virtual":
            return 0.0
        return max(0.0, due - self.elapsed()) / self.speed
