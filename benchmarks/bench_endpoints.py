"""What each endpoint costs through the openai SDK in process, as a ratio to a chat completion.

Run from the repository root::

    python benchmarks/bench_endpoints.py              # about a minute
    python benchmarks/bench_endpoints.py --rounds 10

Each case is one SDK call against ``FakeAI().client()`` (httpx2 stack when available),
timed in alternating short rounds with the baseline -- a 20-token chat completion -- so the
machine's noise hits both alike.  Reported: median microseconds per call and the ratio to
the baseline in the same round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_fakeai import FakeAI

_CACHE = Path(__file__).resolve().parents[2] / "shared" / "tiktoken-cache"
if "TIKTOKEN_CACHE_DIR" not in os.environ and _CACHE.is_dir():  # offline: the repository's copies
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_CACHE)

HI = [{"role": "user", "content": "Summarise the plot of a short story in two sentences."}]


def cases(sim: FakeAI) -> dict[str, Callable[[], Any]]:
    c = sim.client()
    wav = c.audio.speech.create(model="tts-1", voice="alloy", input="Hello there, how are you?", response_format="wav")
    audio = wav.read()
    upload = c.files.create(file=("notes.txt", b"Paris is the capital of France. " * 20), purpose="assistants")
    store = c.vector_stores.create(name="bench", file_ids=[upload.id])
    return {
        "chat (baseline)": lambda: c.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=20),
        "chat, stream": lambda: list(
            c.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=20, stream=True)
        ),
        "responses": lambda: c.responses.create(model="gpt-4o-mini", input="Summarise a story.", max_output_tokens=20),
        "embeddings (1 text)": lambda: c.embeddings.create(model="text-embedding-3-small", input="a short sentence"),
        "moderations": lambda: c.moderations.create(input="a perfectly friendly sentence"),
        "images 256px b64": lambda: c.images.generate(
            model="dall-e-2", prompt="a red kite", size="256x256", response_format="b64_json"
        ),
        "speech 2 s wav": lambda: c.audio.speech.create(
            model="tts-1", voice="alloy", input="Hello there, how are you?", response_format="wav"
        ).read(),
        "transcription": lambda: c.audio.transcriptions.create(model="whisper-1", file=("a.wav", audio)),
        "files retrieve": lambda: c.files.retrieve(upload.id),
        "vector store search": lambda: c.vector_stores.search(store.id, query="capital of France"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--round-time", type=float, default=0.4, help="seconds per case per round")
    args = parser.parse_args()
    sim = FakeAI(seed=1, max_calls=10)
    table = cases(sim)
    base = table["chat (baseline)"]
    for fn in table.values():  # warm up: first-use imports and caches
        fn()
        fn()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in table}
    for _ in range(args.rounds):
        for name, fn in table.items():
            per_call = {}
            for label, f in (("case", fn), ("base", base)):
                n, start = 0, time.perf_counter()
                while time.perf_counter() - start < args.round_time:
                    f()
                    n += 1
                per_call[label] = (time.perf_counter() - start) / n
            results[name].append((per_call["case"], per_call["case"] / per_call["base"]))
    print(f"{'endpoint':<22}{'us/call':>10}{'x chat':>9}")
    for name, rows in results.items():
        us = statistics.median(r[0] for r in rows) * 1e6
        ratio = statistics.median(r[1] for r in rows)
        print(f"{name:<22}{us:>10.0f}{ratio:>9.2f}")


if __name__ == "__main__":
    main()
