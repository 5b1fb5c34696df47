"""The Prometheus text: every family as vLLM, Dynamo and dcgm-exporter emit it, with fakeai.metrics' numbers."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from pytest_fakeai import FakeAI
from pytest_fakeai.api.prometheus import (
    DCGM_FIELDS,
    DYNAMO_BUCKETS,
    _Hist,
    dynamo_error_type,
    exposition,
    log_buckets,
)
from pytest_fakeai.engine.gpu import GPU_PRESETS
from pytest_fakeai.engine.stats import Histogram

MODEL = "llama-3.1-8b-instruct"

# -- the reference, transcribed from ../shared/FIDELITY.md and the sources it names ------------------
VLLM = ("engine", "model_name")
TTFT = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    2.5,
    5,
    7.5,
    10,
    20,
    40,
    80,
    160,
    640,
    2560,
)
ITL = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80)
E2E = (0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680)
# vLLM's build_1_2_5_buckets(max_model_len) for the 131072-token default
TOKENS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
# Dynamo's generate_log_buckets defaults (lib/llm/src/http/service/metrics.rs), worked out by hand
D_DURATION = (0, 2, 4, 8, 16, 32, 64, 130, 260, 510)
D_ISL = (0, 100, 210, 430, 870, 1800, 3600, 7400, 15000, 31000, 63000, 130000)
D_OSL = (0, 100, 210, 430, 880, 1800, 3700, 7600, 16000, 32000)
D_TTFT = (0, 0.0022, 0.0047, 0.01, 0.022, 0.047, 0.1, 0.22, 0.47, 1, 2.2, 4.7, 10, 22, 48, 100, 220, 480)
D_ITL = (0, 0.0019, 0.0035, 0.0067, 0.013, 0.024, 0.045, 0.084, 0.16, 0.3, 0.56, 1.1, 2)
DCGM_LABELS = ("gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION")

# name (as the TYPE line has it) -> (type, label names without "le", bucket bounds or None)
REFERENCE: dict[str, tuple[str, tuple[str, ...], tuple[float, ...] | None]] = {
    "vllm:num_requests_running": ("gauge", VLLM, None),
    "vllm:num_requests_waiting": ("gauge", VLLM, None),
    "vllm:kv_cache_usage_perc": ("gauge", VLLM, None),
    "vllm:prompt_tokens_total": ("counter", VLLM, None),
    "vllm:generation_tokens_total": ("counter", VLLM, None),
    "vllm:request_success_total": ("counter", ("engine", "finished_reason", "model_name"), None),
    "vllm:prefix_cache_queries_total": ("counter", VLLM, None),
    "vllm:prefix_cache_hits_total": ("counter", VLLM, None),
    "vllm:num_preemptions_total": ("counter", VLLM, None),
    "vllm:time_to_first_token_seconds": ("histogram", VLLM, TTFT),
    "vllm:inter_token_latency_seconds": ("histogram", VLLM, ITL),
    "vllm:e2e_request_latency_seconds": ("histogram", VLLM, E2E),
    "vllm:request_queue_time_seconds": ("histogram", VLLM, E2E),
    "vllm:request_prefill_time_seconds": ("histogram", VLLM, E2E),
    "vllm:request_decode_time_seconds": ("histogram", VLLM, E2E),
    "vllm:request_prompt_tokens": ("histogram", VLLM, TOKENS),
    "vllm:request_generation_tokens": ("histogram", VLLM, TOKENS),
    "dynamo_frontend_requests_total": (
        "counter",
        ("endpoint", "error_type", "model", "request_type", "status"),
        None,
    ),
    "dynamo_frontend_inflight_requests": ("gauge", ("model",), None),
    "dynamo_frontend_queued_requests": ("gauge", ("model",), None),
    "dynamo_frontend_disconnected_clients": ("gauge", (), None),
    "dynamo_frontend_output_tokens_total": ("counter", ("model",), None),
    "dynamo_frontend_request_duration_seconds": ("histogram", ("model",), D_DURATION),
    "dynamo_frontend_time_to_first_token_seconds": ("histogram", ("model",), D_TTFT),
    "dynamo_frontend_inter_token_latency_seconds": ("histogram", ("model",), D_ITL),
    "dynamo_frontend_input_sequence_tokens": ("histogram", ("model",), D_ISL),
    "dynamo_frontend_output_sequence_tokens": ("histogram", ("model",), D_OSL),
    "dynamo_frontend_cached_tokens": ("histogram", ("model",), D_ISL),
    **{
        name: (kind, DCGM_LABELS, None)
        for kind, names in (
            (
                "gauge",
                (
                    "DCGM_FI_DEV_SM_CLOCK",
                    "DCGM_FI_DEV_MEM_CLOCK",
                    "DCGM_FI_DEV_GPU_TEMP",
                    "DCGM_FI_DEV_MEMORY_TEMP",
                    "DCGM_FI_DEV_POWER_USAGE",
                    "DCGM_FI_DEV_GPU_UTIL",
                    "DCGM_FI_DEV_MEM_COPY_UTIL",
                    "DCGM_FI_DEV_ENC_UTIL",
                    "DCGM_FI_DEV_DEC_UTIL",
                    "DCGM_FI_DEV_XID_ERRORS",
                    "DCGM_FI_DEV_FB_FREE",
                    "DCGM_FI_DEV_FB_USED",
                    "DCGM_FI_DEV_FB_RESERVED",
                    "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
                    "DCGM_FI_PROF_DRAM_ACTIVE",
                    "DCGM_FI_PROF_PCIE_TX_BYTES",
                    "DCGM_FI_PROF_PCIE_RX_BYTES",
                ),
            ),
            (
                "counter",
                (
                    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
                    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
                    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
                    "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
                ),
            ),
        )
        for name in names
    },
}
DCGM_HELP = {"DCGM_FI_DEV_SM_CLOCK": "SM clock frequency (in MHz).", "DCGM_FI_DEV_POWER_USAGE": "Power draw (in W)."}


# -- helpers ---------------------------------------------------------------------------------------
def _families(text: str) -> dict[str, tuple[str, list[Sample]]]:
    """TYPE-line name -> (type, samples), as a Prometheus server would read the text."""
    out: dict[str, tuple[str, list[Sample]]] = {}
    for family in text_string_to_metric_families(text):
        name = (
            family.name + "_total" if family.type == "counter" and not family.name.startswith("DCGM") else family.name
        )
        out[name] = (family.type, list(family.samples))
    return out


def _value(text: str, sample: str, **labels: str) -> float:
    """The sum of the samples named ``sample`` whose labels include ``labels``."""
    total, found = 0.0, False
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
                found = True
    assert found, f"no {sample} {labels}"
    return total


def _buckets(text: str, family: str, **labels: str) -> list[tuple[float, float]]:
    out = []
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == family + "_bucket" and all(s.labels.get(k) == v for k, v in labels.items()):
                out.append((float(s.labels["le"]), s.value))
    return out


def _traffic(sim: FakeAI) -> str:
    """Unary and streamed chats (one prompt repeated: KV hits), a completion, an embedding, an injected 500."""
    client = sim.client(max_retries=0)
    with pytest.raises(openai.InternalServerError):  # error_sequence="500": the first request fails
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "fail"}])
    prompt = " ".join(f"token{i}" for i in range(200))
    for i in range(3):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}], max_tokens=20 + i)
    for _ in range(2):
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt + " more"}], stream=True
        )
        for _ in stream:
            pass
    client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=5)
    client.embeddings.create(model="text-embedding-3-small", input="hello")
    return sim.metrics.prometheus()


@pytest.fixture(scope="module")
def served() -> tuple[FakeAI, str]:
    sim = FakeAI(latency="h100-8b", error_sequence="500", seed=11)
    return sim, _traffic(sim)


# -- shape -----------------------------------------------------------------------------------------
def test_every_family_matches_the_reference(served: tuple[FakeAI, str]) -> None:
    _, text = served
    families = _families(text)
    assert set(families) == set(REFERENCE), "families missing or unexpected"
    for name, (kind, labels, bounds) in REFERENCE.items():
        got_kind, samples = families[name]
        assert got_kind == kind, name
        assert samples, f"{name} has no series"
        for s in samples:
            names = tuple(k for k in s.labels if k != "le")
            if name.startswith("DCGM"):
                assert names == labels, name  # dcgm-exporter's order
            else:
                assert set(names) == set(labels), name
        if bounds is not None:
            les = sorted({float(s.labels["le"]) for s in samples if s.name.endswith("_bucket")})
            assert les == [*map(float, bounds), math.inf], name


def test_type_lines_and_help_are_written_as_the_real_servers_write_them(served: tuple[FakeAI, str]) -> None:
    _, text = served
    lines = text.splitlines()
    assert "# TYPE vllm:prompt_tokens_total counter" in lines
    assert "# TYPE vllm:time_to_first_token_seconds histogram" in lines
    assert "# TYPE dynamo_frontend_requests_total counter" in lines
    assert "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter" in lines  # no _total on DCGM counters
    assert not any(line.startswith("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION_total") for line in lines)
    for name, help_text in DCGM_HELP.items():
        assert f"# HELP {name} {help_text}" in lines
    sm = next(line for line in lines if line.startswith("DCGM_FI_DEV_SM_CLOCK{"))
    assert sm.startswith('DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-')
    assert ',modelName="NVIDIA H100 80GB HBM3",Hostname="fakeai-node-0",DCGM_FI_DRIVER_VERSION="' in sm
    assert not any(line.startswith("DCGM_FI_DRIVER_VERSION") for line in lines)  # a label, not a metric
    assert {f.name for f in DCGM_FIELDS} == {n for n in REFERENCE if n.startswith("DCGM")}


def test_histograms_are_cumulative_and_end_with_the_count(served: tuple[FakeAI, str]) -> None:
    _, text = served
    for family in text_string_to_metric_families(text):
        if family.type != "histogram":
            continue
        last = ""
        series: dict[tuple[tuple[str, str], ...], list[float]] = {}
        counts: dict[tuple[tuple[str, str], ...], float] = {}
        for s in family.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            if s.name.endswith("_bucket"):
                series.setdefault(key, []).append(s.value)
                last = s.labels["le"]
            elif s.name.endswith("_count"):
                counts[key] = s.value
        assert last == "+Inf", family.name
        for key, values in series.items():
            assert values == sorted(values), family.name
            assert values[-1] == counts[key], family.name


def test_vllm_and_dynamo_text_is_what_generate_latest_writes(served: tuple[FakeAI, str]) -> None:
    sim, _ = served
    exp = exposition(sim.engine)
    registry = CollectorRegistry()
    registry.register(exp.collectors["vllm"])
    registry.register(exp.collectors["dynamo"])
    assert exp.text("vllm,dynamo") == generate_latest(registry).decode()


def test_the_text_is_split_by_family_group(served: tuple[FakeAI, str]) -> None:
    sim, _ = served
    for group, prefix in (("vllm", "vllm:"), ("dynamo", "dynamo_frontend_"), ("dcgm", "DCGM_FI_")):
        names = {f.name for f in text_string_to_metric_families(sim.metrics.prometheus(group))}
        assert names and all(n.startswith(prefix) for n in names), group
    with pytest.raises(ValueError, match="unknown metric families"):
        sim.metrics.prometheus("vllm,nvidia")


# -- numbers ---------------------------------------------------------------------------------------
def test_vllm_numbers_equal_fakeai_metrics(served: tuple[FakeAI, str]) -> None:
    sim, text = served
    m = sim.metrics
    model = next(iter(m.stats.models))  # the id the registry resolves MODEL to
    tokens = m.tokens(model)
    assert tokens.prompt > 0 and tokens.completion > 0 and tokens.cached > 0
    assert _value(text, "vllm:prompt_tokens_total", model_name=model) == tokens.prompt
    assert _value(text, "vllm:generation_tokens_total", model_name=model) == tokens.completion
    assert _value(text, "vllm:prefix_cache_hits_total", model_name=model) == tokens.cached
    queries = _value(text, "vllm:prefix_cache_queries_total", model_name=model)
    assert tokens.cached / queries == m.kv_hit_rate(model)
    latency = m.latency(model)
    assert _value(text, "vllm:time_to_first_token_seconds_count", model_name=model) == latency["ttft"].count == 6
    assert _value(text, "vllm:time_to_first_token_seconds_sum", model_name=model) == latency["ttft"].sum
    assert _value(text, "vllm:inter_token_latency_seconds_count", model_name=model) == latency["itl"].count
    assert _value(text, "vllm:inter_token_latency_seconds_sum", model_name=model) == latency["itl"].sum
    assert _value(text, "vllm:e2e_request_latency_seconds_sum", model_name=model) == latency["e2e"].sum
    assert latency["ttft"].sum > 0  # h100-8b: real latencies
    assert _value(text, "vllm:request_success_total", model_name=model) == 6
    assert _value(text, "vllm:num_preemptions_total", model_name=model) == 0
    assert _value(text, "vllm:num_requests_running", model_name=model) == 0  # all done
    ttft = sorted(latency["ttft"].values)
    for bound, n in _buckets(text, "vllm:time_to_first_token_seconds", model_name=model):
        assert n == sum(1 for v in ttft if v <= bound)


def test_dynamo_numbers_equal_fakeai_metrics(served: tuple[FakeAI, str]) -> None:
    sim, text = served
    m = sim.metrics
    model = next(iter(m.stats.models))
    chat = "chat_completions"
    assert _value(text, "dynamo_frontend_requests_total", endpoint=chat) == m.requests(endpoint="/v1/chat/completions")
    assert _value(text, "dynamo_frontend_requests_total", endpoint=chat, request_type="stream") == m.requests(
        endpoint="/v1/chat/completions", streamed=True
    )
    assert _value(text, "dynamo_frontend_requests_total", status="error", error_type="internal") == 1 == m.errors()
    assert _value(text, "dynamo_frontend_requests_total", endpoint="completions", status="success") == 1
    assert _value(text, "dynamo_frontend_requests_total", endpoint="embeddings") == 1
    total = _value(text, "dynamo_frontend_requests_total")
    assert total == sum(m.requests(endpoint=e) for e in ("chat.completions", "completions", "embeddings"))
    assert _value(text, "dynamo_frontend_output_tokens_total", model=model) == m.tokens(model).completion
    latency = m.latency(model)
    for family, dist in (
        ("time_to_first_token_seconds", latency["ttft"]),
        ("inter_token_latency_seconds", latency["itl"]),
    ):
        name = "dynamo_frontend_" + family
        assert _value(text, name + "_count", model=model) == dist.count
        assert _value(text, name + "_sum", model=model) == dist.sum
        values = sorted(dist.values)  # every value: the reservoir is not full, so the buckets are exact
        for bound, n in _buckets(text, name, model=model):
            assert n == sum(1 for v in values if v <= bound), (family, bound)
    assert _value(text, "dynamo_frontend_request_duration_seconds_sum", model=model) == latency["e2e"].sum
    assert _value(text, "dynamo_frontend_cached_tokens_sum", model=model) == m.tokens(model).cached
    assert _value(text, "dynamo_frontend_input_sequence_tokens_sum", model=model) == m.tokens(model).prompt
    assert _value(text, "dynamo_frontend_disconnected_clients") == 0


def test_dynamo_buckets_are_generate_log_buckets() -> None:
    expected = {
        "request_duration_seconds": D_DURATION,
        "input_sequence_tokens": D_ISL,
        "output_sequence_tokens": D_OSL,
        "cached_tokens": D_ISL,
        "time_to_first_token_seconds": D_TTFT,
        "inter_token_latency_seconds": D_ITL,
    }
    assert {k: tuple(map(float, v)) for k, v in expected.items()} == DYNAMO_BUCKETS
    assert log_buckets(1.0, 10.0, 1 + 1) == (0.0, 10.0)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (200, ""),
        (400, "validation"),
        (401, "validation"),
        (404, "not_found"),
        (429, "overload"),
        (503, "overload"),
        (500, "internal"),
        (502, "internal"),
        (501, "not_implemented"),
        (0, "cancelled"),
    ],
)
def test_dynamo_error_types(status: int, error_type: str) -> None:
    assert dynamo_error_type(status) == error_type


def test_rebucketing_is_exact_until_the_reservoir_overflows_then_keeps_count_and_sum() -> None:
    h = Histogram((1.0, 10.0), size=100, seed=1)
    values = [0.05 * i for i in range(100)]
    h.observe_many(values)
    cumulative, total = _Hist.of(h, values=True).rebucketed((0.5, 2.0, 4.0))
    assert cumulative == [(0.5, 11), (2.0, 41), (4.0, 81), (math.inf, 100)]
    assert total == h.sum
    h.observe_many([0.05 * i for i in range(100, 1000)])  # 1000 values, 100 kept
    cumulative, total = _Hist.of(h, values=True).rebucketed((0.5, 25.0, 100.0))
    counts = [n for _, n in cumulative]
    assert counts == sorted(counts) and counts[-1] == h.count == 1000 and counts[-2] == 1000
    assert total == h.sum
    assert counts[1] % 10 == 0 and 300 < counts[1] < 700  # half the values are <= 25; each kept one stands for 10


def test_output_sequence_histogram_leaves_out_empty_outputs() -> None:
    h = Histogram((1.0,), size=10)
    h.observe_many([0, 0, 3])
    cumulative, _ = _Hist.of(h, values=True).rebucketed((0.0, 100.0), skip_zero=True)
    assert cumulative == [(0.0, 0), (100.0, 1), (math.inf, 1)]


# -- DCGM ------------------------------------------------------------------------------------------
def _gpus(text: str) -> dict[str, dict[str, float]]:
    """field -> gpu index -> value (the parser reads DCGM's counters as OpenMetrics ``<name>_total`` samples)."""
    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples if family.name.startswith("DCGM_") else ():
            out.setdefault(family.name, {})[s.labels["gpu"]] = s.value
    return out


def _check_bounds(gpus: dict[str, dict[str, float]]) -> None:
    h100 = GPU_PRESETS["H100"]
    assert len(gpus["DCGM_FI_DEV_GPU_UTIL"]) == 8
    for i in gpus["DCGM_FI_DEV_GPU_UTIL"]:
        g = {name: values[i] for name, values in gpus.items()}
        assert 0 <= g["DCGM_FI_DEV_GPU_UTIL"] <= 100
        assert 0 <= g["DCGM_FI_DEV_MEM_COPY_UTIL"] <= 100
        assert g["DCGM_FI_DEV_ENC_UTIL"] == g["DCGM_FI_DEV_DEC_UTIL"] == 0
        assert 0.9 * h100.idle_power_w <= g["DCGM_FI_DEV_POWER_USAGE"] <= h100.max_power_w
        assert h100.idle_temp_c - 3 <= g["DCGM_FI_DEV_GPU_TEMP"] <= h100.max_temp_c + 3
        assert h100.memory_idle_temp_c - 3 <= g["DCGM_FI_DEV_MEMORY_TEMP"] <= h100.memory_max_temp_c + 3
        assert h100.sm_clock_idle_mhz <= g["DCGM_FI_DEV_SM_CLOCK"] <= h100.sm_clock_max_mhz
        assert g["DCGM_FI_DEV_MEM_CLOCK"] == h100.mem_clock_mhz
        fb = g["DCGM_FI_DEV_FB_USED"] + g["DCGM_FI_DEV_FB_FREE"] + g["DCGM_FI_DEV_FB_RESERVED"]
        assert fb == h100.memory_mib
        for ratio in ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "DCGM_FI_PROF_DRAM_ACTIVE"):
            assert 0 <= g[ratio] <= 1
        for rate in ("DCGM_FI_PROF_PCIE_TX_BYTES", "DCGM_FI_PROF_PCIE_RX_BYTES"):
            assert 0 < g[rate] <= h100.pcie_max_bytes_per_s
        assert g["DCGM_FI_DEV_XID_ERRORS"] == g["DCGM_FI_DEV_PCIE_REPLAY_COUNTER"] == 0
        assert g["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] > 0


async def _under_load(sim: FakeAI, n: int) -> tuple[str, str]:
    """Open ``n`` streams at once; scrape while they run (vLLM + DCGM), then after they are read."""
    client = sim.async_client(max_retries=0)

    async def start(i: int) -> Any:
        return await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"request {i}"}],
            max_tokens=200,
            stream=True,
            extra_body={"ignore_eos": True},
        )

    streams = await asyncio.gather(*(start(i) for i in range(n)))
    during = sim.metrics.prometheus("vllm,dynamo,dcgm")

    async def drain(stream: Any) -> None:
        async for _ in stream:
            pass

    await asyncio.gather(*(drain(s) for s in streams))
    return during, sim.metrics.prometheus("dcgm")


def test_dcgm_values_are_physical_and_follow_the_load() -> None:
    sim = FakeAI(latency="h100-8b", max_num_seqs=8, seed=5)
    idle_text = sim.metrics.prometheus("dcgm")
    idle = _gpus(idle_text)
    _check_bounds(idle)
    assert set(idle["DCGM_FI_DEV_GPU_UTIL"].values()) == {0}
    during_text, after_text = asyncio.run(_under_load(sim, 12))
    during, after = _gpus(during_text), _gpus(after_text)
    _check_bounds(during)
    _check_bounds(after)
    model = next(iter(sim.metrics.stats.models))
    # 12 requests, 8 at a time: a full batch, 4 waiting
    assert _value(during_text, "vllm:num_requests_running", model_name=model) == 8
    waiting = _value(during_text, "vllm:num_requests_waiting", model_name=model)
    assert _value(during_text, "dynamo_frontend_inflight_requests", model=model) == 8 + waiting
    assert _value(during_text, "dynamo_frontend_queued_requests", model=model) == waiting
    assert _value(during_text, "vllm:kv_cache_usage_perc", model_name=model) > 0
    for i in during["DCGM_FI_DEV_GPU_UTIL"]:
        assert during["DCGM_FI_DEV_GPU_UTIL"][i] > 80  # a full batch
        assert during["DCGM_FI_DEV_POWER_USAGE"][i] > 5 * idle["DCGM_FI_DEV_POWER_USAGE"][i]
        assert during["DCGM_FI_DEV_SM_CLOCK"][i] > idle["DCGM_FI_DEV_SM_CLOCK"][i]
        assert after["DCGM_FI_DEV_GPU_UTIL"][i] == 0  # the batch is done
        for counter in ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"):
            assert idle[counter][i] <= during[counter][i] <= after[counter][i]  # counters never go down
        assert after["DCGM_FI_DEV_GPU_TEMP"][i] >= idle["DCGM_FI_DEV_GPU_TEMP"][i]
    # the same simulated span at idle (same seed: same GPUs) costs less energy than the busy one
    quiet = FakeAI(latency="h100-8b", max_num_seqs=8, seed=5)
    quiet.clock.advance(sim.clock.elapsed())
    quiet_energy = _gpus(quiet.metrics.prometheus("dcgm"))["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"]
    assert sim.clock.elapsed() > 1.0
    for i, busy in after["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"].items():
        assert busy > quiet_energy[i] + 100_000  # > 100 J more


def test_requests_past_the_batch_show_as_waiting() -> None:
    sim = FakeAI(latency="h100-8b", max_num_seqs=8, seed=5)
    during, _ = asyncio.run(_under_load(sim, 12))
    model = next(iter(sim.metrics.stats.models))
    assert _value(during, "vllm:num_requests_running", model_name=model) == 8
    assert _value(during, "vllm:num_requests_waiting", model_name=model) == 4
    assert _value(during, "dynamo_frontend_inflight_requests", model=model) == 12
    assert _value(during, "dynamo_frontend_queued_requests", model=model) == 4


# -- isolation and lightness -----------------------------------------------------------------------
def test_two_simulators_never_share_a_registry() -> None:
    busy, quiet = FakeAI(latency="h100-8b"), FakeAI(latency="h100-8b")
    busy.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert exposition(busy.engine).registry is not exposition(quiet.engine).registry
    assert exposition(busy.engine) is exposition(busy.engine)
    assert "vllm:prompt_tokens_total{" in busy.metrics.prometheus("vllm")
    assert "vllm:prompt_tokens_total{" not in quiet.metrics.prometheus("vllm")
    assert b"vllm:" not in generate_latest(REGISTRY)  # never the global registry


def test_reset_starts_a_fresh_exposition() -> None:
    sim = FakeAI(latency="h100-8b")
    sim.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    before = exposition(sim.engine)
    sim.reset()
    assert exposition(sim.engine) is not before
    assert "vllm:prompt_tokens_total{" not in sim.metrics.prometheus("vllm")


def test_prometheus_client_loads_only_when_the_text_is_asked_for() -> None:
    code = (
        "import sys\n"
        "from pytest_fakeai import FakeAI\n"
        "sim = FakeAI()\n"
        "sim.client().chat.completions.create(model='gpt-4o', messages=[{'role': 'user', 'content': 'hi'}])\n"
        "print('prometheus_client' in sys.modules)\n"
        "sim.metrics.prometheus()\n"
        "print('prometheus_client' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def _all_samples(text: str) -> Iterator[Sample]:
    for family in text_string_to_metric_families(text):
        yield from family.samples


def test_an_idle_simulator_still_serves_every_family_header() -> None:
    text = FakeAI().metrics.prometheus()
    headers = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert headers == set(REFERENCE)
    assert {s.name.split("{")[0] for s in _all_samples(text)} >= {"dynamo_frontend_disconnected_clients"}
