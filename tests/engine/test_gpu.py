"""The GPU node: presets as DCGM names them, physical bounds, counters, determinism, load response."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_fakeai.engine.gpu import GPU_PRESETS, GpuNode, GpuSample

UUID = re.compile(r"^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BUS = re.compile(r"^[0-9A-F]{8}:[0-9A-F]{2}:00\.0$")

unit = st.floats(min_value=0.0, max_value=1.0)
step = st.tuples(
    st.floats(min_value=0.0, max_value=120.0),  # seconds since the previous step
    unit,  # load
    unit,  # kv usage
    st.integers(min_value=0, max_value=256),  # active requests
    st.floats(min_value=0.0, max_value=50_000.0),  # tokens/s
)
timelines = st.lists(step, min_size=1, max_size=25)
kinds = st.sampled_from(sorted(GPU_PRESETS))

Step = tuple[float, float, float, int, float]


def run(node: GpuNode, timeline: list[Step], start: float = 0.0) -> list[list[GpuSample]]:
    """Drive ``node`` along ``timeline`` and sample it after every step."""
    now = start
    seen = []
    for dt, load, kv, active, tps in timeline:
        now += dt
        node.update(now, load=load, kv_usage=kv, active_requests=active, tokens_per_s=tps)
        seen.append(node.gpus(now))
    return seen


def sustained(kind: str, load: float, seconds: float = 600.0, seed: int = 0) -> list[GpuSample]:
    node = GpuNode(kind, seed=seed)
    node.update(0.0, load=load, kv_usage=0.5, active_requests=8 if load else 0, tokens_per_s=2000.0 * load)
    return node.gpus(seconds)


# -- presets and identity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "model_name", "memory", "tdp"),
    [
        ("H100", "NVIDIA H100 80GB HBM3", 81559, 700),
        ("H200", "NVIDIA H200", 143771, 700),
        ("A100", "NVIDIA A100-SXM4-80GB", 81920, 400),
        ("B200", "NVIDIA B200", 183359, 1000),
        ("L40S", "NVIDIA L40S", 46068, 350),
    ],
)
def test_presets_are_named_as_nvidia_smi_reports_them(kind: str, model_name: str, memory: int, tdp: int) -> None:
    p = GPU_PRESETS[kind]
    assert (p.name, p.model_name, p.memory_mib, p.max_power_w) == (kind, model_name, memory, tdp)
    assert 0 < p.idle_power_w < p.max_power_w
    assert p.idle_temp_c < p.max_temp_c and p.memory_idle_temp_c < p.memory_max_temp_c
    assert p.sm_clock_idle_mhz < p.sm_clock_max_mhz
    assert (p.sm_clock_max_mhz - p.sm_clock_idle_mhz) % 15 == 0  # NVIDIA clocks move in 15 MHz steps
    assert p.mem_clock_idle_mhz <= p.mem_clock_mhz
    assert len(p.pcie_buses) == len(set(p.pcie_buses)) == 8
    assert 0 < p.reserved_mib < p.memory_mib // 50


def test_identity_labels() -> None:
    samples = GpuNode("H100", seed=3, hostname="dgx-7").gpus(0.0)
    assert [s.gpu for s in samples] == [str(i) for i in range(8)] and [s.index for s in samples] == list(range(8))
    assert [s.device for s in samples] == [f"nvidia{i}" for i in range(8)]
    assert samples[0].pci_bus_id == "00000000:18:00.0" and samples[7].pci_bus_id == "00000000:DB:00.0"
    assert all(UUID.match(s.uuid) for s in samples) and len({s.uuid for s in samples}) == 8
    assert {(s.model_name, s.hostname, s.driver_version) for s in samples} == {
        ("NVIDIA H100 80GB HBM3", "dgx-7", "570.124.06")
    }
    assert list(samples[0].labels()) == [
        "gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION",
    ]  # fmt: skip


def test_uuids_follow_seed_and_host_only() -> None:
    uuids = [s.uuid for s in GpuNode(seed=1).gpus(0.0)]
    assert uuids == [s.uuid for s in GpuNode(seed=1).gpus(50.0)]
    assert not set(uuids) & {s.uuid for s in GpuNode(seed=2).gpus(0.0)}
    assert not set(uuids) & {s.uuid for s in GpuNode(seed=1, hostname="other").gpus(0.0)}


def test_more_gpus_than_a_board_go_to_the_next_pci_domain() -> None:
    node = GpuNode("A100", 10)
    buses = [s.pci_bus_id for s in node.gpus(0.0)]
    assert buses[0] == "00000000:07:00.0" and buses[8] == "00000001:07:00.0" and buses[9] == "00000001:0F:00.0"
    assert all(BUS.match(b) for b in buses) and node.count == 10 and node.kind == "A100"


def test_kind_is_case_insensitive_and_unknown_kinds_name_the_choices() -> None:
    assert GpuNode("h200").kind == "H200"
    with pytest.raises(ValueError, match="unknown GPU kind 'V100'; choose one of: H100, H200, A100, B200, L40S"):
        GpuNode("V100")


@pytest.mark.parametrize(
    "kwargs",
    [{"count": 0}, {"count": True}, {"weights_fraction": 0.5, "kv_fraction": 0.6}, {"thermal_tau_s": 0.0}],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        GpuNode(**kwargs)  # type: ignore[arg-type]


# -- an idle node -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(GPU_PRESETS))
def test_idle_node_reads_idle(kind: str) -> None:
    p = GPU_PRESETS[kind]
    for s in GpuNode(kind).gpus(3600.0):
        assert s.gpu_util == s.mem_copy_util == s.enc_util == s.dec_util == 0
        assert s.gr_engine_active == s.tensor_active == s.dram_active == 0.0
        assert s.sm_clock_mhz == p.sm_clock_idle_mhz and s.mem_clock_mhz == p.mem_clock_idle_mhz
        assert abs(s.power_w - p.idle_power_w) <= 0.03 * p.idle_power_w + 0.5
        assert abs(s.gpu_temp_c - p.idle_temp_c) <= 2.5
        assert s.pcie_tx_bytes < 200_000 and s.nvlink_bandwidth_total == 0
        assert s.fb_used_mib == pytest.approx(0.10 * p.memory_mib, abs=256)


# -- properties over random timelines ---------------------------------------------------------


def check_bounds(node: GpuNode, samples: list[GpuSample]) -> None:
    p = node.preset
    for s in samples:
        assert 0 <= s.gpu_util <= 100 and 0 <= s.mem_copy_util <= 100 and s.enc_util == s.dec_util == 0
        for ratio in (s.gr_engine_active, s.tensor_active, s.dram_active):
            assert 0.0 <= ratio <= 1.0
        assert 0.9 * p.idle_power_w - 0.5 <= s.power_w <= p.max_power_w
        assert p.sm_clock_idle_mhz <= s.sm_clock_mhz <= p.sm_clock_max_mhz
        assert s.mem_clock_mhz in (p.mem_clock_idle_mhz, p.mem_clock_mhz)
        assert p.idle_temp_c - 2.5 <= s.gpu_temp_c <= p.max_temp_c + 2.5
        assert p.memory_idle_temp_c - 2.5 <= s.memory_temp_c <= p.memory_max_temp_c + 2.5
        assert 0 <= s.fb_used_mib <= p.memory_mib - p.reserved_mib
        assert s.fb_free_mib >= 0 and s.fb_used_mib + s.fb_free_mib + s.fb_reserved_mib == s.fb_total_mib
        assert 0 < s.pcie_tx_bytes <= p.pcie_max_bytes_per_s and 0 < s.pcie_rx_bytes <= p.pcie_max_bytes_per_s
        assert s.xid_errors == s.pcie_replay == s.correctable_remapped_rows == s.uncorrectable_remapped_rows == 0


COUNTERS = ("total_energy_mj", "nvlink_bandwidth_total", "pcie_replay", "correctable_remapped_rows")


@settings(max_examples=60, deadline=None)
@given(kind=kinds, count=st.integers(1, 8), seed=st.integers(0, 2**32), timeline=timelines)
def test_bounds_and_monotonic_counters(kind: str, count: int, seed: int, timeline: list[Step]) -> None:
    node = GpuNode(kind, count, seed=seed)
    before = node.gpus(0.0)
    for samples in run(node, timeline):
        assert len(samples) == count
        check_bounds(node, samples)
        for old, new in zip(before, samples, strict=True):
            for name in COUNTERS:
                assert getattr(new, name) >= getattr(old, name), name
        before = samples


@settings(max_examples=40, deadline=None)
@given(kind=kinds, seed=st.integers(0, 2**32), timeline=timelines)
def test_same_seed_and_timeline_same_samples(kind: str, seed: int, timeline: list[Step]) -> None:
    assert run(GpuNode(kind, seed=seed), timeline) == run(GpuNode(kind, seed=seed), timeline)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), timeline=timelines, cuts=st.lists(unit, max_size=4))
def test_sampling_more_often_does_not_change_the_physics(seed: int, timeline: list[Step], cuts: list[float]) -> None:
    """Extra gpus() calls inside an interval leave temperature and energy where they would be."""
    plain, probed = GpuNode(seed=seed), GpuNode(seed=seed)
    now = 0.0
    for dt, load, kv, active, tps in timeline:
        for cut in sorted(cuts):
            probed.gpus(now + cut * dt)
        now += dt
        for node in (plain, probed):
            node.update(now, load=load, kv_usage=kv, active_requests=active, tokens_per_s=tps)
    a, b = plain.gpus(now + 5.0), probed.gpus(now + 5.0)
    for x, y in zip(a, b, strict=True):
        assert x.total_energy_mj == pytest.approx(y.total_energy_mj, abs=2)
        assert x.nvlink_bandwidth_total == pytest.approx(y.nvlink_bandwidth_total, abs=1)
        assert dataclasses.replace(x, total_energy_mj=0, nvlink_bandwidth_total=0, gpu_temp_c=0, memory_temp_c=0) == (
            dataclasses.replace(y, total_energy_mj=0, nvlink_bandwidth_total=0, gpu_temp_c=0, memory_temp_c=0)
        )
        assert abs(x.gpu_temp_c - y.gpu_temp_c) <= 1  # the lag agrees to rounding


@settings(max_examples=30, deadline=None)
@given(kind=kinds, low=st.floats(0.0, 0.85), gap=st.floats(0.1, 1.0), seed=st.integers(0, 2**16))
def test_higher_sustained_load_reads_higher(kind: str, low: float, gap: float, seed: int) -> None:
    high = min(1.0, low + gap)
    for a, b in zip(sustained(kind, low, seed=seed), sustained(kind, high, seed=seed), strict=True):
        assert b.gpu_util > a.gpu_util
        assert b.power_w > a.power_w
        assert b.gpu_temp_c >= a.gpu_temp_c and b.memory_temp_c >= a.memory_temp_c
        assert b.gr_engine_active > a.gr_engine_active and b.tensor_active > a.tensor_active
        assert b.dram_active > a.dram_active and b.sm_clock_mhz >= a.sm_clock_mhz
    idle, full = sustained(kind, 0.0), sustained(kind, 1.0)
    for a, b in zip(idle, full, strict=True):
        assert b.gpu_temp_c >= a.gpu_temp_c + 20 and b.power_w > 4 * a.power_w


# -- the model in detail ----------------------------------------------------------------------


def test_util_follows_aiperf_formula() -> None:
    for load in (0.1, 0.5, 1.0):
        for s in sustained("H100", load):
            assert abs(s.gpu_util - (5 + 95 * load)) <= 5  # per-GPU share (>= 0.97) and jitter
    assert all(s.gpu_util >= 95 for s in sustained("H100", 1.0))


def test_an_active_request_makes_the_gpu_busy_even_at_zero_load() -> None:
    node = GpuNode()
    node.update(1.0, load=0.0, kv_usage=0.0, active_requests=1)
    assert all(s.gpu_util >= 3 for s in node.gpus(1.0))


def test_temperature_trails_load_with_a_30_second_lag() -> None:
    p = GPU_PRESETS["H100"]
    node = GpuNode("H100", 1, seed=5)
    offset = node.gpus(0.0)[0].gpu_temp_c - p.idle_temp_c
    node.update(0.0, load=1.0, kv_usage=0.2)
    assert node.gpus(0.0)[0].gpu_temp_c == p.idle_temp_c + offset  # no time, no heat
    share = node._share[0]
    for t in (10.0, 30.0, 90.0):
        expected = p.idle_temp_c + offset + (p.max_temp_c - p.idle_temp_c) * share * (1 - math.exp(-t / 30.0))
        assert abs(node.gpus(t)[0].gpu_temp_c - expected) <= 1.0
    node.update(90.0, load=0.0, kv_usage=0.0)  # load gone: power drops at once, heat stays a while
    cooling = node.gpus(100.0)[0]
    assert cooling.gpu_util == 0 and cooling.power_w < 1.1 * p.idle_power_w
    assert cooling.gpu_temp_c > p.idle_temp_c + offset + 20


def test_energy_integrates_the_power_of_each_interval() -> None:
    node = GpuNode("H100", 1, seed=9)
    idle_w, gain_w = node._idle_w[0], node._gain_w[0]
    e0 = node.gpus(0.0)[0].total_energy_mj
    node.update(10.0, load=0.5, kv_usage=0.1)  # 10 s idle
    node.update(30.0, load=0.0, kv_usage=0.1)  # 20 s at half load
    e1 = node.gpus(40.0)[0].total_energy_mj  # 10 s idle again
    assert e1 - e0 == pytest.approx(1000 * (40 * idle_w + 20 * gain_w * 0.5), abs=2)
    assert 86_400_000 * 0.9 * GPU_PRESETS["H100"].idle_power_w < e0  # a counter since boot, days ago


def test_time_going_back_is_ignored() -> None:
    node = GpuNode(seed=2)
    node.update(100.0, load=0.7, kv_usage=0.3)
    at_100 = node.gpus(100.0)
    node.update(50.0, load=0.7, kv_usage=0.3)
    assert node.gpus(20.0) == at_100
    node.update(float("nan"), load=0.7, kv_usage=0.3)
    node.update(float("inf"), load=0.7, kv_usage=0.3)
    assert node.gpus(100.0) == at_100


def test_out_of_range_inputs_are_clamped() -> None:
    node, clean = GpuNode(seed=4), GpuNode(seed=4)
    node.update(5.0, load=3.0, kv_usage=-2.0, tokens_per_s=float("nan"))
    clean.update(5.0, load=1.0, kv_usage=0.0, tokens_per_s=0.0)
    assert node.gpus(60.0) == clean.gpus(60.0)


def test_framebuffer_follows_kv_usage() -> None:
    p = GPU_PRESETS["H200"]
    node = GpuNode("H200", 2)
    node.update(1.0, load=0.5, kv_usage=1.0)
    full = node.gpus(1.0)
    assert all(s.fb_used_mib == pytest.approx(0.85 * p.memory_mib, abs=256) for s in full)
    preallocated = GpuNode("H200", 2, weights_fraction=0.92, kv_fraction=0.0)  # vLLM reserves KV up front
    assert all(s.fb_used_mib == pytest.approx(0.92 * p.memory_mib, abs=256) for s in preallocated.gpus(0.0))
    crammed = GpuNode("H200", 2, weights_fraction=0.5, kv_fraction=0.5)
    crammed.update(0.0, load=1.0, kv_usage=1.0)
    assert all(s.fb_free_mib == 0 and s.fb_used_mib == p.memory_mib - p.reserved_mib for s in crammed.gpus(0.0))


def test_interconnect_traffic_follows_tokens() -> None:
    node = GpuNode("H100", 8)
    node.update(0.0, load=0.5, kv_usage=0.2, tokens_per_s=1000.0)
    busy = node.gpus(10.0)
    assert all(4_000_000 < s.pcie_rx_bytes < 4_600_000 for s in busy)  # 150 kB/s + 1000 x 4 KiB
    assert all(40_000 < s.nvlink_bandwidth_total <= 42_000 for s in busy)  # 10 s x 1000 x 4 MiB, in MB
    single = GpuNode("H100", 1)
    single.update(0.0, load=0.5, kv_usage=0.2, tokens_per_s=1000.0)
    assert single.gpus(10.0)[0].nvlink_bandwidth_total == 0  # no tensor parallel, no NVLink traffic
    capped = GpuNode("L40S", 8)
    capped.update(0.0, load=1.0, kv_usage=0.2, tokens_per_s=1e12)
    assert all(s.pcie_tx_bytes <= 32_000_000_000 and s.nvlink_bandwidth_total == 0 for s in capped.gpus(10.0))


def test_gpus_share_the_load_with_small_offsets() -> None:
    samples = sustained("B200", 0.6)
    utils = [s.gpu_util for s in samples]
    assert max(utils) - min(utils) <= 5 and min(utils) >= 55
    assert len({s.power_w for s in samples}) > 1  # not eight copies of one GPU


def test_jitter_changes_with_time_buckets_only() -> None:
    node = GpuNode(seed=11)
    node.update(0.0, load=0.5, kv_usage=0.5, tokens_per_s=100.0)
    a, b = node.gpus(500.1), node.gpus(500.9)
    assert [s.power_w for s in a] == [s.power_w for s in b]  # same second, same jitter
    assert [s.power_w for s in node.gpus(501.0)] != [s.power_w for s in a]


def test_set_xid() -> None:
    node = GpuNode(count=2)
    node.set_xid(1, 79)
    assert [s.xid_errors for s in node.gpus(0.0)] == [0, 79]


def test_samples_are_frozen() -> None:
    sample = GpuNode(count=1).gpus(0.0)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.gpu_util = 50  # type: ignore[misc]
