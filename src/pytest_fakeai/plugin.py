"""The pytest plugin: fixtures ``fakeai``, ``fakeai_client``, ``fakeai_async_client``, ``fakeai_server``;
marker ``fakeai``; ``--fakeai-serve``.

Imported by every pytest run in an environment that has pytest-fakeai, so it
imports only pytest and light modules; the simulator loads when a fixture is used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .engine.rng import node_seed
from .settings import SETTINGS, Settings, SettingsError, SettingSpec

if TYPE_CHECKING:
    from .adapters.server import FakeAIServer, Server
    from .simulator import FakeAI

__all__ = [
    "fakeai",
    "fakeai_async_client",
    "fakeai_client",
    "fakeai_server",
    "pytest_addhooks",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
]

_LAYERS = pytest.StashKey[list[tuple[str, dict[str, Any]]]]()
_SIM = pytest.StashKey["FakeAI"]()
_SERVING = pytest.StashKey["_Serving"]()
_TALLY = pytest.StashKey["_Tally"]()
_WORKERS = pytest.StashKey[list[dict[str, Any]]]()  # xdist controller: what each worker reported

SERVE_HELP = "Serve the simulator on a real port (127.0.0.1) for the whole session; print its URL. [a boolean]"
SERVE_PORT_HELP = "Port for the session's server (--fakeai-serve, the fakeai_server fixture); 0 picks a free one."
REPORT_HELP = "Write what the simulators served (requests, tokens, errors, faults, cost per model) to PATH as JSON."
NO_SUMMARY_HELP = "Leave out the fakeai lines (what the simulators served) at the end of the run."
SUMMARY_HELP = "Show what the simulators served at the end of the run (default true). [a boolean]"


class _Tally:
    """What this process's simulators served, for the session summary and ``--fakeai-report``
    (and, on an xdist worker, for the controller's).

    Each test's simulator is added when its ``fakeai`` fixture ends, from its metrics
    (every exchange, not only the calls it kept).
    """

    __slots__ = ("_lock", "errors", "exchanges", "faults", "models", "simulators", "used")

    def __init__(self) -> None:
        self.used = False  # a fakeai fixture ran in this process
        self.simulators = 0
        self.exchanges = 0
        self.errors = 0
        self.faults: dict[str, int] = {}
        # model -> requests, errors, prompt_tokens, completion_tokens, cached_tokens, cost_usd
        self.models: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def add(self, sim: FakeAI) -> None:
        stats = sim.engine._stats  # None: the simulator answered nothing
        with self._lock:
            self.simulators += 1
            if stats is None:
                return
            with stats.lock:
                for (_, model, status, _, _), n in stats.requests.items():
                    failed = status >= 400 or status == 0
                    self.exchanges += n
                    self.errors += n if failed else 0
                    if model:
                        row = self._row(model)
                        row["requests"] += n
                        row["errors"] += n if failed else 0
                for kind, n in stats.faults.items():
                    self.faults[kind] = self.faults.get(kind, 0) + n
                for model, m in stats.models.items():
                    row = self._row(model)
                    row["prompt_tokens"] += m.prompt_tokens
                    row["completion_tokens"] += m.generation_tokens
                    row["cached_tokens"] += m.prefix_hits
                    row["cost_usd"] += m.cost

    def _row(self, model: str) -> dict[str, float]:
        row = self.models.get(model)
        if row is None:
            row = self.models[model] = dict.fromkeys(_COLUMNS, 0)
            row["cost_usd"] = 0.0
        return row

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {
                "used": self.used,
                "tests": self.simulators,
                "exchanges": self.exchanges,
                "errors": self.errors,
                "faults": dict(self.faults),
                "models": {m: dict(r) for m, r in sorted(self.models.items())},
            }


_COLUMNS = ("requests", "errors", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd")


def _merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up the reports of several processes (xdist workers)."""
    out: dict[str, Any] = {"tests": 0, "exchanges": 0, "errors": 0, "faults": {}, "models": {}}
    for r in reports:
        for key in ("tests", "exchanges", "errors"):
            out[key] += int(r.get(key, 0))
        for kind, n in dict(r.get("faults", {})).items():
            out["faults"][kind] = out["faults"].get(kind, 0) + n
        for model, row in dict(r.get("models", {})).items():
            into = out["models"].setdefault(model, dict.fromkeys(_COLUMNS, 0))
            for c in _COLUMNS:
                into[c] += row.get(c, 0)
    out["models"] = dict(sorted(out["models"].items()))
    return out


def _table(report: dict[str, Any]) -> list[str]:
    """The summary table: one row per model, then the totals."""
    models: dict[str, dict[str, float]] = report.get("models", {})
    if not models:
        return []
    header = ("model", "requests", "errors", "prompt tok", "completion tok", "cached tok", "cost USD")
    rows = [
        (
            m,
            f"{int(r['requests']):,}",
            f"{int(r['errors']):,}",
            f"{int(r['prompt_tokens']):,}",
            f"{int(r['completion_tokens']):,}",
            f"{int(r['cached_tokens']):,}",
            f"{r['cost_usd']:.4f}",
        )
        for m, r in models.items()
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  " + "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return [line(header), *(line(r) for r in rows)]


class _Serving:
    """The session's real port (started on first use) and the simulator answering on it now.

    During a test that uses ``fakeai`` that is the test's simulator; between tests,
    a fresh one with the session's settings for each request.
    """

    __slots__ = ("_idle", "_lock", "active", "config", "layers", "port", "server", "tally")

    def __init__(
        self, layers: list[tuple[str, dict[str, Any]]], port: int, tally: _Tally, config: pytest.Config
    ) -> None:
        self.config = config
        self.layers = layers
        self.port = port
        self.tally = tally
        self.active: FakeAI | None = None
        self.server: Server | None = None
        self._idle: FakeAI | None = None  # the last between-tests simulator, not yet tallied
        self._lock = threading.Lock()

    def simulator(self) -> FakeAI:
        sim = self.active
        if sim is None:
            from .simulator import FakeAI

            sim = FakeAI(Settings.build(self.layers))
            _extend(self.config.hook, sim, self.config, None)
            # The ASGI app handles a request synchronously right after asking for its
            # simulator, so the previous between-tests one has recorded its call by now.
            self._take_idle(sim)
        return sim

    def _take_idle(self, replacement: FakeAI | None) -> None:
        with self._lock:
            previous, self._idle = self._idle, replacement
        if previous is not None:
            self.tally.add(previous)

    def flush(self) -> None:
        """Tally the traffic answered between tests (at the end of the session)."""
        self._take_idle(None)

    def start(self, config: pytest.Config) -> Server:
        if self.server is None:
            from .adapters.server import Server

            self.server = Server(self.simulator, port=self.port).start()
            config.add_cleanup(self.stop)
        return self.server

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop()


MARKER_HELP = (
    "fakeai(**settings): configure this test's FakeAI simulator; keywords are the settings of "
    "FakeAI(...) (seed, clock, ttft, itl, mode, strict_models, ...). See docs/settings.md."
)


def _ini_type(spec: SettingSpec) -> Any:
    # pytest >= 9.2 accepts a union: ini files still give text, while native TOML
    # ([tool.pytest]) may give ``fakeai_seed = 7`` or ``fakeai_strict_models = true``.
    if spec.kind not in (bool, int, float) or pytest.version_tuple < (9, 2):
        return None  # text (lists and name=number pairs are comma-separated text in ini files)
    return str | spec.kind


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fakeai", "pytest-fakeai (in-process OpenAI API simulator)")
    for spec in SETTINGS:
        text = f"{spec.help} [{spec.describe()}]"
        group.addoption(spec.option, dest=f"fakeai_{spec.name}", default=None, metavar=spec.name.upper(), help=text)
        parser.addini(spec.ini, help=text, type=_ini_type(spec), default=None)
    group.addoption("--fakeai-serve", action="store_true", default=False, dest="fakeai_serve", help=SERVE_HELP)
    parser.addini("fakeai_serve", help=SERVE_HELP, type="bool", default=False)
    group.addoption("--fakeai-serve-port", dest="fakeai_serve_port", default=None, metavar="PORT", help=SERVE_PORT_HELP)
    parser.addini("fakeai_serve_port", help=SERVE_PORT_HELP, default=None)
    group.addoption("--fakeai-report", dest="fakeai_report", default=None, metavar="PATH", help=REPORT_HELP)
    parser.addini("fakeai_report", help=REPORT_HELP, default=None)
    group.addoption(
        "--fakeai-no-summary", dest="fakeai_no_summary", action="store_true", default=False, help=NO_SUMMARY_HELP
    )
    parser.addini("fakeai_summary", help=SUMMARY_HELP, type="bool", default=True)


def _config_layers(config: pytest.Config) -> list[tuple[str, dict[str, Any]]]:
    """The ini, environment and command-line layers, each value checked against its option's name."""
    ini: dict[str, Any] = {}
    env: dict[str, Any] = {}
    cli: dict[str, Any] = {}
    where = f"in {config.inipath.name}" if config.inipath else "(-o/--override-ini)"
    for spec in SETTINGS:
        raw = config.getini(spec.ini)
        if raw not in (None, "", []):
            source = f"ini option {spec.ini} {where}"
            value = spec.parse_text(raw, source) if isinstance(raw, str) else raw
            ini[spec.name] = spec.check(value, source)
        if spec.env in os.environ:
            source = f"environment variable {spec.env}"
            env[spec.name] = spec.check(spec.parse_text(os.environ[spec.env], source), source)
        text = config.getoption(f"fakeai_{spec.name}")
        if text is not None:
            source = f"the command line ({spec.option})"
            cli[spec.name] = spec.check(spec.parse_text(str(text), source), source)
    return [("defaults", {}), ("the ini file", ini), ("the environment", env), ("the command line", cli)]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """The ``pytest_fakeai_*`` hooks (hookspecs.py) and their trylast defaults (hookimpls.py)."""
    from . import hookimpls, hookspecs

    pluginmanager.add_hookspecs(hookspecs)
    pluginmanager.register(hookimpls, _DEFAULTS)


_DEFAULTS = "fakeai-default-hooks"


def _extend(hook: Any, sim: FakeAI, config: pytest.Config, node: pytest.Item | None) -> None:
    """Run the ``pytest_fakeai_*`` hooks for a new simulator (only the ones someone implemented)."""

    def implemented(name: str) -> bool:
        return any(impl.plugin_name != _DEFAULTS for impl in getattr(hook, name).get_hookimpls())

    if implemented("pytest_fakeai_models"):
        hook.pytest_fakeai_models(registry=sim.models, simulator=sim)
    if implemented("pytest_fakeai_routes"):
        hook.pytest_fakeai_routes(router=sim.router, simulator=sim)
    if implemented("pytest_fakeai_response"):
        caller = hook.pytest_fakeai_response

        def respond(request: Any, response: Any) -> Any:
            return caller(simulator=sim, request=request, response=response)

        sim.response_hooks.append(respond)
    hook.pytest_fakeai_configure(simulator=sim, config=config, node=node)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    try:
        layers = _config_layers(config)
        Settings.build(layers)
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_LAYERS] = layers
    tally = config.stash[_TALLY] = _Tally()
    config.stash[_SERVING] = _Serving(layers, _serve_port(config), tally, config)
    config.stash[_WORKERS] = []
    if config.pluginmanager.hasplugin("xdist"):  # its hooks exist only then (as pytest-randomly does)
        config.pluginmanager.register(_XdistHooks(config), "fakeai-xdist")


class _XdistHooks:
    """On the xdist controller: collect what each worker's ``pytest_sessionfinish`` reported."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        report = getattr(node, "workeroutput", {}).get("fakeai")
        if isinstance(report, dict):
            self.config.stash[_WORKERS].append(report)


def _xdist_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to xdist workers (it runs none itself)."""
    if hasattr(config, "workerinput"):
        return False
    return getattr(config.option, "dist", "no") != "no" and bool(getattr(config.option, "tx", None))


def _serve_port(config: pytest.Config) -> int:
    text, source = config.getoption("fakeai_serve_port"), "the command line (--fakeai-serve-port)"
    if text is None:
        text, source = config.getini("fakeai_serve_port"), "ini option fakeai_serve_port"
    text = str(text or "0").strip()
    if not text.isdigit() or int(text) > 65535:
        raise pytest.UsageError(f"Invalid port {text!r} from {source}: expected an integer from 0 to 65535.")
    return int(text)


def _serve_requested(config: pytest.Config) -> bool:
    return bool(config.getoption("fakeai_serve") or config.getini("fakeai_serve"))


def pytest_sessionstart(session: pytest.Session) -> None:
    # Under xdist each worker serves its own port; the controller runs no test and serves none.
    if _serve_requested(session.config) and not _xdist_controller(session.config):
        session.config.stash[_SERVING].start(session.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    serving = config.stash[_SERVING]
    serving.flush()
    output = getattr(config, "workeroutput", None)
    if output is not None:  # an xdist worker: report to the controller (pytest_testnodedown)
        output["fakeai"] = {
            "worker": str(config.workerinput.get("workerid", "")),  # type: ignore[attr-defined]
            "url": serving.server.url if serving.server is not None else None,
            **config.stash[_TALLY].report(),
        }


def pytest_report_header(config: pytest.Config) -> list[str]:
    from .adapters.transports import default_stack, openai_major

    layers: list[tuple[str, dict[str, Any]]] = config.stash[_LAYERS]
    settings = Settings.build(layers)
    major = openai_major()
    openai = f"openai {major}.x" if major is not None else "openai not installed"
    lines = [
        f"fakeai: seed={settings.seed} (each test: seed + crc32(node id)), clock={settings.clock}, "
        f"{openai}, stack={default_stack()}"
    ]
    server = config.stash[_SERVING].server
    if server is not None:
        lines.append(f"fakeai: serving on {server.url}")
    elif _serve_requested(config) and _xdist_controller(config):
        lines.append("fakeai: serving on one port per xdist worker (listed in the summary)")
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(urls: list[str], exchanges: int, errors: int, workers: int | None) -> str | None:
    """The one summary line: where this session served, how many exchanges, how many errors.

    The figures are left off a line that names a port nobody sent anything to.
    """
    figures = f"{_plural(exchanges, 'exchange')}, {_plural(errors, 'error')}"
    if urls:
        who = "" if workers is None else _plural(len(urls), "worker") + " "
        line = f"fakeai: {who}served on {', '.join(urls)}"
        return line if exchanges == 0 and errors == 0 else f"{line}; {figures}"
    if workers is None:
        return f"fakeai: {figures}"
    return f"fakeai: {_plural(workers, 'worker')}; {figures}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    workers = config.stash[_WORKERS]
    reports = sorted(workers, key=lambda r: _worker_order(str(r.get("worker", ""))))
    used = [r for r in reports if r.get("used") or r.get("url")]
    line: str | None = None
    report: dict[str, Any] | None = None
    if used:  # the xdist controller: add up the workers
        urls = [str(r["url"]) for r in used if r.get("url")]
        report = _merge(used)
        report["servers"] = urls
        line = _summary(urls, report["exchanges"], report["errors"], len(used))
    elif not workers:
        server = config.stash[_SERVING].server
        tally = config.stash[_TALLY]
        if server is not None or tally.used:
            report = tally.report()
            report["servers"] = [server.url] if server is not None else []
            line = _summary(report["servers"], tally.exchanges, tally.errors, None)
    if report is None:
        return
    path = config.getoption("fakeai_report") or config.getini("fakeai_report")
    if path:
        _write_report(config, str(path), report)
    if not _summary_wanted(config) or line is None:
        return
    faults = sum(report.get("faults", {}).values())
    tokens = sum(int(r["prompt_tokens"]) + int(r["completion_tokens"]) for r in report.get("models", {}).values())
    cost = sum(float(r["cost_usd"]) for r in report.get("models", {}).values())
    extra = []
    if faults:
        extra.append(f"{_plural(faults, 'injected fault')}")
    if tokens:
        extra.append(f"{tokens:,} tokens, ${cost:.4f} at list prices")
    terminalreporter.write_line(line + (" (" + "; ".join(extra) + ")" if extra else ""))
    for row in _table(report):
        terminalreporter.write_line(row)


def _summary_wanted(config: pytest.Config) -> bool:
    if config.getoption("fakeai_no_summary"):
        return False
    value = config.getini("fakeai_summary")
    return value is None or value is True or str(value).strip().lower() not in ("0", "false", "no", "off")


def _write_report(config: pytest.Config, path: str, report: dict[str, Any]) -> None:
    import json
    from pathlib import Path

    target = Path(path)
    if not target.is_absolute():
        target = Path(config.invocation_params.dir) / target
    data = {"pytest_fakeai": _version(), **{k: v for k, v in report.items() if k != "used"}}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _version() -> str:
    from ._version import __version__

    return __version__


def _worker_order(worker: str) -> tuple[int, str]:
    """gw2 before gw10."""
    digits = worker.removeprefix("gw")
    return (int(digits), worker) if digits.isdigit() else (-1, worker)


def _marker_layers(item: pytest.Item) -> list[tuple[str, dict[str, Any]]]:
    """One layer per ``fakeai`` marker, farthest (module) first, so the closest wins.

    Each is labelled with the node it sits on, so an error names the module,
    class or test where the bad keyword was written.
    """
    layers: list[tuple[str, dict[str, Any]]] = []
    for node, mark in reversed(list(item.iter_markers_with_node("fakeai"))):
        source = f"@pytest.mark.fakeai on {node.nodeid}"
        if mark.args:
            raise SettingsError(
                f"{source} takes keyword arguments only (got positional {mark.args!r}): "
                "write @pytest.mark.fakeai(name=value, ...)."
            )
        layers.append((source, dict(mark.kwargs)))
    return layers


def _settings_for(item: pytest.Item) -> Settings:
    """This test's settings: defaults < ini < command line < per-test seed < markers."""
    layers: list[tuple[str, dict[str, Any]]] = item.config.stash[_LAYERS]
    base = Settings.build(layers)
    per_test = ("per-test seed (seed + crc32(node id))", {"seed": node_seed(base.seed, item.nodeid)})
    return Settings.build([*layers, per_test, *_marker_layers(item)])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Validate every ``fakeai`` marker up front: a bad key or value stops the run with its name."""
    for item in items:
        if item.get_closest_marker("fakeai") is not None:
            try:
                _settings_for(item)
            except SettingsError as exc:
                raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    sim = item.stash.get(_SIM, None)
    if sim is not None:
        if report.failed:
            seed = sim.settings.seed
            report.sections.append(
                (
                    "fakeai",
                    f"seed={seed} calls={sim.calls.total} (reproduce with @pytest.mark.fakeai(seed={seed}))",
                )
            )
        if call.when == "teardown":
            del item.stash[_SIM]  # items live for the whole session; their simulators need not
    return report


@pytest.fixture
def fakeai(request: pytest.FixtureRequest) -> Iterator[FakeAI]:
    """A fresh simulator for this test, configured by marker > command line > ini > defaults."""
    from .simulator import FakeAI

    settings = _settings_for(request.node)
    sim = FakeAI(settings)
    _extend(request.node.ihook, sim, request.config, request.node)  # conftests of this test's directories
    request.node.stash[_SIM] = sim
    serving = request.config.stash[_SERVING]
    serving.tally.used = True
    serving.active = sim  # the session's port, if any, answers with this test's simulator
    try:
        if settings.intercept:  # clients the code under test builds talk to this simulator too
            with sim.intercept():
                yield sim
        else:
            yield sim
        if settings.assert_all_used:  # fails the test at teardown, listing the rules (docs/scripting.md)
            sim.assert_all_used()
    finally:
        if serving.active is sim:
            serving.active = None
        serving.tally.add(sim)  # before close(), which forgets the calls
        sim.close()


@pytest.fixture(autouse=True)
def _fakeai_intercept(request: pytest.FixtureRequest) -> None:
    """With ``intercept`` on, a test that does not ask for ``fakeai`` is intercepted all the same.

    Otherwise ``--fakeai-intercept`` would leave such tests talking to the network.
    Cheap when off: only the ini/command-line layers and the markers are looked at.
    """
    if "fakeai" in request.fixturenames:
        return  # the fixture enters the interceptor itself
    layers: list[tuple[str, dict[str, Any]]] = request.config.stash[_LAYERS]
    marked = any("intercept" in mark.kwargs for mark in request.node.iter_markers("fakeai"))
    if (marked or any(layer.get("intercept") for _, layer in layers)) and _settings_for(request.node).intercept:
        request.getfixturevalue("fakeai")


@pytest.fixture
def fakeai_client(fakeai: FakeAI) -> Iterator[Any]:
    """An ``openai.OpenAI`` client answered by this test's simulator (the installed openai's stack)."""
    client = fakeai.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def fakeai_async_client(fakeai: FakeAI) -> Any:
    """An ``openai.AsyncOpenAI`` client answered by this test's simulator.

    A plain fixture, so it works under pytest-asyncio and anyio alike; its
    transport holds no sockets, so nothing needs awaiting at teardown.
    """
    return fakeai.async_client()


@pytest.fixture
def fakeai_server(request: pytest.FixtureRequest, fakeai: FakeAI) -> FakeAIServer:
    """A real port on 127.0.0.1 answered by this test's simulator (``.url`` ends in ``/v1``).

    One server serves the whole session (started on first use); during each test it
    answers with that test's ``fakeai``, so markers and scripting apply to its traffic.
    """
    from .adapters.server import FakeAIServer

    server = request.config.stash[_SERVING].start(request.config)
    return FakeAIServer(url=server.url, host=server.host, port=server.port, simulator=fakeai)
