"""The Prometheus text a vLLM server, an NVIDIA Dynamo frontend and a DCGM exporter would serve.

Nothing is counted here: three collectors read what the engine already accumulated
(engine/stats.py, engine/serving.py, engine/gpu.py) at scrape time and build the
families with prometheus-client's ``*MetricFamily`` classes, so ``fakeai.metrics`` and
this text agree by construction.  Each simulator has its own ``CollectorRegistry``
(kept in ``engine.stores``, never the global ``REGISTRY``): two simulators never share
a series.  Names, types, labels, buckets and help texts follow the sources named in
../shared/FIDELITY.md; docs/metrics.md lists every family and where its number comes from.

The text is written by :func:`render`, not ``generate_latest``, for one reason: DCGM
counters are named without ``_total`` (``DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION``) and keep
dcgm-exporter's label order, which ``generate_latest`` would rename and sort.  vLLM and
Dynamo families are rendered exactly as ``generate_latest`` renders them (labels sorted,
as prometheus-client and the Rust ``prometheus`` crate print them); a test checks that.

This module imports prometheus-client: load it lazily (the routes and
``fakeai.metrics.prometheus()`` do).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from ..engine.stats import Histogram, ModelStats

_go_float: Callable[[float], str] = floatToGoString  # prometheus-client's number format ("1.0", "+Inf")

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.gpu import GpuSample

__all__ = [
    "CONTENT_TYPE",
    "DCGM_FIELDS",
    "DYNAMO_BUCKETS",
    "DYNAMO_ENDPOINTS",
    "GROUPS",
    "DcgmCollector",
    "DcgmField",
    "DynamoCollector",
    "Exposition",
    "VllmCollector",
    "dynamo_error_type",
    "exposition",
    "log_buckets",
    "render",
]

#: What a Prometheus server expects from a text scrape (format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: The family groups, in the order ``families="all"`` renders them.
GROUPS = ("vllm", "dynamo", "dcgm")

_FINISH_REASONS = ("stop", "length", "abort")  # vLLM creates these series up front (FinishReason)


def log_buckets(low: float, high: float, count: int) -> tuple[float, ...]:
    """Dynamo's ``generate_log_buckets(min, max, count)`` (lib/llm/src/http/service/metrics.rs).

    ``0.0``, then ``count - 1`` log-spaced values from ``low`` (exclusive: index 0 is
    replaced by 0) to ``high``, each rounded to 2 significant figures (Rust's ``round``:
    half away from zero), consecutive duplicates removed.
    """
    out = [0.0]
    log_low, log_high = math.log(low), math.log(high)
    for i in range(1, count):
        value = math.exp(log_low + (log_high - log_low) * i / (count - 1))
        scale = 10.0 ** (1 - math.floor(math.log10(value)))
        rounded = math.floor(value * scale + 0.5) / scale
        if rounded != out[-1]:
            out.append(rounded)
    return tuple(out)


#: Dynamo frontend histogram buckets: the defaults of ``Metrics::build`` (no ``DYN_METRICS_*`` overrides).
DYNAMO_BUCKETS: dict[str, tuple[float, ...]] = {
    "request_duration_seconds": log_buckets(1.0, 512.0, 10),
    "input_sequence_tokens": log_buckets(50.0, 128_000.0, 12),
    "output_sequence_tokens": log_buckets(50.0, 32_000.0, 10),
    "cached_tokens": log_buckets(50.0, 128_000.0, 12),  # Dynamo reuses the input-sequence buckets
    "time_to_first_token_seconds": log_buckets(0.001, 480.0, 18),
    "inter_token_latency_seconds": log_buckets(0.001, 2.0, 13),
}

#: Request paths -> Dynamo's ``endpoint`` label (``Endpoint::as_str``); other paths are not counted.
DYNAMO_ENDPOINTS: dict[str, str] = {
    "/v1/chat/completions": "chat_completions",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
    "/v1/responses": "responses",
    "/v1/ranking": "rerank",
    "/v1/rerank": "rerank",
    "/v1/messages": "anthropic_messages",
    "/v1/images/generations": "images",
    "/v1/images/edits": "images",
    "/v1/images/variations": "images",
    "/v1/audio/speech": "audios",
}


def dynamo_error_type(status: int) -> str:
    """Dynamo's ``error_type`` label for an HTTP status (``""`` on success; 0: no response at all)."""
    if 0 < status < 400:
        return ""
    if status == 0:
        return "cancelled"  # the client gave up (timeout) or the connection dropped
    if status == 404:
        return "not_found"
    if status in (429, 503, 529):
        return "overload"
    if status == 501:
        return "not_implemented"
    if status < 500:
        return "validation"
    return "internal"


# -- histograms -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Hist:
    """A copy of one engine Histogram, taken under the stats lock."""

    buckets: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float
    count: int
    values: tuple[float, ...]  # the reservoir; every observation while count <= its size

    @classmethod
    def of(cls, h: Histogram, *, values: bool = False) -> _Hist:
        return cls(h.buckets, tuple(h.counts), h.sum, h.count, tuple(h.reservoir) if values else ())

    def cumulative(self) -> list[tuple[float, int]]:
        out, running = [], 0
        for bound, n in zip((*self.buckets, math.inf), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out

    def rebucketed(self, bounds: Sequence[float], *, skip_zero: bool = False) -> tuple[list[tuple[float, int]], float]:
        """Cumulative counts over other ``bounds``: exact while the reservoir holds every value,
        else the reservoir's proportions scaled to the exact count (``sum`` and ``count`` stay exact)."""
        values = sorted(self.values)
        zeros = bisect.bisect_right(values, 0.0) if skip_zero else 0
        if len(values) == self.count:
            edges = [bisect.bisect_right(values, b) - zeros for b in bounds]
            return [*zip(bounds, edges, strict=True), (math.inf, self.count - zeros)], self.sum
        if not values:  # no reservoir (cannot happen with engine/stats.py): everything in +Inf
            return [*((b, 0) for b in bounds), (math.inf, self.count)], self.sum
        scale = self.count / len(values)
        total = self.count - round(zeros * scale)
        edges = [min(total, round((bisect.bisect_right(values, b) - zeros) * scale)) for b in bounds]
        return [*zip(bounds, edges, strict=True), (math.inf, total)], self.sum


def _histogram(
    name: str,
    doc: str,
    labelnames: Sequence[str],
    series: Iterable[tuple[Sequence[str], list[tuple[float, int]], float]],
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=list(labelnames))
    for values, cumulative, total in series:
        family.add_metric(list(values), [(_go_float(b), n) for b, n in cumulative], total)
    return family


# -- vLLM ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _ModelCopy:
    prompt_tokens: int
    generation_tokens: int
    prefix_queries: int
    prefix_hits: int
    success: dict[str, int]
    hists: dict[str, _Hist]


_VLLM_HISTOGRAMS = (
    ("vllm:time_to_first_token_seconds", "ttft", "Histogram of time to first token in seconds."),
    ("vllm:inter_token_latency_seconds", "itl", "Histogram of inter-token latency in seconds."),
    ("vllm:e2e_request_latency_seconds", "e2e", "Histogram of e2e request latency in seconds."),
    ("vllm:request_queue_time_seconds", "queue", "Histogram of time spent in WAITING phase for request."),
    ("vllm:request_prefill_time_seconds", "prefill", "Histogram of time spent in PREFILL phase for request."),
    ("vllm:request_decode_time_seconds", "decode", "Histogram of time spent in DECODE phase for request."),
    ("vllm:request_prompt_tokens", "prompt_hist", "Number of prefill tokens processed."),
    ("vllm:request_generation_tokens", "generation_hist", "Number of generation tokens processed."),
)
# the engine Histograms Dynamo's families are re-bucketed from (their raw values are needed)
_DYNAMO_SOURCES = ("ttft", "itl", "e2e", "prompt_hist", "generation_hist", "cached_hist")


def _copy_models(engine: Engine, *, values: bool) -> dict[str, _ModelCopy]:
    stats = engine.stats
    with stats.lock:
        return {
            name: _ModelCopy(
                m.prompt_tokens,
                m.generation_tokens,
                m.prefix_queries,
                m.prefix_hits,
                dict(m.success),
                {
                    attr: _Hist.of(getattr(m, attr), values=values and attr in _DYNAMO_SOURCES)
                    for attr in (*(a for _, a, _ in _VLLM_HISTOGRAMS), "cached_hist")
                },
            )
            for name, m in stats.models.items()
        }


def _empty_model() -> _ModelCopy:
    m = ModelStats(max_len=131_072, seed=0)
    hists = {attr: _Hist.of(getattr(m, attr)) for attr in (*(a for _, a, _ in _VLLM_HISTOGRAMS), "cached_hist")}
    return _ModelCopy(0, 0, 0, 0, {}, hists)


class VllmCollector(Collector):
    """vLLM v1's families (vllm/v1/metrics/loggers.py), one series per model, ``engine="0"``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self._engine
        serving = engine.serving
        now = engine.clock.elapsed()
        copies = _copy_models(engine, values=False)
        planned = serving.models
        names = sorted(set(copies) | set(planned))
        empty = _empty_model()  # a model planned but not yet observed
        labelnames = ["engine", "model_name"]  # prometheus-client prints labels sorted: engine, model_name

        running = GaugeMetricFamily(
            "vllm:num_requests_running", "Number of requests in model execution batches.", labels=labelnames
        )
        waiting = GaugeMetricFamily(
            "vllm:num_requests_waiting", "Number of requests waiting to be processed.", labels=labelnames
        )
        usage = GaugeMetricFamily(
            "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", labels=labelnames
        )
        for name in names:
            model = planned.get(name)
            kv = model.kv if model is not None else None
            running.add_metric(["0", name], serving.running_of(name, now))
            waiting.add_metric(["0", name], serving.waiting_of(name, now))
            usage.add_metric(["0", name], kv.usage if kv is not None else 0.0)
        yield running
        yield waiting
        yield usage

        def counter(metric: str, doc: str, value: Callable[[_ModelCopy], float]) -> CounterMetricFamily:
            family = CounterMetricFamily(metric, doc, labels=labelnames)
            for name in names:
                family.add_metric(["0", name], value(copies.get(name, empty)))
            return family

        yield counter(
            "vllm:prefix_cache_queries",
            "Prefix cache queries, in terms of number of queried tokens.",
            lambda m: m.prefix_queries,
        )
        yield counter(
            "vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", lambda m: m.prefix_hits
        )
        yield counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", lambda m: 0)
        yield counter("vllm:prompt_tokens", "Number of prefill tokens processed.", lambda m: m.prompt_tokens)
        yield counter("vllm:generation_tokens", "Number of generation tokens processed.", lambda m: m.generation_tokens)

        success = CounterMetricFamily(
            "vllm:request_success",
            "Count of successfully processed requests.",
            labels=["engine", "finished_reason", "model_name"],
        )
        for name in names:
            counts = copies.get(name, empty).success
            for reason in (*_FINISH_REASONS, *sorted(set(counts) - set(_FINISH_REASONS))):
                success.add_metric(["0", reason, name], counts.get(reason, 0))
        yield success

        for metric, attr, doc in _VLLM_HISTOGRAMS:
            series = []
            for name in names:
                h = copies.get(name, empty).hists[attr]
                series.append((["0", name], h.cumulative(), h.sum))
            yield _histogram(metric, doc, labelnames, series)


# -- Dynamo -------------------------------------------------------------------------------------
class DynamoCollector(Collector):
    """The NVIDIA Dynamo frontend's families (lib/llm/src/http/service/metrics.rs), labelled by ``model``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self._engine
        stats = engine.stats
        serving = engine.serving
        now = engine.clock.elapsed()
        with stats.lock:
            requests = list(stats.requests.items())
            disconnected = stats.disconnected
        copies = _copy_models(engine, values=True)
        planned = serving.models
        names = sorted(set(copies) | set(planned))

        totals: Counter[tuple[str, str, str, str, str]] = Counter()
        for (path, model, status, _, streamed), n in requests:
            endpoint = DYNAMO_ENDPOINTS.get(path)
            if endpoint is None:
                continue
            ok = 0 < status < 400
            request_type = "stream" if streamed else "unary"
            totals[endpoint, dynamo_error_type(status), model, request_type, "success" if ok else "error"] += n
        family = CounterMetricFamily(
            "dynamo_frontend_requests",
            "Total number of LLM requests processed",
            labels=["endpoint", "error_type", "model", "request_type", "status"],
        )
        for labels, n in sorted(totals.items()):
            family.add_metric(list(labels), n)
        yield family

        inflight = GaugeMetricFamily(
            "dynamo_frontend_inflight_requests", "Number of inflight requests", labels=["model"]
        )
        queued = GaugeMetricFamily(
            "dynamo_frontend_queued_requests", "Number of requests in HTTP processing queue", labels=["model"]
        )
        for name in names:
            waiting = serving.waiting_of(name, now)
            inflight.add_metric([name], serving.running_of(name, now) + waiting)
            queued.add_metric([name], waiting)
        yield inflight
        yield queued
        yield GaugeMetricFamily(
            "dynamo_frontend_disconnected_clients", "Number of disconnected clients", value=disconnected
        )

        output = CounterMetricFamily(
            "dynamo_frontend_output_tokens",
            "Total number of output tokens generated (updates in real-time)",
            labels=["model"],
        )
        for name in names:
            m = copies.get(name)
            output.add_metric([name], m.generation_tokens if m is not None else 0)
        yield output

        for metric, attr, doc, skip_zero in (
            ("request_duration_seconds", "e2e", "Duration of LLM requests", False),
            ("input_sequence_tokens", "prompt_hist", "Input sequence length in tokens", False),
            ("output_sequence_tokens", "generation_hist", "Output sequence length in tokens", True),
            ("cached_tokens", "cached_hist", "Number of cached tokens (prefix cache hits) per request", False),
            ("time_to_first_token_seconds", "ttft", "Time to first token in seconds", False),
            ("inter_token_latency_seconds", "itl", "Inter-token latency in seconds", False),
        ):
            bounds = DYNAMO_BUCKETS[metric]
            series = []
            for name in names:
                m = copies.get(name)
                if m is None:
                    series.append(([name], [*((b, 0) for b in bounds), (math.inf, 0)], 0.0))
                else:
                    cumulative, total = m.hists[attr].rebucketed(bounds, skip_zero=skip_zero)
                    series.append(([name], cumulative, total))
            yield _histogram("dynamo_frontend_" + metric, doc, ["model"], series)


# -- DCGM ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DcgmField:
    """One ``DCGM_FI_*`` series: its type and help as in dcgm-exporter's CSV, and the GpuSample field."""

    name: str
    type: str  # gauge | counter
    help: str
    attr: str
    integer: bool = True  # DCGM int64 fields print as integers, doubles as %f


#: The fields of ../shared/FIDELITY.md, help texts from dcgm-exporter ``etc/dcp-metrics-included.csv``.
DCGM_FIELDS: tuple[DcgmField, ...] = (
    DcgmField("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", "sm_clock_mhz"),
    DcgmField("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).", "mem_clock_mhz"),
    DcgmField("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C).", "memory_temp_c"),
    DcgmField("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", "gpu_temp_c"),
    DcgmField("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", "power_w", integer=False),
    DcgmField(
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "counter",
        "Total energy consumption since boot (in mJ).",
        "total_energy_mj",
    ),
    DcgmField("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries.", "pcie_replay"),
    DcgmField("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", "gpu_util"),
    DcgmField("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).", "mem_copy_util"),
    DcgmField("DCGM_FI_DEV_ENC_UTIL", "gauge", "Encoder utilization (in %).", "enc_util"),
    DcgmField("DCGM_FI_DEV_DEC_UTIL", "gauge", "Decoder utilization (in %).", "dec_util"),
    DcgmField("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered.", "xid_errors"),
    DcgmField("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).", "fb_free_mib"),
    DcgmField("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", "fb_used_mib"),
    DcgmField("DCGM_FI_DEV_FB_RESERVED", "gauge", "Framebuffer memory reserved (in MiB).", "fb_reserved_mib"),
    DcgmField(
        "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
        "counter",
        "Total number of NVLink bandwidth counters for all lanes.",
        "nvlink_bandwidth_total",
    ),
    DcgmField(
        "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
        "counter",
        "Number of remapped rows for uncorrectable errors",
        "uncorrectable_remapped_rows",
    ),
    DcgmField(
        "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
        "counter",
        "Number of remapped rows for correctable errors",
        "correctable_remapped_rows",
    ),
    DcgmField(
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        "gauge",
        "Ratio of time the graphics engine is active.",
        "gr_engine_active",
        integer=False,
    ),
    DcgmField(
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        "gauge",
        "Ratio of cycles the tensor (HMMA) pipe is active.",
        "tensor_active",
        integer=False,
    ),
    DcgmField(
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "gauge",
        "Ratio of cycles the device memory interface is active sending or receiving data.",
        "dram_active",
        integer=False,
    ),
    DcgmField(
        "DCGM_FI_PROF_PCIE_TX_BYTES",
        "gauge",
        "The rate of data transmitted over the PCIe bus - including both protocol headers and data payloads - "
        "in bytes per second.",
        "pcie_tx_bytes",
    ),
    DcgmField(
        "DCGM_FI_PROF_PCIE_RX_BYTES",
        "gauge",
        "The rate of data received over the PCIe bus - including both protocol headers and data payloads - "
        "in bytes per second.",
        "pcie_rx_bytes",
    ),
)


class DcgmCollector(Collector):
    """dcgm-exporter's series for every GPU of the simulated node, brought to the clock's now."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def samples(self) -> list[GpuSample]:
        gpu = self._engine.update_gpu()
        return gpu.gpus(self._engine.clock.elapsed())

    def collect(self) -> Iterator[Metric]:
        gpus = self.samples()
        labels = [g.labels() for g in gpus]  # gpu, UUID, pci_bus_id, device, modelName, Hostname, driver
        for field in DCGM_FIELDS:
            family = Metric(field.name, field.help, field.type)
            for g, lab in zip(gpus, labels, strict=True):
                family.add_sample(field.name, lab, float(getattr(g, field.attr)))
            yield family


# -- the text -----------------------------------------------------------------------------------
def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _dcgm_value(field: DcgmField | None, value: float) -> str:
    if field is None:
        return _go_float(value)
    return str(int(value)) if field.integer else f"{value:f}"


_DCGM_BY_NAME = {f.name: f for f in DCGM_FIELDS}


def render(metrics: Iterable[Metric], *, sort_labels: bool = True) -> str:
    """Prometheus text format 0.0.4.

    A counter family is headed ``<name>_total`` when its samples are (prometheus-client's
    ``CounterMetricFamily``), else by its own name (DCGM's counters).  ``sort_labels``:
    labels in name order, as prometheus-client and the Rust client print them; otherwise
    as given (dcgm-exporter's order).  DCGM fields print their values as dcgm-exporter does.
    """
    out: list[str] = []
    for metric in metrics:
        name = metric.name
        if metric.type == "counter" and not any(s.name == name for s in metric.samples):
            name += "_total"
        doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {name} {doc}\n# TYPE {name} {metric.type}\n")
        field = _DCGM_BY_NAME.get(metric.name)
        for s in metric.samples:
            items = sorted(s.labels.items()) if sort_labels else s.labels.items()
            labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in items)
            value = _dcgm_value(field, s.value)
            out.append(f"{s.name}{{{labels}}} {value}\n" if labels else f"{s.name} {value}\n")
    return "".join(out)


class Exposition:
    """One simulator's registry and its three collectors."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.collectors: dict[str, Collector] = {
            "vllm": VllmCollector(engine),
            "dynamo": DynamoCollector(engine),
            "dcgm": DcgmCollector(engine),
        }
        for collector in self.collectors.values():
            self.registry.register(collector)

    def text(self, families: str = "all") -> str:
        """The exposition of ``families``: ``"all"``, or a comma-separated choice of vllm, dynamo, dcgm."""
        wanted = GROUPS if families == "all" else tuple(f.strip() for f in families.split(",") if f.strip())
        unknown = [f for f in wanted if f not in self.collectors]
        if unknown or not wanted:
            raise ValueError(f"unknown metric families {families!r}; choose 'all' or any of: {', '.join(GROUPS)}")
        return "".join(
            render(self.collectors[group].collect(), sort_labels=group != "dcgm") for group in GROUPS if group in wanted
        )


def exposition(engine: Engine) -> Exposition:
    """The simulator's own :class:`Exposition`, made on first use (kept in ``engine.stores``)."""
    found = engine.stores.get("prometheus")
    if found is None:
        found = engine.stores.setdefault("prometheus", Exposition(engine))
    assert isinstance(found, Exposition)
    return found
