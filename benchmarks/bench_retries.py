"""What unhappy-path tests cost: the openai SDK's retries against injected faults, in wall time.

Run from the repository root::

    python benchmarks/bench_retries.py            # about half a minute
    python benchmarks/bench_retries.py --calls 5000

For each stack, N chat calls with ``max_retries=2`` run against three simulators in
alternating rounds (the machine's noise hits all alike):

* ``clean``  -- no faults (the baseline);
* ``faults`` -- 30 % retryable faults (429, 500, 502, 503, 504, timeout, connection reset)
  with fast retries (the default);
* ``slow``   -- the same faults with ``fast_retries=False`` (the SDK really sleeps), run
  on a few calls only, to show what fast retries save.

Reported: the success rate against 1 - 0.3^3, wall time per call as a ratio to the clean
baseline, and the simulated time the retries and timeouts took.  See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

import openai

from pytest_fakeai import FakeAI

KINDS = ["429", "500", "502", "503", "504", "timeout", "connection_reset"]
HI = [{"role": "user", "content": "hi"}]


def run(sim: FakeAI, stack: str, calls: int) -> tuple[float, int]:
    client = sim.client(stack=stack, max_retries=2)
    ok = 0
    start = time.perf_counter()
    for _ in range(calls):
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=16)
            ok += 1
        except openai.APIError:
            pass
    return time.perf_counter() - start, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000, help="calls per round and simulator")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slow-calls", type=int, default=6)
    parser.add_argument("--stacks", default="httpx,httpx2")
    args = parser.parse_args()
    rate = 0.3
    expected = 1 - rate**3
    for stack in args.stacks.split(","):
        ratios: list[float] = []
        oks = total = 0
        sim_seconds = retries = 0.0
        for r in range(args.rounds):
            clean_t, _ = run(FakeAI(seed=r, max_calls=10), stack, args.calls)
            faulty = FakeAI(seed=r, max_calls=10, error_rate=rate, error_types=KINDS)
            fault_t, ok = run(faulty, stack, args.calls)
            ratios.append(fault_t / clean_t)
            oks += ok
            total += args.calls
            sim_seconds += faulty.clock.elapsed()
            retries += faulty.metrics.retries
        half = 2.5758 * math.sqrt(expected * (1 - expected) / total)
        slow = FakeAI(seed=99, error_rate=rate, error_types=[k for k in KINDS if k != "timeout"], fast_retries=False)
        slow_t, _ = run(slow, stack, args.slow_calls)
        fast = FakeAI(seed=99, error_rate=rate, error_types=[k for k in KINDS if k != "timeout"])
        fast_t, _ = run(fast, stack, args.slow_calls)
        summary: dict[str, Any] = {
            "stack": stack,
            "success": round(oks / total, 4),
            "expected": f"{expected:.4f} ± {half:.4f} (99 %)",
            "wall ratio faults/clean (median)": round(statistics.median(ratios), 2),
            "retries per call": round(retries / total, 3),
            "simulated seconds per call": round(sim_seconds / total, 1),
            f"{args.slow_calls} calls, fast_retries off (s)": round(slow_t, 2),
            f"{args.slow_calls} calls, fast_retries on (s)": round(fast_t, 3),
        }
        for key, value in summary.items():
            print(f"{key:>40}: {value}")
        print()


if __name__ == "__main__":
    main()
