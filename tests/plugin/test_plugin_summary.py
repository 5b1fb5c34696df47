"""The session summary: a line and a table of what the simulators served, --fakeai-report as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

Run = Callable[..., pytest.RunResult]

SUITE = """
import openai
import pytest

HI = [{"role": "user", "content": "hi"}]

def test_one(fakeai_client):
    fakeai_client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=5)

def test_two(fakeai_client):
    fakeai_client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=5)
    fakeai_client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=5)

@pytest.mark.fakeai(error_rate=1.0, error_types=[503])
def test_faulty(fakeai_client):
    with pytest.raises(openai.InternalServerError):
        fakeai_client.with_options(max_retries=0).chat.completions.create(model="gpt-4o", messages=HI)
"""


def test_summary_table_and_json_report(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(SUITE)
    result = run("--fakeai-report=out/fakeai.json")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "fakeai: 4 exchanges, 1 error (1 injected fault; * tokens, $* at list prices)",
            "  model * requests * errors * prompt tok * completion tok * cached tok * cost USD",
            "  gpt-4o * 3 * 1 * 16 * 10 * 0 * 0.0001",
            "  gpt-4o-mini * 1 * 0 * 8 * 5 * 0 * 0.0000",
        ]
    )
    report = json.loads((pytester.path / "out" / "fakeai.json").read_text())
    assert report["tests"] == 3 and report["exchanges"] == 4 and report["errors"] == 1
    assert report["faults"] == {"overloaded": 1}
    assert report["models"]["gpt-4o"]["requests"] == 3
    assert report["models"]["gpt-4o"]["prompt_tokens"] == 16
    assert report["models"]["gpt-4o-mini"]["completion_tokens"] == 5
    assert report["models"]["gpt-4o"]["cost_usd"] == pytest.approx((16 * 2.5 + 10 * 10) / 1e6)
    assert report["servers"] == []


def test_summary_can_be_turned_off(pytester: pytest.Pytester, run: Run) -> None:
    pytester.makepyfile(SUITE)
    result = run("--fakeai-no-summary")
    result.assert_outcomes(passed=3)
    assert not [line for line in result.outlines if line.startswith("fakeai: 4 exchanges")]
    pytester.makeini("[pytest]\nfakeai_summary = false\nfakeai_report = r.json\n")
    result = run()
    assert not [line for line in result.outlines if "model" in line and "requests" in line]
    assert json.loads((pytester.path / "r.json").read_text())["exchanges"] == 4  # the report is still written


def test_report_adds_up_xdist_workers(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # this run itself may be an xdist worker
    pytester.makepyfile(test_a=SUITE, test_b=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--fakeai-report=x.json")
    result.assert_outcomes(passed=6)
    report = json.loads((pytester.path / "x.json").read_text())
    assert report["tests"] == 6 and report["exchanges"] == 8 and report["errors"] == 2
    assert report["models"]["gpt-4o"]["requests"] == 6
