"""Client-observed TTFT and inter-token latency against the latency profile, on the real clock.

Run from the repository root::

    python benchmarks/bench_latency.py                    # 1, 8 and 32 concurrent streams, in process and on a port
    python benchmarks/bench_latency.py --via inprocess --rounds 5

For each concurrency ``c`` a fresh ``FakeAI(clock="real", latency=PROFILE)`` serves ``c``
async openai streams at once (``asyncio.gather``), ``rounds`` times.  The client times
each stream itself -- from sending the request to its first content chunk (TTFT), and
every gap between content chunks (ITL) -- and the simulator records the timeline it
planned for the same requests (``fakeai.metrics``).  Reported: both, their ratio, and the
profile's numbers for one request alone; the planned ITL rises with concurrency as the
load factor says, and the client should see what was planned plus a little overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

import openai

from pytest_fakeai import FakeAI
from pytest_fakeai.engine.latency import PROFILES

MODEL = "meta/llama-3.1-8b-instruct"
_CACHE = Path(__file__).resolve().parents[2] / "shared" / "tiktoken-cache"
if "TIKTOKEN_CACHE_DIR" not in os.environ and _CACHE.is_dir():  # offline: the repository's copies
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_CACHE)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    pos = (len(values) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


async def one_stream(client: openai.AsyncOpenAI, i: int, tokens: int) -> tuple[float, list[float]]:
    sent = time.perf_counter()
    first: float | None = None
    last = 0.0
    gaps: list[float] = []
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": f"stream number {i}: tell me a story"}],
        max_tokens=tokens,
        stream=True,
        extra_body={"ignore_eos": True},
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            now = time.perf_counter()
            if first is None:
                first = now - sent
            else:
                gaps.append(now - last)
            last = now
    assert first is not None
    return first, gaps


async def run_case(sim: FakeAI, base_url: str | None, concurrency: int, rounds: int, tokens: int) -> dict[str, Any]:
    if base_url is None:
        client = sim.async_client()
    else:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)
    ttfts: list[float] = []
    itls: list[float] = []
    await asyncio.gather(*(one_stream(client, -1 - i, 4) for i in range(concurrency)))  # warm-up, untimed
    sim.engine.stats.models.clear()  # the planned side: the timed rounds only
    for r in range(rounds):
        results = await asyncio.gather(*(one_stream(client, r * 1000 + i, tokens) for i in range(concurrency)))
        for first, gaps in results:
            ttfts.append(first)
            itls.extend(gaps)
    await client.close()
    m = sim.metrics
    return {
        "client_ttft": ttfts,
        "client_itl": itls,
        "sim_ttft": list(m.ttft.values),
        "sim_itl": list(m.itl.values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="h100-8b", choices=sorted(PROFILES))
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--via", default="inprocess,port")
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    print(
        f"profile {profile.name}: ttft {profile.ttft * 1e3:.1f} ms + {profile.prefill_per_token * 1e6:.0f} us/prompt "
        f"token, itl {profile.itl * 1e3:.1f} ms, jitter {profile.jitter:.0%}, load factor {profile.load_factor} at "
        f"{profile.max_num_seqs} seqs; {args.tokens} tokens per stream, {args.rounds} rounds"
    )
    header = (
        f"{'via':<10}{'c':>4}  {'TTFT planned':>13}{'client':>9}{'ratio':>7}{'p99 cl':>8}   "
        f"{'ITL planned':>12}{'client':>9}{'ratio':>7}{'p99 pl':>8}{'p99 cl':>8}"
    )
    print(header)
    for via in args.via.split(","):
        for c in (int(x) for x in args.concurrency.split(",")):
            sim = FakeAI(clock="real", latency=args.profile, seed=c, max_calls=10)
            if via == "port":
                with sim.serve() as server:
                    out = asyncio.run(run_case(sim, server.url, c, args.rounds, args.tokens))
            else:
                out = asyncio.run(run_case(sim, None, c, args.rounds, args.tokens))
            pt, ct = statistics.mean(out["sim_ttft"]), statistics.mean(out["client_ttft"])
            pi, ci = statistics.mean(out["sim_itl"]), statistics.mean(out["client_itl"])
            p99 = {k: pct(out[k], 99) * 1e3 for k in ("client_ttft", "sim_itl", "client_itl")}
            ttft = f"{pt * 1e3:>10.1f} ms{ct * 1e3:>6.1f} ms{ct / pt:>7.2f}{p99['client_ttft']:>6.1f}ms"
            itl = f"{pi * 1e3:>9.2f} ms{ci * 1e3:>6.2f} ms{ci / pi:>7.2f}{p99['sim_itl']:>6.1f}ms"
            itl += f"{p99['client_itl']:>6.1f}ms"
            print(f"{via:<10}{c:>4}  {ttft}   {itl}")


if __name__ == "__main__":
    main()
