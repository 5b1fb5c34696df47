"""The pytest plugin: fixtures ``fakeai``, ``fakeai_client``, ``fakeai_async_client``; marker ``fakeai``.

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
    from .simulator import FakeAI

__all__ = [
    "fakeai",
    "fakeai_async_client",
    "fakeai_client",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
]

_LAYERS = pytest.StashKey[list[tuple[str, dict[str, Any]]]]()
_SIM = pytest.StashKey["FakeAI"]()

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


def pytest_report_header(config: pytest.Config) -> list[str]:
    from .adapters.transports import default_stack, openai_major

    layers: list[tuple[str, dict[str, Any]]] = config.stash[_LAYERS]
    settings = Settings.build(layers)
    major = openai_major()
    openai = f"openai {major}.x" if major is not None else "openai not installed"
    return [
        f"fakeai: seed={settings.seed} (each test: seed + crc32(node id)), clock={settings.clock}, "
        f"{openai}, stack={default_stack()}"
    ]


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
    try:
        if settings.intercept:  # clients the code under test builds talk to this simulator too
            with sim.intercept():
                yield sim
        else:
            yield sim
        if settings.assert_all_used:  # fails the test at teardown, listing the rules (docs/scripting.md)
            sim.assert_all_used()
    finally:
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
