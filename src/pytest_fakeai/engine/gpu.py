"""A GPU node whose telemetry follows the simulated load: what a DCGM exporter would report.

No HTTP and no Prometheus here: :class:`GpuNode` is told the serving load as it changes
(:meth:`GpuNode.update`, cheap, called on every request start and end) and answers one
:class:`GpuSample` per GPU when asked (:meth:`GpuNode.gpus`, called per scrape).  A
metrics collector elsewhere turns samples into ``DCGM_FI_*`` series.

The model (``load`` = fraction of serving capacity in use, ``kv`` = fraction of KV-cache
blocks in use, both in [0, 1]; tensor parallel, so every GPU sees the node's load, scaled
by a fixed per-GPU share ``s`` in [0.97, 1] drawn from the seed)::

    gpu_util      0 when idle (load 0 and no active request: no kernels run), else 5 + 95·load·s (aiperf's
                  DCGM faker), ±1.5 pp jitter
    power_w       idle + (c·max − idle)·load·s, c in [0.97, 1] per GPU; ±0.4 % of max jitter; never above max
    sm_clock      idle clock at load 0, boost clock from load 0.25 up (a busy GPU runs at P0), 15 MHz steps
    mem_clock     HBM parts: fixed; GDDR parts (L40S): idle clock at load 0, full clock when busy
    gpu_temp      idle + (max − idle)·x·s, x the load through a first-order lag (tau 30 s of simulated time)
    memory_temp   the same lag between the preset's memory idle and max temperatures
    fb_used       memory·(weights_fraction + kv_fraction·kv) (default 0.10 + 0.75·kv, aiperf's formula with KV
                  usage for load) plus a small per-GPU offset; fb_free = total − used − reserved
    gr_engine     (0.03 + 0.94·load·s), tensor 0.5·load·s, dram (0.02 + 0.63·load·s + 0.15·kv); 0 when idle
    mem_copy_util 100·dram_active
    pcie tx / rx  150 kB/s background + tokens_per_s × 2 KiB (tx) / 4 KiB (rx), capped at the link's rate
    nvlink total  cumulative MB: tokens_per_s × 4 MiB per token (TP all-reduce of a 70B-class model),
                  capped at the NVLink bandwidth; 0 on one GPU or without NVLink
    energy        cumulative mJ: the jitter-free power integrated exactly over simulated time (piecewise
                  constant load), starting from a seeded uptime of 1-30 days at idle power, as a real
                  counter does
    xid, pcie replay, remapped rows   0 (a healthy node); :meth:`GpuNode.set_xid` sets a GPU's last XID

Jitter is a pure function of (seed, hostname, GPU index, whole second of simulated time),
so the same seed and timeline give identical samples on every machine.

Cost: :meth:`GpuNode.update` touches a handful of node-wide scalars, never per-GPU state:
every per-GPU quantity is linear in the node's load, so one lagged load (temperature),
one integral of load (energy) and one integral of NVLink traffic serve all GPUs, and the
per-GPU numbers are computed only in :meth:`GpuNode.gpus`.  Thread-safe.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass

from .rng import derive_seed, mix

__all__ = ["GPU_PRESETS", "GpuNode", "GpuPreset", "GpuSample"]


@dataclass(frozen=True)
class GpuPreset:
    """One GPU model as nvidia-smi and DCGM report it.

    Powers in W, temperatures in C, clocks in MHz, memory in MiB (``memory_mib`` is
    nvidia-smi's total, which includes ``reserved_mib``); ``pcie_buses`` are the bus
    numbers of an 8-GPU board, in GPU order.
    """

    name: str
    model_name: str
    memory_mib: int
    reserved_mib: int
    idle_power_w: float
    max_power_w: float
    idle_temp_c: float
    max_temp_c: float
    memory_idle_temp_c: float
    memory_max_temp_c: float
    sm_clock_idle_mhz: int
    sm_clock_max_mhz: int
    mem_clock_idle_mhz: int
    mem_clock_mhz: int
    pcie_gen: int
    pcie_max_bytes_per_s: int  # one direction, x16
    pcie_buses: tuple[int, ...]
    nvlink_links: int
    nvlink_bandwidth_gbps: int  # GB/s, all links, both directions
    driver_version: str = "570.124.06"


_GEN4 = 32_000_000_000
_GEN5 = 64_000_000_000

GPU_PRESETS: dict[str, GpuPreset] = {
    p.name: p
    for p in (
        GpuPreset(
            name="H100",
            model_name="NVIDIA H100 80GB HBM3",
            memory_mib=81559,
            reserved_mib=551,
            idle_power_w=70.0,
            max_power_w=700.0,
            idle_temp_c=30.0,
            max_temp_c=70.0,
            memory_idle_temp_c=34.0,
            memory_max_temp_c=72.0,
            sm_clock_idle_mhz=345,
            sm_clock_max_mhz=1980,
            mem_clock_idle_mhz=2619,
            mem_clock_mhz=2619,
            pcie_gen=5,
            pcie_max_bytes_per_s=_GEN5,
            pcie_buses=(0x18, 0x2A, 0x3A, 0x5D, 0x9A, 0xAB, 0xBA, 0xDB),  # DGX H100
            nvlink_links=18,
            nvlink_bandwidth_gbps=900,
        ),
        GpuPreset(
            name="H200",
            model_name="NVIDIA H200",
            memory_mib=143771,
            reserved_mib=563,
            idle_power_w=75.0,
            max_power_w=700.0,
            idle_temp_c=30.0,
            max_temp_c=68.0,
            memory_idle_temp_c=35.0,
            memory_max_temp_c=70.0,
            sm_clock_idle_mhz=345,
            sm_clock_max_mhz=1980,
            mem_clock_idle_mhz=3201,
            mem_clock_mhz=3201,
            pcie_gen=5,
            pcie_max_bytes_per_s=_GEN5,
            pcie_buses=(0x19, 0x3B, 0x4C, 0x5D, 0x9B, 0xBB, 0xCB, 0xDB),  # HGX H200
            nvlink_links=18,
            nvlink_bandwidth_gbps=900,
        ),
        GpuPreset(
            name="A100",
            model_name="NVIDIA A100-SXM4-80GB",
            memory_mib=81920,
            reserved_mib=609,
            idle_power_w=60.0,
            max_power_w=400.0,
            idle_temp_c=30.0,
            max_temp_c=65.0,
            memory_idle_temp_c=33.0,
            memory_max_temp_c=68.0,
            sm_clock_idle_mhz=210,
            sm_clock_max_mhz=1410,
            mem_clock_idle_mhz=1593,
            mem_clock_mhz=1593,
            pcie_gen=4,
            pcie_max_bytes_per_s=_GEN4,
            pcie_buses=(0x07, 0x0F, 0x47, 0x4E, 0x87, 0x90, 0xB7, 0xBD),  # DGX A100
            nvlink_links=12,
            nvlink_bandwidth_gbps=600,
        ),
        GpuPreset(
            name="B200",
            model_name="NVIDIA B200",
            memory_mib=183359,
            reserved_mib=600,
            idle_power_w=140.0,
            max_power_w=1000.0,
            idle_temp_c=28.0,
            max_temp_c=70.0,
            memory_idle_temp_c=32.0,
            memory_max_temp_c=72.0,
            sm_clock_idle_mhz=210,
            sm_clock_max_mhz=1965,
            mem_clock_idle_mhz=3996,
            mem_clock_mhz=3996,
            pcie_gen=5,
            pcie_max_bytes_per_s=_GEN5,
            pcie_buses=(0x1B, 0x43, 0x52, 0x61, 0x9D, 0xC3, 0xD1, 0xDF),  # DGX B200
            nvlink_links=18,
            nvlink_bandwidth_gbps=1800,
        ),
        GpuPreset(
            name="L40S",
            model_name="NVIDIA L40S",
            memory_mib=46068,
            reserved_mib=608,
            idle_power_w=32.0,
            max_power_w=350.0,
            idle_temp_c=28.0,
            max_temp_c=78.0,
            memory_idle_temp_c=30.0,
            memory_max_temp_c=76.0,
            sm_clock_idle_mhz=210,
            sm_clock_max_mhz=2520,
            mem_clock_idle_mhz=405,
            mem_clock_mhz=9001,
            pcie_gen=4,
            pcie_max_bytes_per_s=_GEN4,
            pcie_buses=(0x01, 0x25, 0x41, 0x61, 0x81, 0xA1, 0xC1, 0xE1),
            nvlink_links=0,
            nvlink_bandwidth_gbps=0,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class GpuSample:
    """One GPU's readings at one moment, in DCGM's units (the ``DCGM_FI_*`` field in brackets).

    ``index`` is the GPU's position, ``gpu`` the same as DCGM's ``gpu`` label text.
    Counters (``total_energy_mj``, ``pcie_replay``, ``nvlink_bandwidth_total``, the
    remapped rows) never go down along a timeline.
    """

    index: int
    gpu: str
    uuid: str
    pci_bus_id: str
    device: str
    model_name: str
    hostname: str
    driver_version: str
    sm_clock_mhz: int  # DEV_SM_CLOCK
    mem_clock_mhz: int  # DEV_MEM_CLOCK
    gpu_temp_c: int  # DEV_GPU_TEMP
    memory_temp_c: int  # DEV_MEMORY_TEMP
    power_w: float  # DEV_POWER_USAGE
    gpu_util: int  # DEV_GPU_UTIL, %
    mem_copy_util: int  # DEV_MEM_COPY_UTIL, %
    enc_util: int  # DEV_ENC_UTIL, %
    dec_util: int  # DEV_DEC_UTIL, %
    fb_total_mib: int  # DEV_FB_TOTAL (= used + free + reserved)
    fb_used_mib: int  # DEV_FB_USED
    fb_free_mib: int  # DEV_FB_FREE
    fb_reserved_mib: int  # DEV_FB_RESERVED
    total_energy_mj: int  # DEV_TOTAL_ENERGY_CONSUMPTION, counter
    xid_errors: int  # DEV_XID_ERRORS: the last XID, 0 if none
    gr_engine_active: float  # PROF_GR_ENGINE_ACTIVE, ratio
    tensor_active: float  # PROF_PIPE_TENSOR_ACTIVE, ratio
    dram_active: float  # PROF_DRAM_ACTIVE, ratio
    pcie_tx_bytes: int  # PROF_PCIE_TX_BYTES, bytes/s
    pcie_rx_bytes: int  # PROF_PCIE_RX_BYTES, bytes/s
    pcie_replay: int  # DEV_PCIE_REPLAY_COUNTER, counter
    nvlink_bandwidth_total: int  # DEV_NVLINK_BANDWIDTH_TOTAL, counter (MB)
    correctable_remapped_rows: int  # DEV_CORRECTABLE_REMAPPED_ROWS, counter
    uncorrectable_remapped_rows: int  # DEV_UNCORRECTABLE_REMAPPED_ROWS, counter

    def labels(self) -> dict[str, str]:
        """dcgm-exporter's labels in its order (``Hostname`` as releases before 2026 spell it)."""
        return {
            "gpu": self.gpu,
            "UUID": self.uuid,
            "pci_bus_id": self.pci_bus_id,
            "device": self.device,
            "modelName": self.model_name,
            "Hostname": self.hostname,
            "DCGM_FI_DRIVER_VERSION": self.driver_version,
        }


# Model constants (see the module docstring).
_UTIL_FLOOR = 5.0  # aiperf: util = 5 + 95·load
_CLOCK_KNEE = 0.25  # load from which the SM clock is at boost
_CLOCK_STEP = 15  # MHz: NVIDIA clocks move in 15 MHz steps
_PCIE_IDLE = 150_000.0  # bytes/s of background PCIe traffic
_PCIE_TX_PER_TOKEN = 2048.0  # device -> host bytes per generated token (sampled ids, logprobs)
_PCIE_RX_PER_TOKEN = 4096.0  # host -> device bytes per token (input ids, positions, block tables)
_NVLINK_MB_PER_TOKEN = 4 * 1.048576  # 4 MiB per token per GPU, in MB (TP-8 all-reduce, 70B-class model)
_INF = math.inf


def _unit(value: float) -> float:
    """Clamp to [0, 1]; NaN is 0."""
    if not value > 0.0:
        return 0.0
    return 1.0 if value > 1.0 else value


class GpuNode:
    """``count`` GPUs of one preset on one host, driven by the simulated serving load."""

    def __init__(
        self,
        kind: str = "H100",
        count: int = 8,
        *,
        seed: int = 0,
        hostname: str = "fakeai-node-0",
        start: float = 0.0,
        weights_fraction: float = 0.10,
        kv_fraction: float = 0.75,
        thermal_tau_s: float = 30.0,
    ) -> None:
        preset = GPU_PRESETS.get(kind) or GPU_PRESETS.get(str(kind).upper())
        if preset is None:
            raise ValueError(f"unknown GPU kind {kind!r}; choose one of: {', '.join(GPU_PRESETS)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"a GPU node has at least one GPU, not {count!r}")
        if not (weights_fraction >= 0.0 and kv_fraction >= 0.0 and weights_fraction + kv_fraction <= 1.0):
            raise ValueError("weights_fraction and kv_fraction are >= 0 and add up to at most 1")
        if not thermal_tau_s > 0.0:
            raise ValueError(f"thermal_tau_s must be > 0, not {thermal_tau_s!r}")
        self._preset = preset
        self._count = count
        self.hostname = hostname
        self._weights = weights_fraction
        self._kv_share = kv_fraction
        self._tau = float(thermal_tau_s)
        self._start = float(start)

        base = derive_seed(seed, "gpu-node", hostname)
        p = preset
        uptime_s = 86_400.0 * (1.0 + 29.0 * _fraction(mix(base, -1)))
        nvlink = count > 1 and p.nvlink_links > 0
        self._nvlink_cap_mb = p.nvlink_bandwidth_gbps * 1000.0 / 2 if nvlink else 0.0  # one direction
        # per-GPU constants, flat lists indexed by GPU
        self._share: list[float] = []  # s: this GPU's share of the node's load
        self._idle_w: list[float] = []
        self._gain_w: list[float] = []  # (c·max − idle)·s: watts per unit of node load
        self._temp_off: list[float] = []
        self._fb_off: list[int] = []
        self._energy0_mj: list[float] = []
        self._jitter_seed: list[int] = []
        self._static: list[tuple[str, str, str, str]] = []  # gpu label, uuid, pci bus id, device
        self._xid: list[int] = [0] * count
        for i in range(count):
            h = mix(base, i)
            share = 1.0 - 0.03 * _fraction(h)
            idle = p.idle_power_w * (1.0 + 0.03 * (2.0 * _fraction(h >> 16) - 1.0))
            top = p.max_power_w * (1.0 - 0.03 * _fraction(h >> 32))
            self._share.append(share)
            self._idle_w.append(idle)
            self._gain_w.append((top - idle) * share)
            self._temp_off.append(2.0 * (2.0 * _fraction(h >> 48) - 1.0))
            self._fb_off.append(int(256 * _fraction(mix(h, 1))))
            self._energy0_mj.append(idle * uptime_s * 1000.0)
            self._jitter_seed.append(mix(h, 2))
            digest = hashlib.blake2b(repr((seed, hostname, i)).encode(), digest_size=16).hexdigest()
            uuid = f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"
            domain, slot = divmod(i, len(p.pcie_buses))
            self._static.append((str(i), uuid, f"{domain:08X}:{p.pcie_buses[slot]:02X}:00.0", f"nvidia{i}"))

        # the timeline: node-wide scalars only, so update() costs the same for 1 or 64 GPUs
        self._lock = threading.Lock()
        self._t = self._start
        self._load = 0.0
        self._kv = 0.0
        self._active = 0
        self._tps = 0.0
        self._nvlink_rate_mb = 0.0  # MB/s of the current interval
        self._load_s = 0.0  # ∫ load dt: energy above idle is linear in it
        self._lagged = 0.0  # load through the thermal lag, in [0, 1]
        self._nvlink_mb = 0.0  # ∫ NVLink rate dt

    # -- identity ---------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self._preset.name

    @property
    def count(self) -> int:
        return self._count

    @property
    def preset(self) -> GpuPreset:
        return self._preset

    @property
    def load(self) -> float:
        """The load of the current interval, as last given to :meth:`update`."""
        return self._load

    # -- the timeline -----------------------------------------------------------------------
    def update(
        self, now: float, *, load: float, kv_usage: float, active_requests: int = 0, tokens_per_s: float = 0.0
    ) -> None:
        """The serving load changed at simulated second ``now`` (ignored if ``now`` is in the past).

        The interval since the last update is accounted at the previous load: energy at
        that power, temperature moved toward that load's target through the thermal lag.
        """
        load = _unit(load)
        kv_usage = _unit(kv_usage)
        tps = tokens_per_s if tokens_per_s > 0.0 else 0.0  # NaN -> 0
        nvlink = min(self._nvlink_cap_mb, tps * _NVLINK_MB_PER_TOKEN)
        with self._lock:
            dt = now - self._t
            if 0.0 < dt < _INF:
                self._t = now
                previous = self._load
                self._load_s += previous * dt
                self._nvlink_mb += self._nvlink_rate_mb * dt
                self._lagged = previous + (self._lagged - previous) * math.exp(-dt / self._tau)
            self._load = load
            self._kv = kv_usage
            self._active = active_requests
            self._tps = tps
            self._nvlink_rate_mb = nvlink

    def set_xid(self, index: int, xid: int) -> None:
        """Report ``xid`` as GPU ``index``'s last XID error (0 clears it), as a fault would."""
        self._xid[index] = int(xid)

    def gpus(self, now: float) -> list[GpuSample]:
        """One sample per GPU at simulated second ``now``, the current load carried on to ``now``."""
        with self._lock:
            dt = now - self._t
            if 0.0 < dt < _INF:
                self._t = now
                self._load_s += self._load * dt
                self._nvlink_mb += self._nvlink_rate_mb * dt
                self._lagged = self._load + (self._lagged - self._load) * math.exp(-dt / self._tau)
            t, load, kv, tps, active = self._t, self._load, self._kv, self._tps, self._active
            load_s, lagged, nvlink_mb = self._load_s, self._lagged, self._nvlink_mb
            xids = list(self._xid)

        p = self._preset
        elapsed = t - self._start
        bucket = math.floor(t)
        busy = load > 0.0 or active > 0
        usable = p.memory_mib - p.reserved_mib
        fb_base = p.memory_mib * (self._weights + self._kv_share * kv)
        clock_span = p.sm_clock_max_mhz - p.sm_clock_idle_mhz
        temp_span = p.max_temp_c - p.idle_temp_c
        mem_temp_span = p.memory_max_temp_c - p.memory_idle_temp_c
        mem_clock = p.mem_clock_mhz if busy else p.mem_clock_idle_mhz
        pcie_cap = float(p.pcie_max_bytes_per_s)
        tx = _PCIE_IDLE + tps * _PCIE_TX_PER_TOKEN
        rx = _PCIE_IDLE + tps * _PCIE_RX_PER_TOKEN
        out: list[GpuSample] = []
        for i in range(self._count):
            share = self._share[i]
            idle_w = self._idle_w[i]
            gain_w = self._gain_w[i]
            h = mix(self._jitter_seed[i], bucket)
            j1 = (h & 0xFFFF) / 32768.0 - 1.0  # four independent jitters in [-1, 1)
            j2 = ((h >> 16) & 0xFFFF) / 32768.0 - 1.0
            j3 = ((h >> 32) & 0xFFFF) / 32768.0 - 1.0
            j4 = ((h >> 48) & 0xFFFF) / 32768.0 - 1.0
            li = load * share
            if busy:
                util = round(min(100.0, _UTIL_FLOOR + (100.0 - _UTIL_FLOOR) * li + 1.5 * j1))
                power = idle_w + gain_w * load + 0.004 * p.max_power_w * j2
                steps = int(clock_span * min(1.0, li / _CLOCK_KNEE)) // _CLOCK_STEP
                sm_clock = p.sm_clock_idle_mhz + _CLOCK_STEP * steps
                gr = min(1.0, (0.03 + 0.94 * li) * (1.0 + 0.01 * j3))
                tensor = min(1.0, 0.5 * li * (1.0 + 0.04 * j3))
                dram = min(1.0, (0.02 + 0.63 * li + 0.15 * kv) * (1.0 + 0.03 * j4))
            else:
                util = 0
                power = idle_w + 0.5 * j2
                sm_clock = p.sm_clock_idle_mhz
                gr = tensor = dram = 0.0
            power = min(p.max_power_w, max(0.0, power))
            fb_used = min(usable, max(0, round(fb_base) + self._fb_off[i]))
            lag = lagged * share
            energy = self._energy0_mj[i] + 1000.0 * (idle_w * elapsed + gain_w * load_s)
            gpu, uuid, bus, device = self._static[i]
            out.append(
                GpuSample(
                    index=i,
                    gpu=gpu,
                    uuid=uuid,
                    pci_bus_id=bus,
                    device=device,
                    model_name=p.model_name,
                    hostname=self.hostname,
                    driver_version=p.driver_version,
                    sm_clock_mhz=sm_clock,
                    mem_clock_mhz=mem_clock,
                    gpu_temp_c=round(p.idle_temp_c + self._temp_off[i] + temp_span * lag),
                    memory_temp_c=round(p.memory_idle_temp_c + self._temp_off[i] + mem_temp_span * lag),
                    power_w=round(power, 3),
                    gpu_util=util,
                    mem_copy_util=round(100.0 * dram),
                    enc_util=0,
                    dec_util=0,
                    fb_total_mib=p.memory_mib,
                    fb_used_mib=fb_used,
                    fb_free_mib=usable - fb_used,
                    fb_reserved_mib=p.reserved_mib,
                    total_energy_mj=int(energy),
                    xid_errors=xids[i],
                    gr_engine_active=round(gr, 6),
                    tensor_active=round(tensor, 6),
                    dram_active=round(dram, 6),
                    pcie_tx_bytes=round(min(pcie_cap, tx * (1.0 + 0.05 * j4))),
                    pcie_rx_bytes=round(min(pcie_cap, rx * (1.0 + 0.05 * j1))),
                    pcie_replay=0,
                    nvlink_bandwidth_total=int(nvlink_mb * share),
                    correctable_remapped_rows=0,
                    uncorrectable_remapped_rows=0,
                )
            )
        return out


def _fraction(h: int) -> float:
    """The low 16 bits of ``h`` as a fraction in [0, 1)."""
    return (h & 0xFFFF) / 65536.0
