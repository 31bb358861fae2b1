"""The daemon's Prometheus metrics: what the engine did, what it holds now, what it costs.

Each daemon has its own CollectorRegistry, never prometheus_client's global one, so several
daemons in one process (the tests) count apart. Events come from the engine through its
observer interface (bridge/engine/observer.py); what the engine holds (queues, models,
workers) and the process's memory are read when /metrics is scraped.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import psutil
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from bridge.engine.engine import Engine
from bridge.engine.jobs import Job, JobRequest

CONTENT_TYPE = CONTENT_TYPE_LATEST
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BATCH_SIZES = (1, 2, 4, 8, 16)
# Which frontend made a client name (JobRequest.client), by the name's prefix.
FRONTENDS = {"udp": "osc", "tcp": "osc", "http": "http", "midi": "midi", "cli": "cli"}


def frontend_of(client: str) -> str:
    """The frontend a job came through: osc, http, midi or cli ("other" for names no
    frontend of this daemon makes)."""
    return FRONTENDS.get(client.split(":", 1)[0], "other")


class Metrics:
    """The metrics of one daemon; the engine's observer."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        prefix = "magenta_bridge"
        self.requests = Counter(
            f"{prefix}_requests",
            "Tool requests reaching the engine, by frontend and how the engine took them "
            "(accepted, refused, busy)",
            ["frontend", "outcome"],
            registry=self.registry,
        )
        self.jobs = Counter(
            f"{prefix}_jobs",
            "Accepted jobs that ended, by tool, model and outcome (done, failed, cancelled, "
            "timeout)",
            ["tool", "model", "outcome"],
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            f"{prefix}_queue_wait_seconds",
            "Time from acceptance until a worker took the job",
            ["tool", "model"],
            buckets=SECONDS,
            registry=self.registry,
        )
        self.model_run = Histogram(
            f"{prefix}_model_run_seconds",
            "Time a tool ran on its model for one batch",
            ["tool", "model"],
            buckets=SECONDS,
            registry=self.registry,
        )
        self.end_to_end = Histogram(
            f"{prefix}_job_seconds",
            "Time from acceptance to the job's final answer (results stored), by outcome",
            ["tool", "model", "outcome"],
            buckets=SECONDS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            f"{prefix}_batch_size",
            "Jobs that shared one forward pass",
            ["tool", "model"],
            buckets=BATCH_SIZES,
            registry=self.registry,
        )
        self.http_requests = Counter(
            f"{prefix}_http_requests",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )

    def track(self, engine: Engine) -> None:
        """Read the engine's state (queues, workers, models) and the process's memory at
        every scrape."""
        self.registry.register(_EngineState(engine))

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format (CONTENT_TYPE)."""
        return generate_latest(self.registry)

    def http_request(self, method: str, route: str, status: int) -> None:
        self.http_requests.labels(method, route, str(status)).inc()

    # -- the engine's observer -----------------------------------------------------------
    def submitted(self, request: JobRequest, outcome: str) -> None:
        self.requests.labels(frontend_of(request.client), outcome).inc()

    def batch_ran(self, model: str, tool: str, size: int, seconds: float) -> None:
        self.model_run.labels(tool, model).observe(seconds)
        self.batch_size.labels(tool, model).observe(size)

    def ended(self, job: Job, outcome: str) -> None:
        tool, model = job.tool.name, job.record.model
        self.jobs.labels(tool, model, outcome).inc()
        self.end_to_end.labels(tool, model, outcome).observe(time.monotonic() - job.queued_at)
        if job.started_at is not None:
            self.queue_wait.labels(tool, model).observe(job.started_at - job.queued_at)


class _EngineState(Collector):
    """Gauges read at scrape time, so they are never stale and cost nothing between scrapes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.process = psutil.Process()

    def collect(self) -> Iterator[Metric]:
        prefix = "magenta_bridge"
        depth = GaugeMetricFamily(
            f"{prefix}_queue_depth", "Jobs waiting for a worker, by device", labels=["device"]
        )
        for device, waiting in self.engine.queue_depths().items():
            depth.add_metric([device], waiting)
        yield depth
        health = self.engine.health()
        yield GaugeMetricFamily(f"{prefix}_jobs_running", "Jobs a worker runs now", health.running)
        yield GaugeMetricFamily(
            f"{prefix}_workers", "Worker threads, one per device", health.workers
        )
        yield GaugeMetricFamily(
            f"{prefix}_workers_alive",
            "Worker threads alive (fewer: degraded)",
            health.workers_alive,
        )
        models = list(self.engine.models)
        info = GaugeMetricFamily(
            f"{prefix}_model_info",
            "A model loaded and served (always 1), with its family, device and content",
            labels=["name", "family", "device", "content"],
        )
        for warm in models:
            info.add_metric([warm.spec.name, warm.spec.family, warm.device, warm.spec.content], 1)
        yield info
        yield GaugeMetricFamily(f"{prefix}_models_loaded", "Models loaded and served", len(models))
        yield GaugeMetricFamily(
            f"{prefix}_process_resident_memory_bytes",
            "Resident memory of the daemon's process",
            self.process.memory_info().rss,
        )
        yield from _gpu_memory(prefix, {warm.device for warm in models})


def _gpu_memory(prefix: str, devices: set[str]) -> Iterator[Metric]:
    """PyTorch's CUDA memory on each device a model runs on; nothing without CUDA models
    (PyTorch is only asked if the models already imported it)."""
    cuda = sorted(device for device in devices if device.startswith("cuda"))
    torch = sys.modules.get("torch")
    if not cuda or torch is None or not torch.cuda.is_available():
        return
    allocated = GaugeMetricFamily(
        f"{prefix}_gpu_memory_allocated_bytes",
        "GPU memory held by tensors (torch.cuda.memory_allocated), by device",
        labels=["device"],
    )
    reserved = GaugeMetricFamily(
        f"{prefix}_gpu_memory_reserved_bytes",
        "GPU memory reserved by PyTorch's caching allocator, by device",
        labels=["device"],
    )
    for device in cuda:
        allocated.add_metric([device], torch.cuda.memory_allocated(device))
        reserved.add_metric([device], torch.cuda.memory_reserved(device))
    yield allocated
    yield reserved
