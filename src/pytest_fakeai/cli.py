"""``pytest-fakeai serve``: the simulator on a real port, in the foreground, until SIGINT/SIGTERM.

Every simulator setting is a flag (``--seed 7``), a ``FAKEAI_<NAME>`` environment
variable (``FAKEAI_SEED=7``) and a key of an optional TOML config file
(``--config fakeai.toml``); precedence: flag > environment > config file > defaults.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .settings import SETTINGS, Settings, SettingsError, SettingSpec

__all__ = ["ENV_PREFIX", "build_parser", "env_var", "flag", "main", "resolve_settings"]

ENV_PREFIX = "FAKEAI_"
_SERVER_KEYS = ("host", "port", "max_body_size")


def flag(spec: SettingSpec) -> str:
    """The command-line flag of a setting: ``--output-tokens``."""
    return "--" + spec.name.replace("_", "-")


def env_var(spec: SettingSpec) -> str:
    """The environment variable of a setting: ``FAKEAI_OUTPUT_TOKENS``."""
    return spec.env


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pytest-fakeai", description="An OpenAI-compatible LLM API simulator.")
    parser.add_argument("--version", action="version", version=f"pytest-fakeai {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the simulator on a real port until SIGINT/SIGTERM",
        description="Serve the simulator on http://HOST:PORT/v1 until SIGINT/SIGTERM. "
        "Settings: flag > FAKEAI_<NAME> environment variable > --config file > defaults.",
    )
    serve.add_argument("--host", default=None, help="interface to listen on (default 127.0.0.1: loopback only)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--max-body-size", type=int, default=None, help="request body limit in bytes (default 32 MiB)")
    serve.add_argument("--config", type=Path, default=None, metavar="FILE.toml", help="TOML file of settings")
    group = serve.add_argument_group("simulator settings (also FAKEAI_<NAME> environment variables)")
    for spec in SETTINGS:
        group.add_argument(
            flag(spec),
            dest=spec.name,
            default=None,
            metavar=spec.name.upper(),
            # a bare boolean flag means true: --strict-models
            nargs="?" if spec.kind is bool else None,
            const="true" if spec.kind is bool else None,
            help=f"{spec.help} [{spec.describe()}; {env_var(spec)}]",
        )
    return parser


def _read_config(path: Path) -> dict[str, Any]:
    try:
        tomllib: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    except ModuleNotFoundError:
        raise SettingsError("--config needs Python >= 3.11 or the tomli package (pip install tomli).") from None
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"Cannot read config file {path}: {exc.strerror or exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"Config file {path} is not valid TOML: {exc}.") from None
    table = data.get("fakeai", data)  # a [fakeai] table, or top-level keys
    if not isinstance(table, dict):
        raise SettingsError(f"Config file {path}: [fakeai] must be a table.")
    return table


def resolve_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[Settings, dict[str, Any]]:
    """The simulator's settings and the server's (host, port, max_body_size): flag > env > file > defaults."""
    by_name = {spec.name: spec for spec in SETTINGS}
    layers: list[tuple[str, dict[str, Any]]] = [("defaults", {})]
    server: dict[str, Any] = {"host": "127.0.0.1", "port": 8000, "max_body_size": None}
    if args.config is not None:
        source = f"config file {args.config}"
        for key, value in _read_config(args.config).items():
            if key in _SERVER_KEYS:
                server[key] = value
                continue
            spec = by_name.get(key)
            if spec is None:
                known = ", ".join([*_SERVER_KEYS, *sorted(by_name)])
                raise SettingsError(f"Unknown key {key!r} in {source}. Known keys: {known}.")
            layers.append((f"{source} ({key})", {key: _typed(spec, value, source)}))
    for spec in SETTINGS:
        name = env_var(spec)
        if name in environ:
            source = f"environment variable {name}"
            layers.append((source, {spec.name: spec.parse_text(environ[name], source)}))
    for spec in SETTINGS:
        text = getattr(args, spec.name)
        if text is not None:
            source = f"the command line ({flag(spec)})"
            layers.append((source, {spec.name: spec.parse_text(text, source)}))
    for key in _SERVER_KEYS:
        if getattr(args, key) is not None:
            server[key] = getattr(args, key)
    if not isinstance(server["host"], str) or not server["host"]:
        raise SettingsError(f"Invalid host {server['host']!r}: expected an interface name or address.")
    size = server["max_body_size"]
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise SettingsError(f"Invalid max_body_size {size!r}: expected an integer >= 0 (bytes).")
    port = server["port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise SettingsError(f"Invalid port {port!r}: expected an integer from 0 to 65535.")
    return Settings.build(layers), server


def _typed(spec: SettingSpec, value: Any, source: str) -> Any:
    # TOML has real booleans and numbers; a string for a non-string setting is parsed like a flag.
    if isinstance(value, str) and spec.kind is not str:
        return spec.parse_text(value, source)
    return spec.check(value, source)


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .adapters.asgi import DEFAULT_MAX_BODY_SIZE
    from .adapters.server import Server, ServerError
    from .simulator import FakeAI

    try:
        settings, options = resolve_settings(args, os.environ)
    except SettingsError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.WARNING, format="pytest-fakeai: %(levelname)s: %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = Server(
        FakeAI(settings),
        host=options["host"],
        port=options["port"],
        max_body_size=options["max_body_size"] or DEFAULT_MAX_BODY_SIZE,
    )
    try:
        try:
            server.start()
        except ServerError as exc:
            print(f"pytest-fakeai: error: {exc}", file=sys.stderr)
            return 1
        print(f"pytest-fakeai serving on {server.url}", flush=True)
        while server.running and not stop.wait(0.5):  # timed: the signal handler runs promptly everywhere
            pass
        server.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pytest-fakeai`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args, parser)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects it first


if __name__ == "__main__":
    sys.exit(main())
