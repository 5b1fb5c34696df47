"""A real port under load: pytest-fakeai's server vs. FakeAI 0.3.2, same machine, same run.

Run from the repository root::

    python benchmarks/bench_server.py                   # about 2.2 minutes (+ a one-time install)
    python benchmarks/bench_server.py --json out.json   # also write every number
    python benchmarks/bench_server.py --client httpx    # load from httpx.AsyncClient instead

Both servers run as subprocesses on 127.0.0.1 at zero latency:

- ``pytest-fakeai serve --host 127.0.0.1 --port P`` (the virtual clock: nothing waits);
- ``fakeai server --host 127.0.0.1 --port P`` from ``fakeai==0.3.2`` (plus ``pillow``, which
  it imports without declaring), installed by this script into its own virtual environment
  (``--fakeai-venv``, default ``~/.cache/pytest-fakeai-bench/fakeai-0.3.2``).  FakeAI 0.3.2's
  ``server`` command ignores its latency flags (it builds a config, then has uvicorn import
  ``fakeai.app:app``, which builds another from the environment), and its flat
  ``FAKEAI_TTFT_MS``-style variables do not reach the generation settings; only the
  nested ``FAKEAI_GENERATION__*`` variables do.  Both are passed.

This process is the load generator, separate from both servers: by default a minimal
asyncio HTTP/1.1 client (one keep-alive connection per in-flight request, ~0.06 ms of CPU
a request), or ``httpx.AsyncClient`` with ``--client httpx`` (~1.5 ms a request: it then
saturates before the servers do).  Cases, interleaved in rounds so the machine's noise
hits both servers alike: non-streaming chat completions (requests/s, p50/p99 latency) and
streaming chat completions with ``max_tokens`` 100 (content chunks/s, p50/p99 time to the
last chunk).  Errors (non-200, wrong shape, stream without ``[DONE]``) and timeouts are
counted, never dropped.  See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

FAKEAI_VERSION = "0.3.2"
# fakeai 0.3.2 imports PIL at start-up but does not declare pillow as a dependency.
FAKEAI_REQUIREMENTS = [f"fakeai=={FAKEAI_VERSION}", "pillow"]
DEFAULT_VENV = Path.home() / ".cache" / "pytest-fakeai-bench" / f"fakeai-{FAKEAI_VERSION}"
ZERO_LATENCY_ENV = {
    "FAKEAI_GENERATION__TTFT_MS": "0",
    "FAKEAI_GENERATION__TTFT_VARIANCE_PERCENT": "0",
    "FAKEAI_GENERATION__ITL_MS": "0",
    "FAKEAI_GENERATION__ITL_VARIANCE_PERCENT": "0",
    "FAKEAI_GENERATION__RESPONSE_DELAY": "0",
    "FAKEAI_GENERATION__RANDOM_DELAY": "false",
    # the flat names fakeai's docs suggest; 0.3.2 ignores them for these settings
    "FAKEAI_TTFT_MS": "0",
    "FAKEAI_ITL_MS": "0",
    "FAKEAI_RESPONSE_DELAY": "0",
    "FAKEAI_RANDOM_DELAY": "false",
}
FAKEAI_FLAGS = ["--ttft", "0:0", "--itl", "0:0", "--response-delay", "0", "--no-random-delay"]
_CACHE = Path(__file__).resolve().parents[2] / "shared" / "tiktoken-cache"

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a short paragraph about a harbour town at dusk."},
]
THROUGHPUT_TARGET = 5.0  # ours / fakeai at least
P99_TARGET = 0.2  # ours / fakeai at most
IDLE_RECONNECT = 1.0  # seconds after which the raw client opens a fresh connection (uvicorn keeps idle ones 5 s)
SIDES = ("pytest-fakeai", f"fakeai {FAKEAI_VERSION}")


# -- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_fakeai(path: Path) -> Path:
    """A virtual environment at *path* with fakeai==0.3.2; created and installed if missing."""
    py = venv_python(path)
    probe = "import importlib.metadata as m; print(m.version('fakeai'))"
    if py.exists():
        out = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() == FAKEAI_VERSION:
            return path
    print(f"installing {' '.join(FAKEAI_REQUIREMENTS)} into {path} ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *FAKEAI_REQUIREMENTS],
        check=True,
    )
    return path


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/chat/completions"

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal reaches only us; we stop it
            )

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def cpu_seconds(self) -> float | None:
        """The server process's user+system CPU time so far (Linux), else None."""
        if self.proc is None:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def build_servers(args: argparse.Namespace, tmp: Path) -> list[Server]:
    env = dict(os.environ)
    if "TIKTOKEN_CACHE_DIR" not in env and _CACHE.is_dir():
        env["TIKTOKEN_CACHE_DIR"] = str(_CACHE)
    ours_bin = Path(sys.executable).with_name("pytest-fakeai")
    ours_cmd = [str(ours_bin)] if ours_bin.exists() else [sys.executable, "-m", "pytest_fakeai.cli"]
    p1, p2 = free_port(), free_port()
    ours = Server(
        SIDES[0],
        [*ours_cmd, "serve", "--host", "127.0.0.1", "--port", str(p1), *args.ours_arg],
        env,
        p1,
        tmp / "pytest-fakeai.log",
    )
    fenv = {**env, **ZERO_LATENCY_ENV}
    fbin = venv_python(args.fakeai_venv).with_name("fakeai")
    theirs = Server(
        SIDES[1],
        [str(fbin), "server", "--host", "127.0.0.1", "--port", str(p2), *FAKEAI_FLAGS],
        fenv,
        p2,
        tmp / "fakeai.log",
    )
    return [ours, theirs]


# -- requests ---------------------------------------------------------------------------------------


def body(stream: bool, max_tokens: int) -> dict[str, Any]:
    b: dict[str, Any] = {"model": MODEL, "messages": MESSAGES, "max_tokens": max_tokens}
    if stream:
        b["stream"] = True
    return b


class ShapeError(Exception):
    pass


def _check_plain(status: int, data: bytes) -> int:
    if status != 200:
        raise ShapeError(f"HTTP {status}")
    if b'"chat.completion"' not in data or b'"content"' not in data:
        raise ShapeError("not a chat completion")
    return len(data)


class _Events:
    """Counts SSE events of a chat completion stream as bytes arrive (split anywhere)."""

    __slots__ = ("buf", "chunks", "done", "t0", "ttft")

    def __init__(self, t0: float) -> None:
        self.buf = b""
        self.chunks = 0
        self.done = False
        self.t0 = t0
        self.ttft = 0.0

    def feed(self, data: bytes) -> None:
        buf = self.buf + data
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self.buf = buf
            return
        complete, self.buf = buf[: cut + 2], buf[cut + 2 :]
        n = complete.count(b'"content":"')
        if n:
            if not self.chunks:
                self.ttft = time.perf_counter() - self.t0
            self.chunks += n
        if b"data: [DONE]" in complete:
            self.done = True

    def result(self) -> tuple[int, float]:
        if not self.done or not self.chunks:
            raise ShapeError("stream without [DONE]" if not self.done else "stream without content")
        return self.chunks, self.ttft


class HttpxConn:
    """One slot of a shared ``httpx.AsyncClient`` (its pool holds --concurrency connections)."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client, self.url = client, url

    async def plain(self, payload: dict[str, Any]) -> int:
        r = await self.client.post(self.url, json=payload)
        return _check_plain(r.status_code, r.content)

    async def stream(self, payload: dict[str, Any]) -> tuple[int, float]:
        ev = _Events(time.perf_counter())
        async with self.client.stream("POST", self.url, json=payload) as r:
            if r.status_code != 200:
                await r.aread()
                raise ShapeError(f"HTTP {r.status_code}")
            async for data in r.aiter_raw():
                ev.feed(data)
        return ev.result()

    def reset(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class RawConn:
    """A minimal HTTP/1.1 keep-alive client on one asyncio connection: a far cheaper load generator.

    Sends each request in one write; reads Content-Length and chunked bodies; reconnects
    after an error, a timeout, ``Connection: close``, or when idle (between windows) for
    longer than IDLE_RECONNECT.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._bodies: dict[tuple[bool, int], bytes] = {}
        self.used = 0.0

    def _request(self, payload: dict[str, Any]) -> bytes:
        key = (bool(payload.get("stream")), payload["max_tokens"])  # the only fields that vary
        if key not in self._bodies:
            data = json.dumps(payload).encode()
            head = (
                f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Content-Type: application/json\r\nAccept: */*\r\nContent-Length: {len(data)}\r\n\r\n"
            )
            self._bodies[key] = head.encode() + data
        return self._bodies[key]

    async def _send(self, payload: dict[str, Any]) -> tuple[int, dict[bytes, bytes]]:
        now = time.monotonic()
        if self.writer is not None and now - self.used > IDLE_RECONNECT:
            self.reset()  # the server may have closed it (keep-alive timeout) while the other side ran
        self.used = now
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(self._request(payload))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(b":")
                headers[k.strip().lower()] = v.strip().lower()
        return status, headers

    async def _body(self, headers: dict[bytes, bytes], sink: _Events | None) -> bytes:
        assert self.reader is not None
        out = []
        if b"content-length" in headers:
            out.append(await self.reader.readexactly(int(headers[b"content-length"])))
            if sink:
                sink.feed(out[0])
        elif headers.get(b"transfer-encoding") == b"chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                data = await self.reader.readexactly(size + 2)
                if not size:
                    break
                if sink:
                    sink.feed(data[:-2])
                else:
                    out.append(data[:-2])
        else:  # read to close
            out.append(await self.reader.read())
            headers[b"connection"] = b"close"
        if headers.get(b"connection") == b"close":
            self.reset()
        return b"".join(out)

    async def plain(self, payload: dict[str, Any]) -> int:
        status, headers = await self._send(payload)
        return _check_plain(status, await self._body(headers, None))

    async def stream(self, payload: dict[str, Any]) -> tuple[int, float]:
        ev = _Events(time.perf_counter())
        status, headers = await self._send(payload)
        if status != 200:
            await self._body(headers, None)
            raise ShapeError(f"HTTP {status}")
        await self._body(headers, ev)
        return ev.result()

    def reset(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def aclose(self) -> None:
        w = self.writer
        self.reset()
        if w is not None:
            with contextlib.suppress(OSError):
                await w.wait_closed()


@dataclass
class Sample:
    """One (case, server) accumulated over rounds."""

    ok: int = 0
    errors: int = 0
    timeouts: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # wall time of the timed windows
    latencies: list[float] = field(default_factory=list)  # per ok request (stream: to the last chunk)
    ttfts: list[float] = field(default_factory=list)
    chunks: int = 0
    client_cpu: float = 0.0
    server_cpu: float | None = 0.0
    rounds: list[float] = field(default_factory=list)  # per-round throughput

    def rate(self, stream: bool) -> float:
        return (self.chunks if stream else self.ok) / self.seconds if self.seconds else 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


async def _bounded(coro: Any, seconds: float) -> Any:
    if hasattr(asyncio, "timeout"):  # 3.11+: no extra task per request
        async with asyncio.timeout(seconds):
            return await coro
    return await asyncio.wait_for(coro, seconds)


async def run_window(
    conns: list[Any], server: Server, stream: bool, args: argparse.Namespace, record: Sample | None
) -> None:
    """Keep --concurrency requests in flight for one window; *record* None means warm-up."""
    payload = body(stream, args.max_tokens)
    seconds = args.warmup if record is None else args.duration / args.rounds
    deadline = time.perf_counter() + seconds
    chunks_before = record.chunks if record else 0
    ok_before = record.ok if record else 0

    async def worker(conn: Any) -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                if stream:
                    n, ttft = await _bounded(conn.stream(payload), args.timeout)
                else:
                    await _bounded(conn.plain(payload), args.timeout)
            except (TimeoutError, asyncio.TimeoutError, httpx.TimeoutException):
                conn.reset()
                if record:
                    record.timeouts += 1
                continue
            except (httpx.HTTPError, ShapeError, OSError, EOFError, ValueError, asyncio.IncompleteReadError) as exc:
                conn.reset()
                if record:
                    record.errors += 1
                    kind = str(exc) if isinstance(exc, ShapeError) else type(exc).__name__
                    record.error_kinds[kind] = record.error_kinds.get(kind, 0) + 1
                await asyncio.sleep(0.01)  # a dead server must not become a busy loop
                continue
            if record:
                record.ok += 1
                record.latencies.append(time.perf_counter() - t0)
                if stream:
                    record.chunks += n
                    record.ttfts.append(ttft)

    cpu0, scpu0, t0 = time.process_time(), server.cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - t0
    if record is None:
        return
    record.seconds += elapsed
    record.client_cpu += time.process_time() - cpu0
    scpu1 = server.cpu_seconds()
    if record.server_cpu is not None and scpu0 is not None and scpu1 is not None:
        record.server_cpu += scpu1 - scpu0
    else:
        record.server_cpu = None
    done = (record.chunks - chunks_before) if stream else (record.ok - ok_before)
    record.rounds.append(done / elapsed)


async def wait_ready(client: httpx.AsyncClient, server: Server, timeout: float) -> tuple[int, int]:
    """Poll until the server answers a chat completion; then check a stream. Sizes of both."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        assert server.proc is not None
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.proc.returncode}):\n{server.tail()}")
        try:
            r = await client.post(server.url, json=body(False, 100), timeout=5)
        except httpx.HTTPError as exc:
            last = type(exc).__name__
            await asyncio.sleep(0.2)
            continue
        if r.status_code != 200:
            raise RuntimeError(f"{server.name}: HTTP {r.status_code}: {r.text[:300]}")
        data = r.json()
        if data.get("object") != "chat.completion" or not data["choices"][0]["message"].get("content"):
            raise RuntimeError(f"{server.name}: not a chat completion: {r.text[:300]}")
        size = len(r.content)
        t0 = time.perf_counter()
        async with client.stream("POST", server.url, json=body(True, 100), timeout=30) as s:
            raw = await s.aread()
        alone = time.perf_counter() - t0
        events = [ln[6:] for ln in raw.decode().splitlines() if ln.startswith("data: ")]
        if s.status_code != 200 or not events or events[-1] != "[DONE]":
            raise RuntimeError(f"{server.name}: bad stream: HTTP {s.status_code} {raw[:300]!r}")
        chunks = [json.loads(e) for e in events[:-1]]
        if any(c.get("object") != "chat.completion.chunk" for c in chunks):
            raise RuntimeError(f"{server.name}: stream chunks of the wrong shape")
        # at zero latency one stream alone takes milliseconds; fakeai's default ITL would add ~5 ms a chunk
        print(f"{server.name:<14} one stream alone: {len(chunks)} events in {alone * 1000:.1f} ms", flush=True)
        return size, len(raw)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s ({last}):\n{server.tail()}")


async def measure(servers: list[Server], args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    timeout = httpx.Timeout(args.timeout)
    clients = {s.name: httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False) for s in servers}
    conns: dict[str, list[Any]] = {}
    for s in servers:
        if args.client == "httpx":
            conns[s.name] = [HttpxConn(clients[s.name], s.url) for _ in range(args.concurrency)]
        else:
            conns[s.name] = [RawConn(s.port) for _ in range(args.concurrency)]
    try:
        sizes = {}
        for s in servers:
            sizes[s.name] = await wait_ready(clients[s.name], s, args.start_timeout)
            print(
                f"{s.name:<14} ready on 127.0.0.1:{s.port}: completion {sizes[s.name][0]} B, "
                f"one stream {sizes[s.name][1]} B",
                flush=True,
            )
        results: dict[str, dict[str, Sample]] = {}
        for stream in (False, True):
            case = "stream" if stream else "plain"
            results[case] = {s.name: Sample() for s in servers}
            for s in servers:
                await run_window(conns[s.name], s, stream, args, None)
        for rnd in range(args.rounds):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for stream in (False, True):
                case = "stream" if stream else "plain"
                for s in order:
                    await run_window(conns[s.name], s, stream, args, results[case][s.name])
            print(f"round {rnd + 1}/{args.rounds} done", flush=True)
        return {"sizes": sizes, "results": results}
    finally:
        for cs in conns.values():
            for c in cs:
                await c.aclose()
        for c in clients.values():
            await c.aclose()


# -- report -------------------------------------------------------------------------------------


def fmt(v: float, unit: str) -> str:
    if v != v:  # nan
        return "n/a"
    if unit == "ms":
        return f"{v * 1000:.1f} ms"
    return f"{v:,.0f}"


def report(measured: dict[str, Any], args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    res = measured["results"]
    ours, theirs = SIDES
    rows: list[dict[str, Any]] = []

    def row(metric: str, a: float, b: float, unit: str, kind: str | None) -> None:
        ratio = a / b if b and b == b and a == a else float("nan")
        ok = None
        if kind == "throughput":
            ok = ratio >= THROUGHPUT_TARGET
        elif kind == "p99":
            ok = ratio <= P99_TARGET
        rows.append({"metric": metric, ours: a, theirs: b, "unit": unit, "ratio": ratio, "target": kind, "ok": ok})

    p, s = res["plain"], res["stream"]
    row(f"plain: requests/s (c={args.concurrency})", p[ours].rate(False), p[theirs].rate(False), "", "throughput")
    row("plain: p50 latency", pct(p[ours].latencies, 0.5), pct(p[theirs].latencies, 0.5), "ms", None)
    row("plain: p99 latency", pct(p[ours].latencies, 0.99), pct(p[theirs].latencies, 0.99), "ms", "p99")
    row(f"stream: content chunks/s (c={args.concurrency})", s[ours].rate(True), s[theirs].rate(True), "", "throughput")
    row("stream: streams/s", s[ours].ok / s[ours].seconds, s[theirs].ok / s[theirs].seconds, "", None)
    row("stream: p50 time to first chunk", pct(s[ours].ttfts, 0.5), pct(s[theirs].ttfts, 0.5), "ms", None)
    row("stream: p50 time to last chunk", pct(s[ours].latencies, 0.5), pct(s[theirs].latencies, 0.5), "ms", None)
    row("stream: p99 time to last chunk", pct(s[ours].latencies, 0.99), pct(s[theirs].latencies, 0.99), "ms", "p99")

    lines = [
        f"| metric | {ours} | {theirs} | ratio | target | ok |",
        "|---|---:|---:|---:|---:|:--:|",
    ]
    for r in rows:
        target = {"throughput": f"≥ {THROUGHPUT_TARGET:g}×", "p99": f"≤ {P99_TARGET:g}×"}.get(r["target"] or "", "")
        ok = "" if r["ok"] is None else ("yes" if r["ok"] else "**no**")
        lines.append(
            f"| {r['metric']} | {fmt(r[ours], r['unit'])} | {fmt(r[theirs], r['unit'])} | "
            f"{r['ratio']:.2f}× | {target} | {ok} |"
        )
    lines += [
        "",
        "| case / server | ok | errors | timeouts | chunks/stream | per-round rate min–max "
        "| client CPU % | server CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, stream in (("plain", False), ("stream", True)):
        for name in SIDES:
            smp: Sample = res[case][name]
            per = f"{smp.chunks / smp.ok:.1f}" if stream and smp.ok else ""
            spread = f"{min(smp.rounds):,.0f}–{max(smp.rounds):,.0f}" if smp.rounds else ""
            ccpu = f"{100 * smp.client_cpu / smp.seconds:.0f}" if smp.seconds else ""
            scpu = f"{1000 * smp.server_cpu / smp.ok:.2f}" if smp.server_cpu is not None and smp.ok else "n/a"
            errs = str(smp.errors) + (
                f" ({', '.join(f'{k}: {v}' for k, v in smp.error_kinds.items())})" if smp.errors else ""
            )
            lines.append(
                f"| {case} / {name} | {smp.ok} | {errs} | {smp.timeouts} | {per} | {spread} | {ccpu} | {scpu} |"
            )
    return rows, "\n".join(lines)


def versions(fakeai_venv: Path) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("pytest-fakeai", "uvicorn", "httpx"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[dist] = importlib.metadata.version(dist)
    probe = (
        "import importlib.metadata as m, json, platform; "
        "print(json.dumps({d: m.version(d) for d in ('fakeai', 'uvicorn', 'fastapi', 'pydantic')}))"
    )
    r = subprocess.run([str(venv_python(fakeai_venv)), "-c", probe], capture_output=True, text=True)
    if r.returncode == 0:
        out.update({f"fakeai-env {k}": v for k, v in json.loads(r.stdout).items()})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=30.0, help="timed seconds per case and server (default 30)")
    ap.add_argument("--rounds", type=int, default=6, help="interleaved rounds the duration is split into (default 6)")
    ap.add_argument("--warmup", type=float, default=2.0, help="untimed seconds per case and server (default 2)")
    ap.add_argument("--concurrency", type=int, default=16, help="requests in flight per server (default 16)")
    ap.add_argument("--max-tokens", type=int, default=100, help="max_tokens of every request (default 100)")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds (default 10)")
    ap.add_argument("--start-timeout", type=float, default=60.0, help="seconds to wait for each server to answer")
    ap.add_argument(
        "--fakeai-venv",
        type=Path,
        default=Path(os.environ.get("FAKEAI_BENCH_VENV", DEFAULT_VENV)),
        help=f"virtual environment for fakeai {FAKEAI_VERSION} (default {DEFAULT_VENV}; env FAKEAI_BENCH_VENV)",
    )
    ap.add_argument(
        "--ours-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for `pytest-fakeai serve` (repeatable), e.g. --ours-arg=--output-tokens=100",
    )
    ap.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: a minimal asyncio HTTP/1.1 client (default) or httpx.AsyncClient",
    )
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write all numbers here")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.duration <= 0 or args.concurrency < 1:
        ap.error("--rounds, --duration and --concurrency must be positive")

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = datetime.now(timezone.utc)
    ensure_fakeai(args.fakeai_venv)
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        servers = build_servers(args, Path(tmp))
        try:
            for s in servers:
                s.start()
            measured = asyncio.run(measure(servers, args))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            for s in servers:
                s.stop()
        argvs = {s.name: s.argv for s in servers}
    rows, table = report(measured, args)
    vers = versions(args.fakeai_venv)
    print()
    print(f"{started:%Y-%m-%d %H:%M} UTC, {platform.platform()}, {os.cpu_count()} CPUs")
    print(", ".join(f"{k} {v}" for k, v in vers.items()))
    print(
        f"concurrency {args.concurrency}, {args.duration:g} s per case and server in {args.rounds} "
        f"interleaved rounds, max_tokens {args.max_tokens}, {args.client} client\n"
    )
    print(table)
    if args.json:
        payload = {
            "started": started.isoformat(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "versions": vers,
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "server_argv": argvs,
            "sizes": measured["sizes"],
            "rows": rows,
            "samples": {c: {n: asdict(v) for n, v in d.items()} for c, d in measured["results"].items()},
        }
        args.json.write_text(json.dumps(payload, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
