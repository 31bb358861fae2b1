"""What runs on the cluster: one Serve deployment per model, each replica holding the model
once and running the tools on it, one batch at a time.

A batch comes back as a stream: first who runs it (so the daemon can name a replica that
dies), then progress, then the outputs. A caller that goes away (a cancelled or timed-out
job) stops the tool at its next step, as a local run stops.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ray
from ray import serve
from ray.serve import Application

from bridge.config import Limits, RayConfig, load_config
from bridge.engine.jobs import JobStopped
from bridge.models.catalog import Catalog, ModelSpec
from bridge.models.loading import load_model
from bridge.tools.registry import TOOLS, Call

DEPLOYMENT = "model"  # the one deployment of a model's application (a serve config names it)
PROGRESS_STEPS = 20  # progress items a batch sends at most: the daemon tells clients fewer
CONSTRUCTOR_RETRIES = 3  # a replica that cannot load its model fails the deployment after these
HEALTH_CHECK_S = 2.0  # how soon Serve notices a dead replica and starts another
SHUTDOWN_S = 5.0  # a replica's grace at shutdown: the daemon only deletes idle deployments


@dataclass(frozen=True)
class ReplicaInfo:
    """Who a replica is, in the words the history uses when one dies."""

    replica: str  # Serve's replica id
    pid: int
    node: str  # the node's IP address
    device: str  # where its model runs, e.g. "cpu"
    load_seconds: float

    def __str__(self) -> str:
        return f"replica {self.replica} (pid {self.pid} on {self.node})"


class ModelReplica:
    """A replica: the model loaded in its constructor, then tool runs on it. Serve sends it one
    request at a time (max_ongoing_requests=1), and a lock keeps a run that is still stopping
    from overlapping the next one."""

    def __init__(self, spec: ModelSpec, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)  # the CPUs Ray reserved for this replica, no more
        started = time.perf_counter()
        self.spec = spec
        self.model = load_model(spec)
        self.lock = threading.Lock()
        self.info = ReplicaInfo(
            serve.get_replica_context().replica_id.unique_id,
            os.getpid(),
            ray.util.get_node_ip_address(),
            str(getattr(self.model, "device", spec.device)),
            time.perf_counter() - started,
        )

    def describe(self) -> ReplicaInfo:
        """Who this replica is and where its model runs."""
        return self.info

    async def run(
        self, tool: str, calls: Sequence[Call], limits: Limits
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Run a batch: yields ("replica", ReplicaInfo), ("progress", done, total)...,
        ("outputs", one list of clips per call). A tool's exception reaches the caller as
        itself (wrapped by Ray), after the items sent before it."""
        yield ("replica", self.info)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        stop = threading.Event()
        sent = [0]

        def progress(done: int, total: int) -> None:
            if stop.is_set():
                raise JobStopped("the daemon stopped waiting for the batch")
            step = done * PROGRESS_STEPS // max(total, 1)
            if step > sent[0]:
                sent[0] = step
                loop.call_soon_threadsafe(events.put_nowait, ("progress", done, total))

        def work() -> list[list[Any]]:
            with self.lock:
                return TOOLS[tool].run(self.model, self.spec, calls, limits, progress)

        running = loop.run_in_executor(None, work)
        try:
            while not running.done() or not events.empty():
                waiting = asyncio.ensure_future(events.get())
                await asyncio.wait({waiting, running}, return_when=asyncio.FIRST_COMPLETED)
                if waiting.done():
                    yield waiting.result()
                else:
                    waiting.cancel()
            yield ("outputs", running.result())
        finally:
            stop.set()  # the caller left (cancelled): the tool stops at its next step


def on_replica(spec: ModelSpec, gpus: float) -> ModelSpec:
    """The spec as a replica loads it: on the GPU Ray gives it (CUDA_VISIBLE_DEVICES makes it
    cuda:0), else on its CPUs, whatever `auto` would find on that node."""
    device = "cuda" if gpus > 0 else spec.device
    if gpus == 0 and (device == "auto" or device.startswith("cuda")):
        device = "cpu"
    return replace(spec, device=device)


def application(spec: ModelSpec, settings: RayConfig) -> Application:
    """The Serve application of one model: its replicas (`settings.replicas_of`) of
    `settings.cpus` CPUs and `settings.gpus` GPUs each (a serve config's deployment options
    override them)."""
    deployment = serve.deployment(ModelReplica).options(
        name=DEPLOYMENT,
        num_replicas=settings.replicas_of(spec.name),
        ray_actor_options={"num_cpus": settings.cpus, "num_gpus": settings.gpus},
        max_ongoing_requests=1,  # the daemon's own batches: one at a time per replica
        health_check_period_s=HEALTH_CHECK_S,
        graceful_shutdown_timeout_s=SHUTDOWN_S,
        graceful_shutdown_wait_loop_s=SHUTDOWN_S / 10,
        max_constructor_retry_count=CONSTRUCTOR_RETRIES,
    )
    threads = max(1, int(settings.cpus))
    return deployment.bind(on_replica(spec, settings.gpus), threads)


def build(args: dict[str, Any]) -> Application:
    """The application of a serve config (a KubeRay RayService's serveConfigV2):
    `import_path: bridge.engine.ray_serve.replica:build`, args `config` (the daemon's config
    file; default: the bundled one) and `model` (a model name of it)."""
    config = load_config(args.get("config"))
    name = args.get("model")
    spec = Catalog.of(config).models.get(name)
    if spec is None:
        raise ValueError(f"model {name!r} is not an installed model of {config.source}")
    return application(spec, config.ray)
