"""The pytest plugin, end to end: inner pytest runs (``pytester``) drive the real openai SDK.

Each test writes a small test module, runs pytest on it and checks the outcome; the
inner tests assert on real response content, so they fail when the simulator or the
plugin does the wrong thing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pytest

from pytest_fakeai.settings import SETTINGS
from tests._support.drive import AVAILABLE_STACKS

USAGE_ERROR = pytest.ExitCode.USAGE_ERROR
Run = Callable[..., pytest.RunResult]  # the ``run`` fixture of conftest.py

CHAT = """
def chat(client, text="hello there", model="gpt-4o"):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
"""


def crc(nodeid: str) -> int:
    return zlib.crc32(nodeid.encode())


def printed(result: pytest.RunResult, key: str) -> list[str]:
    """The values the inner tests printed as ``KEY=value`` lines (run with ``-s``)."""
    return [line.split("=", 1)[1] for line in result.outlines if line.startswith(key + "=")]


# --------------------------------------------------------------------------- fixtures


def test_fakeai_client_is_a_sync_openai_client_answered_by_the_simulator(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        CHAT
        + """
import openai
from pytest_fakeai.adapters.transports import default_stack

def test_it(fakeai, fakeai_client):
    assert type(fakeai_client) is openai.OpenAI
    reply = chat(fakeai_client)
    content = reply.choices[0].message.content
    assert len(content.split()) > 3
    assert reply.usage.completion_tokens > 0
    call = fakeai.calls.last
    assert call.request.json["model"] == "gpt-4o"
    assert call.request.json["messages"][0]["content"] == "hello there"
    assert call.request.path == "/v1/chat/completions"
    assert call.response.status == 200
    assert call.response.text == content
    assert call.transport == default_stack()
    assert fakeai.calls.total == 1
"""
    )
    run().assert_outcomes(passed=1)


def test_fakeai_async_client_under_pytest_asyncio_and_anyio(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        """
import asyncio
import openai
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"

async def exercise(fakeai, client):
    assert type(client) is openai.AsyncOpenAI
    reply = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    content = reply.choices[0].message.content
    assert content and content == fakeai.calls.last.response.text
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(parts) == fakeai.calls.last.response.text != ""
    assert fakeai.calls.last.response.events
    assert [c.request.json["model"] for c in fakeai.calls] == ["gpt-4o-mini", "gpt-4o-mini"]

@pytest.mark.asyncio
async def test_pytest_asyncio(fakeai, fakeai_async_client):
    asyncio.get_running_loop()
    await exercise(fakeai, fakeai_async_client)

@pytest.mark.anyio
async def test_anyio(fakeai, fakeai_async_client):
    asyncio.get_running_loop()
    await exercise(fakeai, fakeai_async_client)
"""
    )
    result = run("-v")
    result.stdout.fnmatch_lines(["*::test_pytest_asyncio PASSED*", "*::test_anyio PASSED*"])
    result.assert_outcomes(passed=2)


def test_both_stacks_are_reachable(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        CHAT
        + """
import importlib
import openai
import pytest

STACKS = pytest.mark.parametrize("stack", AVAILABLE_STACKS)

@STACKS
def test_openai_client(fakeai, stack):
    client = fakeai.client(stack=stack)
    assert type(client) is openai.OpenAI
    assert chat(client).choices[0].message.content == fakeai.calls.last.response.text
    assert fakeai.calls.last.transport == stack

@STACKS
@pytest.mark.asyncio
async def test_async_openai_client(fakeai, stack):
    client = fakeai.async_client(stack=stack)
    assert type(client) is openai.AsyncOpenAI
    reply = await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content == fakeai.calls.last.response.text
    assert fakeai.calls.last.transport == stack

@STACKS
def test_transport(fakeai, stack):
    mod = importlib.import_module(stack)
    transport = fakeai.transport(stack)
    assert isinstance(transport, mod.BaseTransport)
    with mod.Client(transport=transport, base_url="https://api.openai.com/v1") as http:
        body = http.get("/models").json()
    assert body["object"] == "list" and any(m["id"] == "gpt-4o" for m in body["data"])
    assert fakeai.calls.last.request.path == "/v1/models"
    assert fakeai.calls.last.transport == stack
    assert isinstance(fakeai.transport(stack, asynchronous=True), mod.AsyncBaseTransport)

@STACKS
def test_http_client(fakeai, stack):
    mod = importlib.import_module(stack)
    with fakeai.http_client(stack) as http:
        assert type(http) is mod.Client
        reply = http.post("/chat/completions", json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] == fakeai.calls.last.response.text
    assert fakeai.calls.last.transport == stack

@STACKS
@pytest.mark.asyncio
async def test_async_http_client(fakeai, stack):
    mod = importlib.import_module(stack)
    async with fakeai.http_client(stack, asynchronous=True) as http:
        assert type(http) is mod.AsyncClient
        reply = await http.get("/models/gpt-4o")
    assert reply.json()["id"] == "gpt-4o"
    assert fakeai.calls.last.transport == stack
""".replace("AVAILABLE_STACKS", repr(AVAILABLE_STACKS))
    )
    run().assert_outcomes(passed=5 * len(AVAILABLE_STACKS))


def test_each_test_gets_a_fresh_simulator(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        CHAT
        + """
import pytest

seen = []

def test_first(fakeai, fakeai_client):
    seen.append(fakeai)
    chat(fakeai_client, model="gpt-4o-mini")
    chat(fakeai_client, model="gpt-4o-mini")
    assert fakeai.calls.total == 2
    assert fakeai.calls.last.request.json["model"] == "gpt-4o-mini"

def test_second(fakeai, fakeai_client):
    assert fakeai is not seen[0]
    assert fakeai.calls.total == 0 and len(fakeai.calls) == 0
    with pytest.raises(LookupError):
        fakeai.calls.last
    chat(fakeai_client, model="gpt-4.1")
    assert [c.request.json["model"] for c in fakeai.calls] == ["gpt-4.1"]
    assert len(seen[0].calls) == 0  # the first test's simulator was closed at its teardown

def test_no_simulator_outlives_its_test(request):
    from pytest_fakeai.plugin import _SIM

    assert [item.name for item in request.session.items if _SIM in item.stash] == []
"""
    )
    run().assert_outcomes(passed=3)


# --------------------------------------------------------------------------- the marker


def test_marker_settings_change_what_the_simulator_answers(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        CHAT
        + """
import openai
import pytest

@pytest.mark.fakeai(mode="echo")
def test_echo(fakeai_client):
    reply = chat(fakeai_client, text="please echo this back")
    assert reply.choices[0].message.content == "please echo this back"

def test_no_marker_generates(fakeai, fakeai_client):
    assert fakeai.settings.mode == "generate"
    assert chat(fakeai_client, text="please echo this back").choices[0].message.content != "please echo this back"

@pytest.mark.fakeai(output_tokens=7)
def test_output_tokens(fakeai_client):
    reply = chat(fakeai_client)
    assert reply.usage.completion_tokens == 7
    assert reply.choices[0].finish_reason == "length"

@pytest.mark.fakeai(strict_models=True)
def test_strict_models(fakeai_client):
    with pytest.raises(openai.NotFoundError) as info:
        chat(fakeai_client, model="my-own-model-xyz")
    assert info.value.status_code == 404
    assert "my-own-model-xyz" in str(info.value)
    assert chat(fakeai_client, model="gpt-4o").choices[0].message.content

def test_lenient_models_by_default(fakeai_client):
    assert chat(fakeai_client, model="my-own-model-xyz").choices[0].message.content
"""
    )
    run().assert_outcomes(passed=5)


def test_module_class_and_function_markers_merge_closest_wins(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        test_merge=CHAT
        + """
import openai
import pytest

pytestmark = pytest.mark.fakeai(output_tokens=5, seed=11)

def test_module_level(fakeai, fakeai_client):
    assert chat(fakeai_client).usage.completion_tokens == 5
    assert fakeai.settings.seed == 11  # a marker's seed is used as is
    assert not fakeai.settings.strict_models
    assert fakeai.settings.sources["output_tokens"] == "@pytest.mark.fakeai on test_merge.py"

@pytest.mark.fakeai(output_tokens=9, strict_models=True)
class TestClass:
    def test_class_level(self, fakeai, fakeai_client):
        assert chat(fakeai_client).usage.completion_tokens == 9
        assert fakeai.settings.seed == 11
        with pytest.raises(openai.NotFoundError):
            chat(fakeai_client, model="nobody-knows-me")
        assert fakeai.settings.sources["output_tokens"] == "@pytest.mark.fakeai on test_merge.py::TestClass"

    @pytest.mark.fakeai(seed=3, mode="echo")
    def test_function_level(self, fakeai, fakeai_client):
        assert (fakeai.settings.seed, fakeai.settings.output_tokens, fakeai.settings.strict_models) == (3, 9, True)
        assert chat(fakeai_client, text="same words back").choices[0].message.content == "same words back"
        assert fakeai.settings.sources["seed"] == "@pytest.mark.fakeai on test_merge.py::TestClass::test_function_level"

@pytest.mark.parametrize("tokens", [pytest.param(2, marks=pytest.mark.fakeai(output_tokens=2)), 5])
def test_param_marks(fakeai_client, tokens):
    assert chat(fakeai_client).usage.completion_tokens == tokens
"""
    )
    run().assert_outcomes(passed=5)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "@pytest.mark.fakeai(temperature_jitter=1)\ndef test_it(fakeai): pass",
            "ERROR: Unknown fakeai setting 'temperature_jitter' from @pytest.mark.fakeai on test_bad.py::test_it."
            " Known settings: *mode*seed*",
            id="unknown-key",
        ),
        pytest.param(
            "@pytest.mark.fakeai(output_tokens=0)\ndef test_it(fakeai): pass",
            "ERROR: Invalid value 0 for fakeai setting 'output_tokens'"
            " from @pytest.mark.fakeai on test_bad.py::test_it: expected an integer >= 1 or None.",
            id="below-minimum",
        ),
        pytest.param(
            "@pytest.mark.fakeai(seed='7')\ndef test_it(fakeai): pass",
            "ERROR: Invalid value '7' for fakeai setting 'seed' from @pytest.mark.fakeai on test_bad.py::test_it:"
            " expected an integer.",
            id="wrong-type",
        ),
        pytest.param(
            "@pytest.mark.fakeai(mode='parrot')\nclass TestC:\n    def test_it(self, fakeai): pass",
            "ERROR: Invalid value 'parrot' for fakeai setting 'mode' from @pytest.mark.fakeai on test_bad.py::TestC:"
            " expected 'generate' | 'echo'.",
            id="class-level",
        ),
        pytest.param(
            "pytestmark = pytest.mark.fakeai(strict_models='yes')\ndef test_it(): pass",
            "ERROR: Invalid value 'yes' for fakeai setting 'strict_models' from @pytest.mark.fakeai on test_bad.py:"
            " expected a boolean.",
            id="module-level-without-fixture",
        ),
        pytest.param(
            "@pytest.mark.fakeai('echo')\ndef test_it(fakeai): pass",
            "ERROR: @pytest.mark.fakeai on test_bad.py::test_it"
            " takes keyword arguments only (got positional ('echo',)):*",
            id="positional",
        ),
    ],
)
def test_bad_marker_is_a_usage_error_naming_key_and_place(
    pytester: pytest.Pytester, run: Run, source: str, expected: str
) -> None:
    pytester.makepyfile(test_bad="import pytest\n\n" + source + "\n\ndef test_other(): pass\n")
    result = run()
    assert result.ret == USAGE_ERROR
    result.stderr.fnmatch_lines([expected])
    assert "passed" not in result.stdout.str()


# --------------------------------------------------------------------------- seeds


SEED_PROBE = (
    CHAT
    + """
import zlib
import pytest

def test_probe(request, fakeai, fakeai_client):
    content = chat(fakeai_client).choices[0].message.content
    print(f"\\nSEED={fakeai.settings.seed}\\nCRC={zlib.crc32(request.node.nodeid.encode())}")
    print(f"SOURCE={fakeai.settings.sources.get('seed', 'defaults')}\\nCONTENT={content}")

@pytest.mark.fakeai(seed=5)
def test_marked(fakeai):
    assert fakeai.settings.seed == 5
"""
)


@pytest.mark.parametrize(
    ("ini", "args", "base"),
    [
        pytest.param(None, (), 0, id="default"),
        pytest.param(None, ("--fakeai-seed", "100"), 100, id="command-line"),
        pytest.param(None, ("--fakeai-seed=-3",), -3, id="negative"),
        pytest.param(("ini", "[pytest]\nfakeai_seed = 200\n"), (), 200, id="pytest.ini"),
        pytest.param(("ini", "[pytest]\nfakeai_seed = 200\n"), ("--fakeai-seed", "100"), 100, id="cli-beats-ini"),
        pytest.param(("toml", "[tool.pytest.ini_options]\nfakeai_seed = 300\n"), (), 300, id="ini_options"),
        pytest.param(
            ("toml", "[tool.pytest]\nfakeai_seed = 400\n"),
            (),
            400,
            id="native-toml",
            marks=pytest.mark.skipif(pytest.version_tuple < (9, 2), reason="typed ini options need pytest 9.2"),
        ),
        pytest.param(None, ("-o", "fakeai_seed=500"), 500, id="override-ini"),
    ],
)
def test_seed_precedence_and_per_test_derivation(
    pytester: pytest.Pytester, run: Run, ini: tuple[str, str] | None, args: tuple[str, ...], base: int
) -> None:
    if ini is not None:
        kind, text = ini
        if kind == "ini":
            pytester.makeini(text)
        else:
            pytester.makepyprojecttoml(text)
    pytester.makepyfile(test_seeds=SEED_PROBE)
    result = run("-s", *args)
    result.assert_outcomes(passed=2)  # test_marked: the marker wins over all of them
    (seed,), (node_crc,) = printed(result, "SEED"), printed(result, "CRC")
    assert int(node_crc) == crc("test_seeds.py::test_probe")
    assert int(seed) == base + crc("test_seeds.py::test_probe")
    assert printed(result, "SOURCE") == ["per-test seed (seed + crc32(node id))"]
    result.stdout.fnmatch_lines([f"fakeai: seed={base} (each test: seed + crc32(node id)), clock=virtual, *"])


def test_two_tests_get_different_seeds_and_different_replies(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        test_two=CHAT
        + """
def test_a(fakeai, fakeai_client):
    print(f"\\nSEED={fakeai.settings.seed}\\nCONTENT={chat(fakeai_client).choices[0].message.content}")

def test_b(fakeai, fakeai_client):
    print(f"\\nSEED={fakeai.settings.seed}\\nCONTENT={chat(fakeai_client).choices[0].message.content}")
"""
    )
    result = run("-s", "--fakeai-seed", "42")
    result.assert_outcomes(passed=2)
    assert printed(result, "SEED") == [str(42 + crc("test_two.py::test_a")), str(42 + crc("test_two.py::test_b"))]
    a, b = printed(result, "CONTENT")
    assert a != b


def test_same_run_gives_same_replies_in_another_process_and_alone(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        test_det=CHAT
        + """
def test_one(fakeai, fakeai_client):
    chat(fakeai_client)
    print("\\nBODY=" + fakeai.calls.last.response.body.decode())
    stream = fakeai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "stream it"}], stream=True
    )
    print("STREAM=" + "".join(c.choices[0].delta.content or "" for c in stream if c.choices))

def test_two(fakeai, fakeai_client):
    chat(fakeai_client, text="another question")
    print("\\nBODY=" + fakeai.calls.last.response.body.decode())
"""
    )
    first = run("-s")
    first.assert_outcomes(passed=2)
    bodies, streams = printed(first, "BODY"), printed(first, "STREAM")
    assert len(bodies) == 2 and len(streams) == 1 and len(streams[0]) > 20
    assert '"content":"' in bodies[0]

    # a fresh interpreter (another PYTHONHASHSEED, nothing cached) answers byte for byte the same
    again = run("-s", "-p", "no:respx", subprocess=True)
    again.assert_outcomes(passed=2)
    assert (printed(again, "BODY"), printed(again, "STREAM")) == (bodies, streams)

    # one test alone gets the same seed, so the same replies, as in the full run
    alone = run("-s", "test_det.py::test_two")
    alone.assert_outcomes(passed=1)
    assert printed(alone, "BODY") == bodies[1:]

    # and another base seed changes them
    other = run("-s", "--fakeai-seed", "1")
    assert printed(other, "BODY")[0] != bodies[0]


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        pytest.param(
            None,
            ("--fakeai-seed", "abc"),
            "ERROR: Invalid value 'abc' for fakeai setting 'seed' from the command line (--fakeai-seed):"
            " expected an integer.",
            id="cli-seed",
        ),
        pytest.param(
            None,
            ("--fakeai-mode", "parrot"),
            "ERROR: Invalid value 'parrot' for fakeai setting 'mode' from the command line (--fakeai-mode):"
            " expected 'generate' | 'echo'.",
            id="cli-choice",
        ),
        pytest.param(
            None,
            ("--fakeai-output-tokens", "0"),
            "ERROR: Invalid value 0 for fakeai setting 'output_tokens' from the command line (--fakeai-output-tokens):"
            " expected an integer >= 1 or None.",
            id="cli-minimum",
        ),
        pytest.param(
            None,
            ("--fakeai-strict-models", "sometimes"),
            "ERROR: Invalid value 'sometimes' for fakeai setting 'strict_models' from the command line"
            " (--fakeai-strict-models): expected a boolean.",
            id="cli-bool",
        ),
        pytest.param(
            ("ini", "[pytest]\nfakeai_seed = 1.5\n"),
            (),
            "ERROR: Invalid value '1.5' for fakeai setting 'seed' from ini option fakeai_seed in tox.ini:"
            " expected an integer.",
            id="ini-seed",
        ),
        pytest.param(
            ("toml", "[tool.pytest.ini_options]\nfakeai_clock = 'sundial'\n"),
            (),
            "ERROR: Invalid value 'sundial' for fakeai setting 'clock' from ini option fakeai_clock in pyproject.toml:"
            " expected 'virtual' | 'real'.",
            id="ini-choice",
        ),
        pytest.param(
            ("toml", "[tool.pytest]\nfakeai_ttft = -1\n"),
            (),
            "ERROR: Invalid value -1.0 for fakeai setting 'ttft' from ini option fakeai_ttft in pyproject.toml:"
            " expected a number >= 0.",
            id="native-toml",
            marks=pytest.mark.skipif(pytest.version_tuple < (9, 2), reason="typed ini options need pytest 9.2"),
        ),
    ],
)
def test_bad_option_or_ini_value_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, run: Run, setup: tuple[str, str] | None, args: tuple[str, ...], expected: str
) -> None:
    if setup is not None:
        kind, text = setup
        if kind == "ini":
            pytester.makeini(text)
        else:
            pytester.makepyprojecttoml(text)
    pytester.makepyfile("def test_it(fakeai): pass")
    result = run(*args)
    assert result.ret == USAGE_ERROR
    result.stderr.fnmatch_lines([expected])


# --------------------------------------------------------------------------- other options


def test_options_apply_and_the_marker_beats_them(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        CHAT
        + """
import openai
import pytest

def test_from_options(fakeai, fakeai_client):
    assert chat(fakeai_client, text="parrot me").choices[0].message.content == "parrot me"
    with pytest.raises(openai.NotFoundError):
        chat(fakeai_client, model="unheard-of-model")
    assert fakeai.settings.sources["mode"] == "the command line"

@pytest.mark.fakeai(mode="generate", strict_models=False, output_tokens=4)
def test_marker_wins(fakeai_client):
    reply = chat(fakeai_client, text="parrot me", model="unheard-of-model")
    assert reply.choices[0].message.content != "parrot me"
    assert reply.usage.completion_tokens == 4
"""
    )
    run("--fakeai-mode", "echo", "--fakeai-strict-models", "true", "--fakeai-output-tokens=none").assert_outcomes(
        passed=2
    )


def test_ini_options_apply(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makeini("[pytest]\nfakeai_output_tokens = 6\nfakeai_strict_models = yes\n")
    pytester.makepyfile(
        CHAT
        + """
import openai
import pytest

def test_it(fakeai_client):
    assert chat(fakeai_client).usage.completion_tokens == 6
    with pytest.raises(openai.NotFoundError):
        chat(fakeai_client, model="unheard-of-model")
"""
    )
    run().assert_outcomes(passed=1)


@pytest.mark.skipif(pytest.version_tuple < (9, 2), reason="typed ini options need pytest 9.2")
def test_native_toml_values(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyprojecttoml(
        '[tool.pytest]\nfakeai_output_tokens = 3\nfakeai_strict_models = true\nfakeai_mode = "generate"\n'
    )
    pytester.makepyfile(
        CHAT
        + """
def test_it(fakeai, fakeai_client):
    assert chat(fakeai_client).usage.completion_tokens == 3
    assert fakeai.settings.strict_models is True
"""
    )
    run().assert_outcomes(passed=1)


# --------------------------------------------------------------------------- report, help, markers


def test_failure_report_has_a_fakeai_section_whose_seed_reproduces_it(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(
        test_fail=CHAT
        + """
def test_fails(fakeai_client):
    print("\\nCONTENT=" + chat(fakeai_client).choices[0].message.content)
    assert False, "the app misread the reply"

def test_fails_without_fakeai():
    assert False
"""
    )
    result = run("-s", "--fakeai-seed", "9")
    result.assert_outcomes(failed=2)
    seed = 9 + crc("test_fail.py::test_fails")
    result.stdout.fnmatch_lines(
        [
            "*_ test_fails _*",
            "*the app misread the reply*",
            "*- fakeai -*",
            f"seed={seed} calls=1 (reproduce with @pytest.mark.fakeai(seed={seed}))",
            "*_ test_fails_without_fakeai _*",
        ]
    )
    assert result.stdout.str().count("- fakeai -") == 1
    (content,) = printed(result, "CONTENT")

    # the seed in the report, put in a marker, gives the same reply under any name and options
    pytester.makepyfile(
        test_repro=CHAT
        + f"""
import pytest

@pytest.mark.fakeai(seed={seed})
def test_elsewhere(fakeai_client):
    print("\\nCONTENT=" + chat(fakeai_client).choices[0].message.content)
"""
    )
    again = run("-s", "test_repro.py")
    again.assert_outcomes(passed=1)
    assert printed(again, "CONTENT") == [content]


def test_header_help_and_markers(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile("def test_it(): pass")
    result = run("--fakeai-seed", "77")
    result.stdout.fnmatch_lines(
        ["fakeai: seed=77 (each test: seed + crc32(node id)), clock=virtual, openai *, stack=*"]
    )

    helped = run("--help")
    helped.stdout.fnmatch_lines(["pytest-fakeai (in-process OpenAI API simulator):", "  --fakeai-seed=SEED *"])
    text = helped.stdout.str()
    for spec in SETTINGS:
        assert spec.option in text
        assert f"{spec.ini} (string)" in text or f"{spec.ini} (string | " in text

    markers = run("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.fakeai(**settings): configure this test's FakeAI simulator;*"])


def test_p_no_fakeai_disables_the_plugin(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile("def test_it(fakeai): pass")
    result = run("-p", "no:fakeai")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'fakeai' not found*"])
    assert "fakeai: seed=" not in result.stdout.str()
    assert run("-p", "no:fakeai", "--fakeai-seed", "1").ret == USAGE_ERROR


# --------------------------------------------------------------------------- staying light
# (tests/test_architecture.py checks that importing the plugin alone loads nothing heavy)


def test_a_session_that_uses_no_fixture_loads_no_heavy_module(
    pytester: pytest.Pytester, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
import sys
import pytest

@pytest.mark.fakeai(seed=1)
def test_it():
    heavy = [m for m in ("openai", "httpx", "httpx2", "pydantic", "tiktoken", "numpy") if m in sys.modules]
    assert heavy == []
"""
    )
    # Only this plugin is measured: others installed beside it (respx imports httpx, langsmith's
    # imports pydantic and httpx2) are not loaded.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    run("-p", "pytest_fakeai.plugin", "--fakeai-seed", "3", subprocess=True).assert_outcomes(passed=1)
