"""The pytest_fakeai_* hooks, from a conftest.py and from a plugin module."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Run = Callable[..., pytest.RunResult]

CONFTEST = """
import json

from pytest_fakeai import ModelSpec
from pytest_fakeai.api.types import ApiResponse

seen = []

def pytest_fakeai_configure(simulator, node):
    seen.append(node.name if node is not None else None)
    simulator.on(contains="ping").reply("pong")

def pytest_fakeai_models(registry):
    registry.register(ModelSpec(id="acme-large", provider="acme", owned_by="acme", kind="chat",
                                context_window=32_000, max_output_tokens=4_096, created=1_700_000_000))

def pytest_fakeai_routes(router):
    def version(engine, request):
        body = json.dumps({"version": "acme-1"}).encode()
        return ApiResponse(200, [("content-type", "application/json")], body, json={"version": "acme-1"})
    router.add("GET", "/v1/acme/version", version)

def pytest_fakeai_response(request, response):
    response.headers.append(("x-acme-region", "eu-west-1"))
    if request.path == "/v1/models/replace-me":
        return ApiResponse(418, [("content-type", "application/json")], b'{"teapot": true}', json={"teapot": True})
    return None
"""

TESTS = """
import openai
import pytest

def test_models_routes_and_responses(fakeai, fakeai_client):
    assert "acme-large" in {m.id for m in fakeai_client.models.list()}
    reply = fakeai_client.chat.completions.with_raw_response.create(
        model="acme-large", messages=[{"role": "user", "content": "ping"}])
    assert reply.headers["x-acme-region"] == "eu-west-1"
    assert reply.parse().choices[0].message.content == "pong"   # scripted in pytest_fakeai_configure
    assert fakeai_client.get("/acme/version", cast_to=object) == {"version": "acme-1"}
    with pytest.raises(openai.APIStatusError) as info:
        fakeai_client.models.retrieve("replace-me")
    assert info.value.status_code == 418

def test_every_simulator_is_extended(fakeai, fakeai_client):
    from conftest import seen
    assert seen == ["test_models_routes_and_responses", "test_every_simulator_is_extended"]
    assert fakeai.models.get("acme-large") is not None
"""


def test_hooks_from_a_conftest(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(TESTS)
    run("-p", "no:randomly").assert_outcomes(passed=2)


def test_hooks_from_a_plugin_module(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(acme_plugin=CONFTEST.replace("from conftest", "from acme_plugin"))
    pytester.makepyfile(test_it=TESTS.replace("from conftest import seen", "from acme_plugin import seen"))
    pytester.syspathinsert()
    run("-p", "acme_plugin", "-p", "no:randomly").assert_outcomes(passed=2)


def test_conftest_hooks_apply_to_their_directory_only(pytester: pytest.Pytester, run: Run) -> None:
    pytester.mkpydir("acme")
    (pytester.path / "acme" / "conftest.py").write_text(
        "def pytest_fakeai_response(response):\n    response.headers.append(('x-acme', '1'))\n"
    )
    (pytester.path / "acme" / "test_in.py").write_text(
        "def test_in(fakeai_client):\n"
        "    raw = fakeai_client.models.with_raw_response.list()\n"
        "    assert raw.headers.get('x-acme') == '1'\n"
    )
    pytester.makepyfile(
        test_out="def test_out(fakeai_client):\n"
        "    raw = fakeai_client.models.with_raw_response.list()\n"
        "    assert 'x-acme' not in raw.headers\n"
    )
    run().assert_outcomes(passed=2)


def test_a_failing_response_hook_is_a_500_and_a_warning(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makeconftest("def pytest_fakeai_response(response):\n    raise RuntimeError('boom')\n")
    pytester.makepyfile(
        """
import openai
import pytest
from pytest_fakeai import FakeAIInternalError

def test_it(fakeai_client):
    with pytest.warns(FakeAIInternalError, match="response hook"):
        with pytest.raises(openai.InternalServerError):
            fakeai_client.with_options(max_retries=0).models.list()
"""
    )
    run().assert_outcomes(passed=1)


def test_the_hooks_are_documented_with_their_defaults(pytestconfig: pytest.Config) -> None:
    hook = pytestconfig.hook
    for name in ("pytest_fakeai_configure", "pytest_fakeai_models", "pytest_fakeai_routes", "pytest_fakeai_response"):
        impls = getattr(hook, name).get_hookimpls()
        assert any(impl.plugin_name == "fakeai-default-hooks" and impl.trylast for impl in impls), name


def test_the_docs_example_runs(pytester: pytest.Pytester, run: Run) -> None:
    from tests.test_docs_snippets import _blocks

    blocks = _blocks("docs/hooks.md")
    conftest = next(b for b in blocks if b.startswith("# conftest.py"))
    tests = next(b for b in blocks if b.startswith("# test_acme.py"))
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_acme=tests)
    run().assert_outcomes(passed=1)
