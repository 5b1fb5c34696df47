"""Under pytest-xdist: a server per worker, the controller's summary adds the workers up, seeds as without xdist."""

from __future__ import annotations

import json
import re
from importlib.util import find_spec
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

needs_xdist = pytest.mark.skipif(find_spec("xdist") is None, reason="pytest-xdist is not installed")

# No cache files, no hypothesis plugin (slow to load per run), no pytest-asyncio warning.
INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-o", "asyncio_default_fixture_loop_scope=function")

# Each inner test sends requests over its worker's port with the standard library and
# writes what it saw (worker, URL, seed, answer) to a file in $FAKEAI_XDIST_OUT.
HELPERS = """
import http.client, json, os, pathlib

def chat(server, model="gpt-4o"):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}]}
    conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"content-type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    conn.close()
    return response.status, data

def record(request, server, sim, answer):
    out = pathlib.Path(os.environ["FAKEAI_XDIST_OUT"])
    name = "".join(c if c.isalnum() else "_" for c in request.node.nodeid) + ".json"
    seen = {
        "nodeid": request.node.nodeid,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "none"),
        "url": server.url,
        "seed": sim.settings.seed,
        "answer": answer,
    }
    (out / name).write_text(json.dumps(seen))
"""

# Two files, so --dist loadfile gives each worker one: 7 exchanges over the ports, 1 of them an error.
FIRST = """
import pytest
from helpers import chat, record

@pytest.mark.parametrize("n", range(3))
def test_chat(request, fakeai, fakeai_server, n):
    status, data = chat(fakeai_server)
    assert status == 200
    record(request, fakeai_server, fakeai, data["choices"][0]["message"]["content"])

@pytest.mark.fakeai(strict_models=True)
def test_unknown_model_is_an_error(request, fakeai, fakeai_server):
    status, data = chat(fakeai_server, model="no-such-model")
    assert status == 404
    record(request, fakeai_server, fakeai, data["error"]["code"])
"""

SECOND = """
import pytest
from helpers import chat, record

class TestMore:
    @pytest.mark.parametrize("word", ["a", "b", "c"])
    def test_chat(self, request, fakeai, fakeai_server, word):
        status, data = chat(fakeai_server)
        assert status == 200
        record(request, fakeai_server, fakeai, data["choices"][0]["message"]["content"])
"""

URL = "http://127.0.0.1:*/v1"


def _suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(helpers=HELPERS, test_first=FIRST, test_second=SECOND)


def _seen(out: Path) -> dict[str, dict[str, object]]:
    records = [json.loads(path.read_text()) for path in out.iterdir()]
    return {str(r["nodeid"]): r for r in records}


@needs_xdist
def test_each_worker_serves_its_own_port_and_the_summary_adds_them_up(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _suite(pytester)
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # this run itself may be an xdist worker
    with_xdist, without = pytester.mkdir("with_xdist"), pytester.mkdir("without")

    monkeypatch.setenv("FAKEAI_XDIST_OUT", str(with_xdist))
    result = pytester.runpytest_subprocess(*INNER, "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(
        [f"fakeai: 2 workers served on {URL}, {URL}; 7 exchanges, 1 error (* tokens, $* at list prices)"]
    )

    seen = _seen(with_xdist)
    assert len(seen) == 7
    urls_by_worker: dict[str, set[str]] = {}
    for record in seen.values():
        urls_by_worker.setdefault(str(record["worker"]), set()).add(str(record["url"]))
    assert sorted(urls_by_worker) == ["gw0", "gw1"]
    assert all(len(urls) == 1 for urls in urls_by_worker.values())  # one server per worker for its session
    (gw0,), (gw1,) = urls_by_worker["gw0"], urls_by_worker["gw1"]
    assert gw0 != gw1
    summary = next(line for line in result.outlines if line.startswith("fakeai: 2 workers served on"))
    assert re.findall(r"http://\S+/v1", summary) == [gw0, gw1]  # in worker order

    # The same suite without xdist: one port, the same per-test seeds and answers.
    monkeypatch.setenv("FAKEAI_XDIST_OUT", str(without))
    result = pytester.runpytest_subprocess(*INNER, "-p", "no:xdist")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines([f"fakeai: served on {URL}; 7 exchanges, 1 error (*)"])
    alone = _seen(without)
    assert {r["worker"] for r in alone.values()} == {"none"}
    assert len({r["url"] for r in alone.values()}) == 1
    assert {k: (r["seed"], r["answer"]) for k, r in alone.items()} == {
        k: (r["seed"], r["answer"]) for k, r in seen.items()
    }
    assert len({r["seed"] for r in alone.values()}) == 7  # derived from each node id


@needs_xdist
def test_fakeai_serve_under_xdist_serves_on_the_workers_not_the_controller(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a="def test_a(): pass\n",
        test_b="def test_b(): pass\n",
    )
    result = pytester.runpytest_subprocess(*INNER, "-n", "2", "--dist", "loadfile", "--fakeai-serve")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "fakeai: serving on one port per xdist worker (listed in the summary)",
            "*",
            f"fakeai: 2 workers served on {URL}, {URL}",
        ]
    )
    summary = next(line for line in result.outlines if line.startswith("fakeai: 2 workers served on"))
    first, second = re.findall(r"http://\S+/v1", summary)
    assert first != second


def test_the_summary_counts_without_xdist_too(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        helpers=HELPERS,
        test_inner="""
        import pytest
        from helpers import chat

        SERVER = []

        def test_sim(fakeai):
            SERVER.append(None)

        def test_port(fakeai_server):
            assert chat(fakeai_server)[0] == 200
            SERVER[0] = fakeai_server

        def test_between_tests_traffic_counts_too():
            assert chat(SERVER[0], model="")[0] >= 400  # answered by a fresh between-tests simulator
        """,
    )
    result = pytester.runpytest(*INNER, "-p", "no:xdist")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"fakeai: served on {URL}; 2 exchanges, 1 error*"])

    pytester.makepyfile(test_inner="def test_sim(fakeai): pass\n")
    result = pytester.runpytest(*INNER, "-p", "no:xdist")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["fakeai: 0 exchanges, 0 errors"])


@needs_xdist
def test_the_summary_line_without_a_port_and_without_fakeai(pytester: pytest.Pytester) -> None:
    pytest.importorskip("openai")
    pytester.makepyfile(
        test_used="""
        def test_sim(fakeai_client):
            fakeai_client.models.retrieve("gpt-4o")
            fakeai_client.models.list()
        """,
        test_not_used="def test_plain(): pass\n",
    )
    result = pytester.runpytest_subprocess(*INNER, "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["fakeai: 1 worker; 2 exchanges, 0 errors*"])

    result = pytester.runpytest_subprocess(*INNER, "-n", "2", "test_not_used.py")
    result.assert_outcomes(passed=1)
    assert not [line for line in result.outlines if "exchange" in line or "served on" in line]
