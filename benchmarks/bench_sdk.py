"""openai SDK throughput through the simulator vs. a canned floor, and the plugin's import cost.

Run from the repository root::

    python benchmarks/bench_sdk.py                  # everything, about 2.5 minutes
    python benchmarks/bench_sdk.py --json out.json  # also write the raw numbers
    python benchmarks/bench_sdk.py --profile        # cProfile the simulator side instead

SDK throughput: for each case (stack x sync/async x non-stream/100-chunk stream) the
same openai call runs against two clients -- the *floor*, the SDK over a bare
``MockTransport`` returning canned bytes, and the *simulator*,
``FakeAI(output_tokens=100).client(stack=...)`` -- in alternating short rounds, so
the machine's noise hits both alike.  What is reported is the ratio simulator/floor
per round (median and spread), not absolute calls/s.

Import cost: ``python -m pytest --co -q`` of a one-test file, with and without
``-p no:fakeai``, alternating in subprocesses; and ``python -X importtime``.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

try:
    import resource
except ImportError:  # Windows has no rusage: child CPU time falls back to wall time
    resource = None  # type: ignore[assignment]

from canned import CONTENT_CHUNKS, completion_body, completion_headers, stream_events, stream_headers

_CACHE = Path(__file__).resolve().parents[2] / "shared" / "tiktoken-cache"
if "TIKTOKEN_CACHE_DIR" not in os.environ and _CACHE.is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_CACHE)

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a short paragraph about a harbour town at dusk."},
]
STREAM_OPTIONS = {"include_usage": True, "include_obfuscation": False}
FLOOR_URL = "http://floor.test/v1"
TARGETS = {False: 0.90, True: 0.85}  # non-streaming, streaming: simulator/floor at least
IMPORT_TARGET_MS = 25.0
PACKAGE = "pytest_fakeai"


# -- cases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    stack: str  # "httpx" | "httpx2"
    asynchronous: bool
    stream: bool

    @property
    def name(self) -> str:
        return f"{self.stack:<6} {'async' if self.asynchronous else 'sync ':<5} {'stream' if self.stream else 'plain'}"

    @property
    def target(self) -> float:
        return TARGETS[self.stream]


def all_cases(stacks: list[str]) -> list[Case]:
    return [Case(s, a, st) for s in stacks for a in (False, True) for st in (False, True)]


@dataclass
class CaseResult:
    case: str
    stack: str
    asynchronous: bool
    stream: bool
    target: float
    floor_bytes: int
    sim_bytes: int
    floor_rates: list[float] = field(default_factory=list)
    sim_rates: list[float] = field(default_factory=list)
    work_rates: list[float] = field(default_factory=list)  # --decompose: floor + simulator work

    @property
    def ratios(self) -> list[float]:
        return [s / f for s, f in zip(self.sim_rates, self.floor_rates, strict=True)]

    def summary(self) -> dict[str, float]:
        ratios = self.ratios
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
        extra = [(1 / s - 1 / f) * 1e6 for s, f in zip(self.sim_rates, self.floor_rates, strict=True)]
        parts = {}
        if self.work_rates:
            work = zip(self.sim_rates, self.work_rates, self.floor_rates, strict=True)
            parts = {
                "work_us_per_call": statistics.median((1 / w - 1 / f) * 1e6 for _, w, f in work),
                "adapter_us_per_call": statistics.median(
                    (1 / s - 1 / w) * 1e6 for s, w in zip(self.sim_rates, self.work_rates, strict=True)
                ),
            }
        return {
            "floor_calls_per_s": statistics.median(self.floor_rates),
            "sim_calls_per_s": statistics.median(self.sim_rates),
            "ratio_median": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_p25": q1,
            "ratio_p75": q3,
            "ratio_max": max(ratios),
            "extra_us_per_call": statistics.median(extra),
            **parts,
        }


# -- clients ------------------------------------------------------------------------------------


def floor_client(case: Case, chunking: str, work: Callable[[], None] | None = None) -> Any:
    """The openai SDK over a bare MockTransport of ``case.stack`` returning canned bytes.

    With ``work``, the transport calls it before answering (``--decompose``: the
    simulator's work done in the SDK's context, without the simulator's adapter).
    """
    import openai

    mod = importlib.import_module(case.stack)
    if case.stream:
        headers = stream_headers()
        events = stream_events()
        whole = b"".join(events)
        if chunking == "whole":

            def handler(request: Any) -> Any:
                return mod.Response(200, headers=headers, content=whole)

        elif case.asynchronous:

            async def chunks() -> Any:
                for event in events:
                    yield event

            def handler(request: Any) -> Any:
                return mod.Response(200, headers=headers, content=chunks())

        else:

            def handler(request: Any) -> Any:
                return mod.Response(200, headers=headers, content=iter(events))

    else:
        headers = completion_headers()
        body = completion_body()

        def handler(request: Any) -> Any:
            return mod.Response(200, headers=headers, content=body)

    if work is not None:
        plain, run = handler, work

        def handler(request: Any) -> Any:
            run()
            return plain(request)

    transport = mod.MockTransport(handler)
    if case.asynchronous:
        http = mod.AsyncClient(transport=transport, base_url=FLOOR_URL)
        return openai.AsyncOpenAI(api_key="sk-floor", base_url=FLOOR_URL, http_client=http)
    http = mod.Client(transport=transport, base_url=FLOOR_URL)
    return openai.OpenAI(api_key="sk-floor", base_url=FLOOR_URL, http_client=http)


def simulator(case: Case) -> tuple[Any, Any]:
    """A fresh simulator and its openai client for ``case``."""
    from pytest_fakeai import FakeAI

    sim = FakeAI(output_tokens=CONTENT_CHUNKS)
    client = sim.async_client(stack=case.stack) if case.asynchronous else sim.client(stack=case.stack)
    return sim, client


def simulator_work(case: Case) -> Callable[[], None]:
    """``FakeAI.handle`` of this case's request on a fresh simulator, a stream drained: no SDK, no HTTP."""
    from pytest_fakeai import ApiRequest, FakeAI

    sim = FakeAI(output_tokens=CONTENT_CHUNKS)
    payload: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
    if case.stream:
        payload.update(stream=True, stream_options=STREAM_OPTIONS)
    headers = {"content-type": "application/json", "authorization": "Bearer sk-fakeai"}
    request = ApiRequest("POST", "/v1/chat/completions", headers=headers, body=json.dumps(payload).encode())

    def work() -> None:
        response = sim.handle(request)
        if response.stream is not None:
            for _ in response.stream:
                pass
            response.stream.close()

    return work


def call_of(client: Any, case: Case) -> Callable[[], Any]:
    """One SDK call, fully consumed; returns the number of content chunks (or of characters)."""
    create = client.chat.completions.create
    if case.asynchronous:
        if case.stream:

            async def acall_stream() -> int:
                n = 0
                async for chunk in await create(
                    model=MODEL, messages=MESSAGES, stream=True, stream_options=STREAM_OPTIONS
                ):
                    if chunk.choices and chunk.choices[0].delta.content:
                        n += 1
                return n

            return acall_stream

        async def acall() -> int:
            r = await create(model=MODEL, messages=MESSAGES)
            return len(r.choices[0].message.content)

        return acall
    if case.stream:

        def call_stream() -> int:
            n = 0
            for chunk in create(model=MODEL, messages=MESSAGES, stream=True, stream_options=STREAM_OPTIONS):
                if chunk.choices and chunk.choices[0].delta.content:
                    n += 1
            return n

        return call_stream

    def call() -> int:
        return len(create(model=MODEL, messages=MESSAGES).choices[0].message.content)

    return call


# -- timing -------------------------------------------------------------------------------------


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


def _sync_round(call: Callable[[], Any], seconds: float, clock: Callable[[], float]) -> float:
    n = 0
    start = clock()
    deadline = start + seconds
    while True:
        call()
        n += 1
        now = clock()
        if now >= deadline:
            return n / (now - start)


async def _async_round(call: Callable[[], Awaitable[Any]], seconds: float, clock: Callable[[], float]) -> float:
    n = 0
    start = clock()
    deadline = start + seconds
    while True:
        await call()
        n += 1
        now = clock()
        if now >= deadline:
            return n / (now - start)


class Runner:
    """Runs sync calls directly and async ones on one event loop kept for the whole case."""

    def __init__(self, asynchronous: bool, clock: str = "cpu") -> None:
        self.loop = asyncio.new_event_loop() if asynchronous else None
        self.clock = CLOCKS[clock]

    def run(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn`` (an async ``fn`` on the loop) and return its result."""
        if self.loop is None:
            return fn()
        return self.loop.run_until_complete(fn())

    def round(self, call: Callable[[], Any], seconds: float) -> float:
        gc.collect()
        if self.loop is None:
            return _sync_round(call, seconds, self.clock)
        return self.loop.run_until_complete(_async_round(call, seconds, self.clock))

    def close(self) -> None:
        if self.loop is not None:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


def measure_case(case: Case, args: argparse.Namespace) -> CaseResult:
    runner = Runner(case.asynchronous, args.clock)
    try:
        floor = runner.run(_async(lambda: floor_client(case, args.floor_chunking), case))
        sim, client = runner.run(_async(lambda: simulator(case), case))
        floor_call, sim_call = call_of(floor, case), call_of(client, case)

        # Same shape on both sides: 100 content chunks, or a comparable message.
        got_floor, got_sim = runner.run(floor_call), runner.run(sim_call)
        if case.stream and got_floor != got_sim:
            raise SystemExit(f"{case.name}: floor streams {got_floor} content chunks, simulator {got_sim}")
        if not got_sim:
            raise SystemExit(f"{case.name}: the simulator answered with no content")
        last = sim.calls.last.response
        sim_bytes = sum(map(len, last.chunks)) if case.stream else len(last.body)
        floor_bytes = len(b"".join(stream_events())) if case.stream else len(completion_body())

        runner.round(floor_call, args.warmup)  # warm-up, untimed
        runner.round(sim_call, args.warmup)
        result = CaseResult(case.name, case.stack, case.asynchronous, case.stream, case.target, floor_bytes, sim_bytes)
        sides = [(floor_call, result.floor_rates), (sim_call, result.sim_rates)]
        clients = [floor, client]
        if args.decompose:
            worked = runner.run(_async(lambda: floor_client(case, args.floor_chunking, simulator_work(case)), case))
            clients.append(worked)
            sides.append((call_of(worked, case), result.work_rates))
            runner.round(sides[-1][0], args.warmup)
        for r in range(args.rounds):
            # rotate who goes first, so drift within a round does not favour any side
            for call, rates in sides[r % len(sides) :] + sides[: r % len(sides)]:
                rates.append(runner.round(call, args.round_time))
        for c in clients:
            runner.run(c.close)
        return result
    finally:
        runner.close()


def _async(fn: Callable[[], Any], case: Case) -> Callable[[], Any]:
    """``fn`` as-is for sync cases; wrapped in a coroutine (so it runs inside the loop) for async ones."""
    if not case.asynchronous:
        return fn

    async def wrapped() -> Any:
        return fn()

    return wrapped


def measure_handle(seconds: float, clock: str) -> dict[str, float]:
    """Microseconds per call of ``FakeAI.handle`` alone, in a tight loop (plain, and a stream drained)."""
    out = {}
    for stream in (False, True):
        work = simulator_work(Case("httpx", asynchronous=False, stream=stream))
        for _ in range(20):
            work()
        rates = []
        for _ in range(5):
            gc.collect()
            rates.append(_sync_round(work, seconds / 5, CLOCKS[clock]))
        out["stream" if stream else "plain"] = 1e6 / statistics.median(rates)
    return out


# -- import cost --------------------------------------------------------------------------------


def _subprocess_env(pycache: Path) -> dict[str, str]:
    """The environment for the measured subprocesses: no pytest overrides, and bytecode cached.

    ``PYTHONDONTWRITEBYTECODE`` (set on some CI machines) would make every run recompile
    every module; users have ``.pyc`` files, so compiled bytecode is kept, in a private
    ``PYTHONPYCACHEPREFIX`` so that nothing is written into the project or the venv.
    """
    env = dict(os.environ)
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _run_timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    """Run ``cmd``; its wall time and its CPU time (user + system, from the children's rusage), in ms."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = (time.perf_counter() - start) * 1000
    if resource is None or before is None:
        return {"wall": wall, "cpu": wall}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return {"wall": wall, "cpu": cpu}


def measure_pytest_startup(rounds: int, tmp: Path, clock: str) -> dict[str, Any]:
    """``pytest --co -q`` of a one-test file with the plugin vs. with ``-p no:fakeai``, interleaved."""
    test = tmp / "test_one.py"
    test.write_text("def test_one():\n    assert True\n")
    base = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
    commands = {"with": [*base, str(test)], "without": [*base, "-p", "no:fakeai", str(test)]}
    env = _subprocess_env(tmp / "pycache")

    for name, cmd in commands.items():  # the plugin must load in one and not in the other
        out = subprocess.run(
            [*cmd[:-1], "--trace-config", cmd[-1]], cwd=tmp, env=env, capture_output=True, text=True, check=True
        ).stdout
        if ("pytest_fakeai.plugin" in out) != (name == "with"):
            raise SystemExit(f"pytest-fakeai plugin {'not ' if name == 'with' else ''}loaded in the {name!r} run")

    for cmd in commands.values():  # warm the page cache and the .pyc files
        _run_timed(cmd, tmp, env)
    runs: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
    for r in range(rounds):
        for name in ("with", "without") if r % 2 == 0 else ("without", "with"):
            runs[name].append(_run_timed(commands[name], tmp, env))

    def stats(kind: str) -> dict[str, Any]:
        with_ms = [t[kind] for t in runs["with"]]
        without_ms = [t[kind] for t in runs["without"]]
        diffs = [w - o for w, o in zip(with_ms, without_ms, strict=True)]
        q1, _, q3 = statistics.quantiles(diffs, n=4)
        return {
            "with_ms": with_ms,
            "without_ms": without_ms,
            "with_median_ms": statistics.median(with_ms),
            "without_median_ms": statistics.median(without_ms),
            "diff_median_ms": statistics.median(diffs),
            "diff_p25_ms": q1,
            "diff_p75_ms": q3,
        }

    return {
        "command": " ".join(["python", *commands["with"][1:-1], "test_one.py"]),
        "rounds": rounds,
        "clock": clock,
        "target_ms": IMPORT_TARGET_MS,
        "cpu": stats("cpu"),
        "wall": stats("wall"),
    }


@dataclass
class _Node:
    name: str
    self_us: int
    cum_us: int
    children: list[_Node]


def _importtime_tree(stderr: str) -> list[_Node]:
    """Parse ``-X importtime`` output (children are printed before their parent, indented deeper)."""
    pending: dict[int, list[_Node]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, cum_us, name = line[len("import time:") :].split("|", 2)
        name = name[1:]  # one space after the bar, then two per level of nesting
        depth = (len(name) - len(name.lstrip(" "))) // 2
        node = _Node(name.strip(), int(self_us), int(cum_us), pending.pop(depth + 1, []))
        pending.setdefault(depth, []).append(node)
    return pending.get(0, [])


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _walk(nodes: list[_Node], inside: bool, out: dict[str, Any]) -> None:
    """Collect our top-level totals, per-module cumulative, and foreign modules pulled in by ours."""
    for node in nodes:
        if _ours(node.name):
            if not inside:
                out["total_us"] += node.cum_us
            out["modules"][node.name] = (node.self_us, node.cum_us)
            _walk(node.children, True, out)
        else:
            if inside:
                out["foreign"][node.name] = node.cum_us
            else:
                _walk(node.children, False, out)


def measure_importtime(code: str, runs: int, tmp: Path) -> dict[str, Any]:
    """Median over ``runs`` of ``python -X importtime -c code``, for pytest_fakeai modules."""
    totals: list[int] = []
    modules: dict[str, list[tuple[int, int]]] = {}
    foreign: dict[str, list[int]] = {}
    for _ in range(runs + 1):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            env=_subprocess_env(tmp / "pycache"),
            capture_output=True,
            text=True,
            check=True,
        )
        out: dict[str, Any] = {"total_us": 0, "modules": {}, "foreign": {}}
        _walk(_importtime_tree(proc.stderr), False, out)
        totals.append(out["total_us"])
        for k, v in out["modules"].items():
            modules.setdefault(k, []).append(v)
        for k, v in out["foreign"].items():
            foreign.setdefault(k, []).append(v)
    totals = totals[1:]  # the first run warms the .pyc files
    return {
        "command": f'python -X importtime -c "{code}"',
        "total_ms": statistics.median(totals) / 1000,
        "modules_ms": {
            k: {
                "self": statistics.median(s for s, _ in v) / 1000,
                "cumulative": statistics.median(c for _, c in v) / 1000,
            }
            for k, v in sorted(modules.items())
        },
        "foreign_ms": dict(
            sorted(((k, statistics.median(v) / 1000) for k, v in foreign.items()), key=lambda kv: -kv[1])[:8]
        ),
    }


# -- profile ------------------------------------------------------------------------------------


def profile_simulator(cases: list[Case], seconds: float, top: int) -> None:
    """cProfile the simulator side only and print where its time goes, our functions first."""
    root = str(Path(importlib.import_module(PACKAGE).__file__ or "").parent)
    for case in cases:
        runner = Runner(case.asynchronous)
        try:
            _, client = runner.run(_async(lambda c=case: simulator(c), case))
            call = call_of(client, case)
            runner.round(call, 1.0)  # warm-up
            profiler = cProfile.Profile()
            profiler.enable()
            rate = runner.round(call, seconds)
            profiler.disable()
        finally:
            runner.close()
        stats = pstats.Stats(profiler)
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        total = sum(v[2] for v in raw.values())
        calls = rate * seconds
        ours = {k: v for k, v in raw.items() if k[0].startswith(root)}
        own = sum(v[2] for v in ours.values())
        print(f"\n=== profile: simulator side, {case.name} ({calls:.0f} calls under cProfile) ===")
        print(
            f"total {total / calls * 1e6:.0f} us/call; in {PACKAGE} code itself (tottime): "
            f"{own / calls * 1e6:.0f} us/call ({own / total:.0%})"
        )
        print(f"\n{PACKAGE}, by cumulative time (us/call incl. callees, e.g. tiktoken, json):")
        _print_rows(ours, root, calls, key=3, top=top)
        print(f"\n{PACKAGE}, by own time (us/call):")
        _print_rows(ours, root, calls, key=2, top=top)
        print("\neverything, by own time (us/call):")
        _print_rows(raw, root, calls, key=2, top=top)


def _print_rows(rows: dict[Any, Any], root: str, calls: float, *, key: int, top: int) -> None:
    print(f"  {'own':>7} {'cum':>7} {'ncalls/call':>11}  function")
    for (file, line, func), v in sorted(rows.items(), key=lambda kv: -kv[1][key])[:top]:
        where = file.replace(root, PACKAGE) if file.startswith(root) else _short(file)
        print(f"  {v[2] / calls * 1e6:7.1f} {v[3] / calls * 1e6:7.1f} {v[1] / calls:11.1f}  {func} ({where}:{line})")


def _short(file: str) -> str:
    marker = "site-packages/"
    return file.split(marker, 1)[1] if marker in file else file


# -- output -------------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "-"

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        **{name: version(name) for name in ("openai", "httpx", "httpx2", "pydantic", "pytest", "pytest-fakeai")},
    }


def print_sdk_table(results: list[CaseResult]) -> None:
    decomposed = any(r.work_rates for r in results)
    print(
        f"\n{'case':<20} {'floor/s':>8} {'sim/s':>8} {'ratio':>6} {'p25-p75':>11} {'min-max':>11} "
        f"{'+us/call':>8} {'target':>7}  ok  "
        + (f"{'work us':>8} {'adapter':>8}  " if decomposed else "")
        + "bytes floor/sim"
    )
    for r in results:
        s = r.summary()
        ok = "yes" if s["ratio_median"] >= r.target else "NO"
        parts = ""
        if decomposed:
            parts = f"{s.get('work_us_per_call', 0):8.0f} {s.get('adapter_us_per_call', 0):8.0f}  "
        print(
            f"{r.case:<20} {s['floor_calls_per_s']:8.0f} {s['sim_calls_per_s']:8.0f} {s['ratio_median']:6.2f} "
            f"{s['ratio_p25']:5.2f}-{s['ratio_p75']:<5.2f} {s['ratio_min']:5.2f}-{s['ratio_max']:<5.2f} "
            f"{s['extra_us_per_call']:8.0f} {'>=' + format(r.target, '.2f'):>7}  {ok:<3} {parts}"
            f"{r.floor_bytes}/{r.sim_bytes}"
        )


def print_import(startup: dict[str, Any] | None, importtimes: list[dict[str, Any]]) -> None:
    if startup is not None:
        print(f"\npytest startup: {startup['command']}  ({startup['rounds']} interleaved rounds)")
        for kind in ("cpu", "wall"):
            st = startup[kind]
            verdict = ""
            if kind == startup["clock"]:
                verdict = f", target <= {startup['target_ms']:.0f} ms: "
                verdict += "yes" if st["diff_median_ms"] <= startup["target_ms"] else "NO"
            print(
                f"  {kind:<4} time: with plugin {st['with_median_ms']:.0f} ms, -p no:fakeai "
                f"{st['without_median_ms']:.0f} ms -> plugin adds {st['diff_median_ms']:.1f} ms median "
                f"(p25-p75 {st['diff_p25_ms']:.1f} to {st['diff_p75_ms']:.1f}){verdict}"
            )
    for it in importtimes:
        print(f"\n{it['command']}: {PACKAGE} modules {it['total_ms']:.1f} ms cumulative (median)")
        for name, t in it["modules_ms"].items():
            print(f"  {t['cumulative']:7.2f} ms cumulative {t['self']:7.2f} ms self  {name}")
        if it["foreign_ms"]:
            print("  pulled in by them: " + ", ".join(f"{k} {v:.1f} ms" for k, v in it["foreign_ms"].items()))


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=20, help="interleaved rounds per case and side (default 20)")
    p.add_argument("--round-time", type=float, default=0.25, help="seconds per round and side (default 0.25)")
    p.add_argument(
        "--warmup", type=float, default=0.5, help="seconds of untimed warm-up per side and case (default 0.5)"
    )
    p.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        default="cpu",
        help="time rounds by this process's CPU time (default: steadier on a shared machine) or wall time",
    )
    p.add_argument("--stacks", default="httpx,httpx2", help="comma-separated: httpx,httpx2 (default both)")
    p.add_argument("-k", dest="select", default="", help="only cases whose name contains all these words")
    p.add_argument(
        "--floor-chunking",
        choices=("event", "whole"),
        default="event",
        help="floor stream delivered one SSE event per chunk, like the simulator (default), or as one body",
    )
    p.add_argument(
        "--decompose",
        action="store_true",
        help="add a third side, the floor doing the simulator's work in its transport: splits the gap into "
        "simulator work and adapter cost (about +50%% SDK time)",
    )
    p.add_argument("--import-rounds", type=int, default=24, help="pytest --co rounds per variant (default 24)")
    p.add_argument("--importtime-runs", type=int, default=7, help="-X importtime runs, median (default 7)")
    p.add_argument("--skip-sdk", action="store_true", help="skip the SDK throughput cases")
    p.add_argument("--skip-import", action="store_true", help="skip the import-cost measurements")
    p.add_argument("--json", type=Path, help="also write all numbers (every round) to this file")
    p.add_argument("--profile", action="store_true", help="instead: cProfile the simulator side of the cases")
    p.add_argument("--profile-time", type=float, default=3.0, help="seconds profiled per case (default 3)")
    p.add_argument("--top", type=int, default=20, help="rows per profile listing (default 20)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    words = args.select.split()
    cases = [c for c in all_cases(args.stacks.split(",")) if all(w in c.name.split() for w in words)]
    env = environment()
    print(
        f"{env['date']}  {env['cpus']} cpus  Python {env['python']}  openai {env['openai']}  "
        f"httpx {env['httpx']}  httpx2 {env['httpx2']}  pydantic {env['pydantic']}"
    )
    if args.profile:
        profile_simulator(cases, args.profile_time, args.top)
        return 0

    results: list[CaseResult] = []
    handle_us: dict[str, float] = {}
    if not args.skip_sdk:
        print(f"SDK: {len(cases)} cases x {args.rounds} rounds x {args.round_time}s per side, interleaved", end="")
        for case in cases:
            print(".", end="", flush=True)
            results.append(measure_case(case, args))
        print()
        print_sdk_table(results)
        handle_us = measure_handle(1.5, args.clock)
        print(
            f"\nFakeAI.handle alone, tight loop (no SDK, no HTTP): plain {handle_us['plain']:.0f} us/call, "
            f"stream {handle_us['stream']:.0f} us/call ({CONTENT_CHUNKS} chunks, drained)"
        )

    startup = None
    importtimes: list[dict[str, Any]] = []
    if not args.skip_import:
        with tempfile.TemporaryDirectory(prefix="fakeai-bench-") as tmp:
            startup = measure_pytest_startup(args.import_rounds, Path(tmp), args.clock)
            importtimes = [
                measure_importtime(f"import {PACKAGE}.plugin", args.importtime_runs, Path(tmp)),
                measure_importtime(f"import pytest; import {PACKAGE}.plugin", args.importtime_runs, Path(tmp)),
            ]
        print_import(startup, importtimes)

    if args.json:
        data = {
            "environment": env,
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "sdk": [{**asdict(r), "ratios": r.ratios, **r.summary()} for r in results],
            "handle_us_per_call": handle_us,
            "pytest_startup": startup,
            "importtime": importtimes,
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
