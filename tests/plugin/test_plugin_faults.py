"""Fault, limit and auth settings from the marker, the command line, the ini file and FAKEAI_* variables."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Run = Callable[..., pytest.RunResult]

TESTS = """
import openai
import pytest

HI = [{"role": "user", "content": "hi"}]

@pytest.mark.fakeai(error_rate=1.0, error_types=[503])
def test_marker(fakeai, fakeai_client):
    with pytest.raises(openai.InternalServerError):
        fakeai_client.with_options(max_retries=0).chat.completions.create(model="gpt-4o", messages=HI)
    assert fakeai.metrics.faults == {"overloaded": 1}

@pytest.mark.fakeai(error_sequence="429,500,ok", rpm=None)
def test_sequence_with_retries(fakeai, fakeai_client):
    assert fakeai_client.chat.completions.create(model="gpt-4o", messages=HI).choices
    assert [c.response.status for c in fakeai.calls] == [429, 500, 200]
    assert fakeai.metrics.retries == 2

def test_from_outside(fakeai, fakeai_client):
    assert fakeai.settings.rpm == 2
    assert fakeai.settings.error_types == ("timeout",)
    assert fakeai.settings.api_keys == ("sk-env",)
    fakeai_client.chat.completions.create(model="gpt-4o", messages=HI)
    fakeai_client.chat.completions.create(model="gpt-4o", messages=HI)
    with pytest.raises(openai.RateLimitError):
        fakeai_client.with_options(max_retries=0).chat.completions.create(model="gpt-4o", messages=HI)
    assert fakeai.calls.last.request.headers["authorization"] == "Bearer sk-env"
"""


def test_settings_from_every_layer(pytester: pytest.Pytester, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nfakeai_error_types = 500, 502\nfakeai_rpm = 5\n")
    pytester.makepyfile(TESTS)
    monkeypatch.setenv("FAKEAI_API_KEYS", "sk-env")
    monkeypatch.setenv("FAKEAI_ERROR_TYPES", "timeout")  # the environment beats the ini file
    run("--fakeai-rpm=2").assert_outcomes(passed=3)  # the command line beats the ini file


def test_bad_values_are_usage_errors_naming_their_source(
    pytester: pytest.Pytester, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile("def test_nothing(): pass\n")
    monkeypatch.setenv("FAKEAI_ERROR_TYPES", "429,teapot")
    result = run()
    result.stderr.fnmatch_lines(
        ["*for fakeai setting 'error_types' from environment variable FAKEAI_ERROR_TYPES: unknown fault kind 'teapot'*"]
    )
    monkeypatch.delenv("FAKEAI_ERROR_TYPES")
    pytester.makepyfile(
        """
import pytest

@pytest.mark.fakeai(error_rate=1.5)
def test_bad(fakeai):
    pass
"""
    )
    result = run()
    result.stderr.fnmatch_lines(["*Invalid value 1.5 for fakeai setting 'error_rate'*expected a number >= 0 and <= 1*"])
