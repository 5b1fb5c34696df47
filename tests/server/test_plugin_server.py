"""The ``fakeai_server`` fixture and ``--fakeai-serve``, in inner pytest runs."""

from __future__ import annotations

import pytest

pytest.importorskip("uvicorn")

# No cache files, no hypothesis plugin (slow to load per run), no pytest-asyncio warning.
INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-o", "asyncio_default_fixture_loop_scope=function")

# Inner tests talk to the port with the standard library: nothing to import per run.
HELPERS = """
import http.client, json

def chat(server, content="hello port"):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}
    conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"content-type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    conn.close()
    return response.status, data
"""


def test_the_port_answers_with_each_tests_own_simulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        helpers=HELPERS,
        test_inner="""
        import pytest
        from helpers import chat

        SEEN = {}

        @pytest.mark.fakeai(mode="echo")
        def test_marker_applies(fakeai, fakeai_server):
            assert fakeai_server.simulator is fakeai
            assert fakeai_server.url == f"http://127.0.0.1:{fakeai_server.port}/v1"
            assert fakeai_server.host == "127.0.0.1"
            status, data = chat(fakeai_server)
            assert status == 200
            assert data["choices"][0]["message"]["content"] == "hello port"
            assert fakeai.calls.total == 1
            SEEN["first"] = (fakeai_server, fakeai)

        def test_second_gets_its_own(fakeai, fakeai_server):
            server, first_sim = SEEN["first"]
            assert fakeai_server.port == server.port  # one server for the session
            fakeai.on(contains="hello").reply("scripted over the port")
            status, data = chat(fakeai_server)
            assert data["choices"][0]["message"]["content"] == "scripted over the port"
            assert fakeai.calls.total == 1
            assert first_sim.calls.total == 1  # the first test's simulator saw only its own request

        def test_between_tests_a_fresh_default(pytestconfig):
            server, first_sim = SEEN["first"]
            status, data = chat(server, "anyone there")
            assert status == 200
            assert data["choices"][0]["message"]["content"] != "anyone there"  # not the echo test's simulator
        """,
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=3)


def test_fakeai_serve_starts_a_session_server_and_reports_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_nothing(): pass\n")
    result = pytester.runpytest(*INNER, "--fakeai-serve")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["fakeai: serving on http://127.0.0.1:*/v1", "*", "fakeai: served on http://*/v1"])


def test_fakeai_serve_ini_and_the_fixture_share_the_server(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfakeai_serve = true\n")
    pytester.makepyfile(
        test_inner="""
        def test_port(fakeai_server, pytestconfig):
            print("PORT", fakeai_server.port)
        """
    )
    result = pytester.runpytest(*INNER, "-s")
    result.assert_outcomes(passed=1)
    header = next(line for line in result.outlines if line.startswith("fakeai: serving on"))
    port = next(line.split()[-1] for line in result.outlines if "PORT " in line)
    assert header.endswith(f":{port}/v1")


def test_no_server_unless_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_sim(fakeai): pass\n")
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=1)
    assert "serving on" not in result.stdout.str()


def test_a_bad_port_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_nothing(): pass\n")
    result = pytester.runpytest(*INNER, "--fakeai-serve", "--fakeai-serve-port", "http")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*Invalid port 'http' from the command line (--fakeai-serve-port)*"])
