"""The pytest plugin: fixtures ``fakeai``, ``fakeai_client``, ``fakeai_async_client``, ``fakeai_server``;
marker ``fakeai``; ``--fakeai-serve``.

Imported by every pytest run in an environment that has pytest-fakeai, so it
imports only pytest and light modules; the simulator loads when a fixture is used.
"""

from __future__ import annotations

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
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_sessionstart",
    "pytest_terminal_summary",
]

_LAYERS = pytest.StashKey[list[tuple[str, dict[str, Any]]]]()
_SIM = pytest.StashKey["FakeAI"]()
_SERVING = pytest.StashKey["_Serving"]()

SERVE_HELP = "Serve the simulator on a real port (127.0.0.1) for the whole session; print its URL. [a boolean]"
SERVE_PORT_HELP = "Port for the session's server (--fakeai-serve, the fakeai_server fixture); 0 picks a free one."


class _Serving:
    """The session's real port (started on first use) and the simulator answering on it now.

    During a test that uses ``fakeai`` that is the test's simulator; between tests,
    a fresh one with the session's settings for each request.
    """

    __slots__ = ("active", "layers", "port", "server")

    def __init__(self, layers: list[tuple[str, dict[str, Any]]], port: int) -> None:
        self.layers = layers
        self.port = port
        self.active: FakeAI | None = None
        self.server: Server | None = None

    def simulator(self) -> FakeAI:
        sim = self.active
        if sim is None:
            from .simulator import FakeAI

            sim = FakeAI(Settings.build(self.layers))
        return sim

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
    if spec.kind is str or pytest.version_tuple < (9, 2):
        return None
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


def _config_layers(config: pytest.Config) -> list[tuple[str, dict[str, Any]]]:
    """The ini and command-line layers, each value checked against its option's name."""
    ini: dict[str, Any] = {}
    cli: dict[str, Any] = {}
    where = f"in {config.inipath.name}" if config.inipath else "(-o/--override-ini)"
    for spec in SETTINGS:
        raw = config.getini(spec.ini)
        if raw not in (None, "", []):
            source = f"ini option {spec.ini} {where}"
            value = spec.parse_text(raw, source) if isinstance(raw, str) else raw
            ini[spec.name] = spec.check(value, source)
        text = config.getoption(f"fakeai_{spec.name}")
        if text is not None:
            source = f"the command line ({spec.option})"
            cli[spec.name] = spec.check(spec.parse_text(str(text), source), source)
    return [("defaults", {}), ("the ini file", ini), ("the command line", cli)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    try:
        layers = _config_layers(config)
        Settings.build(layers)
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_LAYERS] = layers
    config.stash[_SERVING] = _Serving(layers, _serve_port(config))


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
    if _serve_requested(session.config):
        session.config.stash[_SERVING].start(session.config)


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
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    server = config.stash[_SERVING].server
    if server is not None:
        terminalreporter.write_line(f"fakeai: served on {server.url}")


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
    request.node.stash[_SIM] = sim
    serving = request.config.stash[_SERVING]
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
