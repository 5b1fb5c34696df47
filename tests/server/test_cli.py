"""``pytest-fakeai serve``: settings from flags, environment and config file; a real subprocess stopped by signal."""

from __future__ import annotations

import importlib.metadata
import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from pytest_fakeai.cli import build_parser, main, resolve_settings
from pytest_fakeai.settings import SettingsError


def resolve(argv: list[str], env: dict[str, str] | None = None) -> tuple[object, dict[str, object]]:
    return resolve_settings(build_parser().parse_args(["serve", *argv]), env or {})


def test_precedence_is_flag_then_env_then_file_then_defaults(tmp_path: Path) -> None:
    config = tmp_path / "fakeai.toml"
    config.write_text('seed = 1\nmode = "echo"\nitl = 0.5\nstrict_models = true\nport = 9001\n')
    settings, server = resolve(["--config", str(config), "--seed", "3"], {"FAKEAI_SEED": "2", "FAKEAI_ITL": "0.25"})
    assert settings.seed == 3  # type: ignore[attr-defined]
    assert settings.itl == 0.25  # type: ignore[attr-defined]
    assert settings.mode == "echo"  # type: ignore[attr-defined]
    assert settings.strict_models is True  # type: ignore[attr-defined]
    assert settings.ttft == 0.0  # type: ignore[attr-defined]
    assert server == {"host": "127.0.0.1", "port": 9001, "max_body_size": None}


def test_loopback_and_8000_by_default_and_bare_boolean_flags() -> None:
    settings, server = resolve(["--strict-models"])
    assert settings.strict_models is True  # type: ignore[attr-defined]
    assert (server["host"], server["port"]) == ("127.0.0.1", 8000)


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--seed", "x"], {}, "the command line (--seed)"),
        ([], {"FAKEAI_MODE": "shout"}, "environment variable FAKEAI_MODE"),
        (["--port", "70000"], {}, "port"),
    ],
)
def test_bad_values_name_where_they_came_from(argv: list[str], env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(named)):
        resolve(argv, env)


def test_bad_config_file_keys_are_named(tmp_path: Path) -> None:
    config = tmp_path / "fakeai.toml"
    config.write_text("[fakeai]\nsede = 1\n")
    with pytest.raises(SettingsError, match=r"Unknown key 'sede' in config file .*Known keys: host, port"):
        resolve(["--config", str(config)])


def test_a_bad_flag_exits_2_with_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--clock", "sundial"])
    assert info.value.code == 2
    assert "'clock' from the command line (--clock)" in capsys.readouterr().err


def test_console_script_is_declared() -> None:
    scripts = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts.get("pytest-fakeai") == "pytest_fakeai.cli:main"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_in_a_subprocess_prints_its_url_and_stops_cleanly(sig: signal.Signals) -> None:
    pytest.importorskip("uvicorn")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_fakeai.cli", "serve", "--port", "0", "--mode", "echo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"pytest-fakeai serving on (http://127\.0\.0\.1:\d+/v1)\n", line)
        assert match, line
        request = urllib.request.Request(
            match.group(1) + "/chat/completions",
            data=json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]}).encode(),
            headers={"content-type": "application/json"},
        )
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        with direct.open(request, timeout=10) as response:
            assert json.load(response)["choices"][0]["message"]["content"] == "ping"
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
