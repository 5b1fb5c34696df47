"""``fakeai.intercept()``: clients that application code builds itself talk to the simulator.

``_app`` is application code: it builds ``OpenAI()`` / ``AsyncOpenAI()`` itself. Each
test runs on both stacks (httpx2 is openai 3's default; on httpx the app passes
``httpx.Client()``) and, where the mode matters, sync and async. Nothing here
reaches anything but 127.0.0.1 (see conftest.py's guard).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.intercept import OPENAI_BASE_URL, BaseUrl, NetworkBlockedError, is_patched
from pytest_fakeai.adapters.transports import STACKS
from tests.transports._helpers import AppRunner
from tests.transports.conftest import LocalServer

AZURE = "https://myres.openai.azure.com"
DOC = Path(__file__).resolve().parents[2] / "docs" / "intercept.md"
HI: Any = [{"role": "user", "content": "hi"}]
INSTALLED = [s for s in STACKS if importlib.util.find_spec(s) is not None]
TARGETS = [("HTTPTransport", "handle_request"), ("AsyncHTTPTransport", "handle_async_request")]


def transport_methods() -> dict[str, Any]:
    """What each stack's transport classes hold right now, by ``stack.Class.method``."""
    found = {}
    for stack in INSTALLED:
        mod = importlib.import_module(stack)
        for cls, name in TARGETS:
            found[f"{stack}.{cls}.{name}"] = vars(getattr(mod, cls))[name]
    return found


ORIGINALS = transport_methods()  # read when this module is imported, before any interceptor ran


def assert_originals_restored() -> None:
    now = transport_methods()
    assert all(now[key] is ORIGINALS[key] for key in ORIGINALS), now
    assert not is_patched()


# --------------------------------------------------------------------------- answered


def test_app_requests_are_answered_by_the_simulator(sim: FakeAI, app: AppRunner) -> None:
    with sim.intercept():
        summary = app.summarize("The harbor in Lisbon.")
    call = sim.calls.last
    assert summary and summary == call.response.text
    assert call.request.path == "/v1/chat/completions"
    assert call.request.json["model"] == "gpt-4o-mini"
    assert call.request.json["messages"][-1] == {"role": "user", "content": "The harbor in Lisbon."}
    assert call.request.headers["authorization"] == "Bearer sk-app-key"
    assert call.transport == f"intercept:{app.stack}"
    assert sim.calls.total == 1


def test_streaming_arrives_chunk_by_chunk(sim: FakeAI, app: AppRunner) -> None:
    produced: list[int] = []  # how many chunks the simulator had produced as each piece arrived
    with sim.intercept():
        pieces = app.stream(after_each=lambda: produced.append(len(sim.calls.last.response.chunks)))
    call = sim.calls.last
    assert "".join(pieces) == call.response.text != ""
    assert call.response.streamed and call.response.complete
    assert call.transport == f"intercept:{app.stack}"
    total = len(call.response.chunks)
    assert produced[0] <= 3 < total, (produced, total)  # the first piece came before the rest existed
    assert produced == sorted(produced)


def test_clients_created_before_entering_are_intercepted(sim: FakeAI, app: AppRunner) -> None:
    summarizer = app.summarizer()  # a service object built at import or start-up time
    with sim.intercept():
        summary = app.summarize(summarizer=summarizer)
    assert summary == sim.calls.last.response.text
    assert sim.calls.last.transport == f"intercept:{app.stack}"


def test_async_with(sim: FakeAI, stack: str) -> None:
    import asyncio

    from tests.transports import _app

    app = AppRunner(stack, "async")

    async def main() -> str:
        async with sim.intercept() as interceptor:
            assert interceptor.active
            return await _app.asummarize("hello", http_client=app.http_client())

    assert asyncio.run(main()) == sim.calls.last.response.text
    assert_originals_restored()


# --------------------------------------------------------------------------- other URLs


def test_other_urls_pass_through(sim: FakeAI, app: AppRunner, server: LocalServer) -> None:
    with sim.intercept():
        assert app.request("GET", server.url + "/hello?x=1").json() == {"server": "local", "path": "/hello?x=1"}
        page = app.call(app.openai(base_url=server.url + "/v1").models.list)
        assert [m.id for m in page.data] == ["local-model"]
    assert server.seen == [("GET", "/hello?x=1"), ("GET", "/v1/models")]
    assert sim.calls.total == 0


def test_block_network_refuses_other_urls(sim: FakeAI, app: AppRunner, server: LocalServer) -> None:
    with sim.intercept(block_network=True):
        with pytest.raises(NetworkBlockedError) as info:
            app.request("GET", server.url + "/private?token=1")
        assert isinstance(info.value, app.http.ConnectError)
        message = str(info.value)
        assert f"blocked GET {server.url}/private:" in message
        assert "block_network" in message and "token" not in message
        assert f'fakeai.intercept("{server.url}")' in message  # how to route it instead

        client = app.openai(base_url=server.url + "/v1", max_retries=0)
        with pytest.raises(openai.APIConnectionError) as sdk:
            app.call(client.models.list)
        assert isinstance(sdk.value.__cause__, NetworkBlockedError)

        assert app.summarize() == sim.calls.last.response.text  # OpenAI itself is still answered
    assert server.seen == []
    assert sim.calls.total == 1


def test_block_network_comes_from_the_settings(app: AppRunner, server: LocalServer) -> None:
    sim = FakeAI(block_network=True)
    with sim.intercept(), pytest.raises(NetworkBlockedError):
        app.request("GET", server.url)
    with sim.intercept(block_network=False):
        assert app.request("GET", server.url).status_code == 200


# --------------------------------------------------------------------------- base URLs


def test_azure_deployment_url_routes(sim: FakeAI, app: AppRunner) -> None:
    azure = openai.AsyncAzureOpenAI if app.asynchronous else openai.AzureOpenAI
    client = azure(
        azure_endpoint=AZURE,
        azure_deployment="chat-prod",
        api_version="2024-10-21",
        api_key="azure-key",
        http_client=app.http_client(),
    )
    with sim.intercept(f"{AZURE}/openai/deployments/chat-prod", block_network=True):
        reply = app.call(client.chat.completions.create, model="gpt-4o", messages=HI)
        call = sim.calls.last
        assert reply.choices[0].message.content == call.response.text
        assert call.request.path == "/v1/chat/completions"
        assert "api-version=2024-10-21" in call.request.query
        assert call.request.headers["api-key"] == "azure-key"
        assert call.request.json["model"] == "gpt-4o"
        assert call.transport == f"intercept:{app.stack}"

        # a body that names no model: the deployment is the model
        url = f"{AZURE}/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21"
        response = app.request("POST", url, json={"messages": HI})
        assert response.status_code == 200
        assert sim.calls.last.request.json["model"] == "chat-prod"

        # another deployment is not under the base URL given
        with pytest.raises(NetworkBlockedError):
            app.request("POST", f"{AZURE}/openai/deployments/chat-dev/chat/completions", json={})
    assert sim.calls.total == 2


def test_azure_endpoint_routes_every_deployment(sim: FakeAI, stack: str) -> None:
    app = AppRunner(stack, "sync")
    client = openai.AzureOpenAI(
        azure_endpoint=AZURE, api_version="2024-10-21", api_key="k", http_client=app.http_client()
    )
    v1 = openai.OpenAI(base_url=f"{AZURE}/openai/v1/", api_key="k", http_client=app.http_client())
    with sim.intercept(AZURE, block_network=True):
        client.chat.completions.create(model="dep-a", messages=HI)  # sent to /openai/deployments/dep-a/...
        client.chat.completions.create(model="dep-b", messages=HI)
        assert [m.id for m in client.models.list()]
        v1.chat.completions.create(model="dep-c", messages=HI)  # Azure's v1 API
    paths = [(c.request.method, c.request.path) for c in sim.calls]
    assert paths == [
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
    ]
    assert [c.request.json["model"] for c in sim.calls if c.request.method == "POST"] == ["dep-a", "dep-b", "dep-c"]


def test_extra_base_urls_route(app: AppRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")  # an app configured by its environment
    sim = FakeAI(intercept_urls="http://vllm.internal:8000/v1, https://integrate.api.nvidia.com/v1")
    bases = ["http://localhost:8000/v1", "http://vllm.internal:8000/v1", "https://integrate.api.nvidia.com/v1"]
    with sim.intercept("http://localhost:8000/v1", block_network=True):
        for base in bases:
            client = app.openai(base_url=base, max_retries=0)
            app.call(client.chat.completions.create, model="meta/llama-3.1-8b-instruct", messages=HI)
            assert sim.calls.last.request.path == "/v1/chat/completions"
        assert app.summarize() == sim.calls.last.response.text  # OpenAI() read OPENAI_BASE_URL
    assert sim.calls.total == 4
    assert {c.transport for c in sim.calls} == {f"intercept:{app.stack}"}


def _url(text: str) -> SimpleNamespace:
    parts = urlsplit(text)
    return SimpleNamespace(scheme=parts.scheme, host=parts.hostname, port=parts.port, path=parts.path)


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        (OPENAI_BASE_URL, "https://api.openai.com/v1/chat/completions", ("/v1/chat/completions", None)),
        (OPENAI_BASE_URL, "https://api.openai.com:443/v1/models/gpt-4o", ("/v1/models/gpt-4o", None)),
        (OPENAI_BASE_URL, "https://api.openai.com/v10/models", None),
        (OPENAI_BASE_URL, "http://api.openai.com/v1/models", None),
        (OPENAI_BASE_URL, "https://api.openai.com.evil.test/v1/models", None),
        ("http://localhost:8000/v1/", "http://localhost:8000/v1/completions", ("/v1/completions", None)),
        ("http://localhost:8000/v1", "http://localhost:8000/metrics", None),
        ("http://localhost:8000/v1", "http://localhost:8001/v1/models", None),
        ("http://gw.internal/llm/openai-compat", "http://gw.internal/llm/openai-compat/models", ("/v1/models", None)),
        ("http://vllm:8000", "http://vllm:8000/v1/models", ("/v1/models", None)),
        (
            f"{AZURE}/openai/deployments/x",
            f"{AZURE}/openai/deployments/x/chat/completions",
            ("/v1/chat/completions", "x"),
        ),
        (f"{AZURE}/openai/deployments/x", f"{AZURE}/openai/deployments/xy/chat/completions", None),
        (AZURE, f"{AZURE}/openai/deployments/y/embeddings", ("/v1/embeddings", "y")),
        (AZURE, f"{AZURE}/openai/models", ("/v1/models", None)),
        (AZURE, f"{AZURE}/openai/v1/chat/completions", ("/v1/chat/completions", None)),
        (
            "https://apim.example/team/openai/deployments/x",
            "https://apim.example/team/openai/deployments/x/chat/completions",
            ("/v1/chat/completions", "x"),
        ),
    ],
)
def test_base_url_mapping(base: str, url: str, expected: tuple[str, str | None] | None) -> None:
    assert BaseUrl.parse(base).route(_url(url)) == expected


@pytest.mark.parametrize("bad", ["api.openai.com/v1", "ftp://files.example/v1", "https:///v1"])
def test_a_bad_base_url_is_a_clear_error(sim: FakeAI, bad: str) -> None:
    with pytest.raises(ValueError, match=r"cannot intercept .*https://host\[:port\]/path"):
        sim.intercept(bad)


# --------------------------------------------------------------------------- lifecycle


def test_nothing_stays_patched_even_when_the_body_raised(sim: FakeAI, stack: str, server: LocalServer) -> None:
    app = AppRunner(stack, "sync")

    def crash() -> None:
        with sim.intercept():
            assert is_patched()
            assert transport_methods() != ORIGINALS
            app.summarize()
            raise RuntimeError("app crashed")

    with pytest.raises(RuntimeError, match="app crashed"):
        crash()
    assert_originals_restored()
    # The transports work as before; a request to OpenAI would now go to the network,
    # which this machine must not try: the restored originals are the proof.
    assert app.request("GET", server.url + "/after").json()["path"] == "/after"
    assert sim.calls.total == 1


def test_nested_interceptors_innermost_answers(app: AppRunner) -> None:
    outer, inner = FakeAI(seed=1), FakeAI(seed=2)
    local = "http://localhost:8001/v1"
    with outer.intercept(local, block_network=True):
        with inner.intercept():
            app.summarize()
            assert (outer.calls.total, inner.calls.total) == (0, 1)
            # only the outer one intercepts this base URL, so it answers
            app.call(app.openai(base_url=local).chat.completions.create, model="gpt-4o", messages=HI)
            assert (outer.calls.total, inner.calls.total) == (1, 1)
        assert is_patched()
        app.summarize()
        assert (outer.calls.total, inner.calls.total) == (2, 1)
    assert_originals_restored()


def test_an_interceptor_can_be_reentered(sim: FakeAI, stack: str) -> None:
    app = AppRunner(stack, "sync")
    interceptor = sim.intercept()
    with interceptor:
        with interceptor:
            app.summarize()
        assert interceptor.active and is_patched()
        app.summarize()
    assert not interceptor.active
    assert_originals_restored()
    with interceptor:
        app.summarize()
    assert sim.calls.total == 3
    assert_originals_restored()


def test_requests_from_other_threads_are_intercepted(sim: FakeAI, stack: str) -> None:
    app = AppRunner(stack, "sync")
    with sim.intercept(), ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda i: app.summarize(f"text {i}"), range(16)))
    assert sim.calls.total == 16
    assert sorted(replies) == sorted(c.response.text for c in sim.calls)
    assert {c.transport for c in sim.calls} == {f"intercept:{stack}"}


def test_interceptors_entered_from_many_threads(stack: str) -> None:
    sims = [FakeAI(seed=i) for i in range(8)]
    app = AppRunner(stack, "sync")
    all_in = threading.Barrier(len(sims))

    def work(sim: FakeAI) -> str:
        with sim.intercept():
            all_in.wait()
            reply = app.summarize()
            all_in.wait()  # nobody leaves while another still sends
        return reply

    with ThreadPoolExecutor(len(sims)) as pool:
        replies = list(pool.map(work, sims))
    assert all(replies)
    assert sum(s.calls.total for s in sims) == len(sims)
    assert_originals_restored()


@pytest.mark.parametrize("respx_outside", [False, True], ids=["respx-inside", "respx-outside"])
def test_a_tests_own_respx_mocks_keep_working(sim: FakeAI, respx_outside: bool) -> None:
    respx = pytest.importorskip("respx")
    httpx = pytest.importorskip("httpx")
    app = AppRunner("httpx", "sync")
    weather = "http://127.0.0.1:9/weather"  # if respx were bypassed, port 9 refuses: nothing leaves
    router = respx.mock(assert_all_called=True, assert_all_mocked=True)
    router.get(weather).respond(json={"sky": "clear"})
    first, second = (router, sim.intercept()) if respx_outside else (sim.intercept(), router)
    with first, second:
        assert httpx.get(weather).json() == {"sky": "clear"}
        assert app.summarize() == sim.calls.last.response.text
        assert router.calls.call_count == 1  # the OpenAI request never reached respx
    assert sim.calls.last.transport == "intercept:httpx"


def test_a_patch_laid_over_ours_is_left_alone(sim: FakeAI, stack: str, server: LocalServer) -> None:
    """Exits out of order (someone patched the same method while we were active) leave an inert wrapper."""
    mod = importlib.import_module(stack)
    app = AppRunner(stack, "sync")

    def teapot(self: Any, request: Any) -> Any:
        return mod.Response(418, request=request)

    interceptor = sim.intercept().__enter__()
    theirs = mock.patch.object(mod.HTTPTransport, "handle_request", teapot)
    theirs.start()
    interceptor.__exit__(None, None, None)
    assert vars(mod.HTTPTransport)["handle_request"] is teapot  # not clobbered
    theirs.stop()  # puts our wrapper back: with no interceptor active it only passes through
    assert is_patched()
    assert app.request("GET", server.url + "/inert").status_code == 200
    with sim.intercept():  # the next interceptor takes it over, and its exit removes it
        app.summarize()
    assert_originals_restored()


# --------------------------------------------------------------------------- the plugin


INNER_FLAGS = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:hypothesispytest",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
)

INNER_APP = '''
import openai
import pytest
from pytest_fakeai.adapters.intercept import NetworkBlockedError, is_patched

def summarize():
    """Application code: its own client, default settings."""
    client = openai.OpenAI()
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    return reply.choices[0].message.content
'''


def test_marker_intercepts_for_the_test_and_stops_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        INNER_APP
        + """
@pytest.mark.fakeai(intercept=True)
def test_marked(fakeai):
    assert is_patched()
    assert summarize() == fakeai.calls.last.response.text
    assert fakeai.calls.last.transport.startswith("intercept:")

@pytest.mark.fakeai(intercept=True, block_network=True)
def test_blocked(fakeai):
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(openai.APIConnectionError) as info:
        client.models.list()
    assert isinstance(info.value.__cause__, NetworkBlockedError)
    assert "127.0.0.1:9/v1/models" in str(info.value.__cause__)

@pytest.mark.fakeai(intercept=True)
def test_failing_inside(fakeai):
    summarize()
    raise AssertionError("boom")

@pytest.mark.fakeai(intercept=True)
def test_without_asking_for_fakeai():
    assert is_patched()
    assert summarize()

def test_unmarked(fakeai):
    assert not is_patched()
"""
    )
    result = pytester.runpytest(*INNER_FLAGS)
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["E       AssertionError: boom", "FAILED *::test_failing_inside*"])
    assert_originals_restored()


@pytest.mark.parametrize("where", ["command line", "ini"])
def test_option_and_ini_intercept_every_test(pytester: pytest.Pytester, where: str) -> None:
    pytester.makepyfile(
        INNER_APP
        + """
def test_not_asking_for_fakeai():
    assert is_patched()
    assert summarize()

def test_extra_url(fakeai):
    openai.OpenAI(base_url="http://localhost:8000/v1").models.list()
    assert fakeai.calls.last.transport.startswith("intercept:")
    assert fakeai.calls.last.request.path == "/v1/models"

@pytest.mark.fakeai(intercept=False)
def test_marker_turns_it_off(fakeai):
    assert not is_patched()
"""
    )
    if where == "ini":
        pytester.makeini("[pytest]\nfakeai_intercept = true\nfakeai_intercept_urls = http://localhost:8000/v1\n")
        result = pytester.runpytest(*INNER_FLAGS)
    else:
        args = ("--fakeai-intercept=true", "--fakeai-intercept-urls=http://localhost:8000/v1")
        result = pytester.runpytest(*INNER_FLAGS, *args)
    result.assert_outcomes(passed=3)
    assert_originals_restored()


def test_off_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(INNER_APP + "\ndef test_off(fakeai, fakeai_client):\n    assert not is_patched()\n")
    pytester.runpytest(*INNER_FLAGS).assert_outcomes(passed=1)


# --------------------------------------------------------------------------- the recipe


def test_docs_recipe_runs(pytester: pytest.Pytester) -> None:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE)
    app = next(b for b in blocks if b.startswith("# myapp.py"))
    # blocks that import httpx2 need it installed (an environment limit of the openai 1/2 matrix)
    tests = [b for b in blocks if "def test_" in b and ("httpx2" in INSTALLED or "import httpx2" not in b)]
    pytester.makepyfile(myapp=app, **{f"test_recipe_{n}": code for n, code in enumerate(tests)})
    result = pytester.runpytest(*INNER_FLAGS, "-p", "asyncio")
    result.assert_outcomes(passed=sum(b.count("def test_") for b in tests))
    assert_originals_restored()
