"""The actor of the pool: loads the model once and keeps it warm, then runs the batch's files
through the same FileJob steps as the local loop, so results are the same bytes.

A file the tool refuses (unreadable MIDI, a clip the model cannot read) becomes a row with its
reason, never an exception: one bad file must not stop the others of its batch.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from bridge.frontends.cli.file_jobs import Encoded, FileJob


def actor_job(job: FileJob, gpus: float) -> FileJob:
    """The job as an actor runs it: on the GPU Ray gives it (CUDA_VISIBLE_DEVICES makes it
    cuda:0), else on its CPUs, whatever `auto` would find on that node."""
    device = "cuda" if gpus > 0 else job.spec.device
    if gpus == 0 and (device == "auto" or device.startswith("cuda")):
        device = "cpu"
    return replace(job, spec=replace(job.spec, device=device))


class ToolWorker:
    """A callable class for Dataset.map_batches: one model per actor, many batches."""

    def __init__(self, job: FileJob, threads: int) -> None:
        import ray
        import torch

        from bridge.models.loading import load_model

        torch.set_num_threads(threads)  # the CPUs Ray reserved for this actor, no more
        self.job = job
        self.model = load_model(job.spec)
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        """Each file of the batch: its results' bytes, or why it failed. The files the tool
        accepts run together (FileJob.run_each); each is timed at its share of that run."""
        start = time.perf_counter()
        names = [str(name) for name in batch["name"]]
        outcomes: dict[int, Encoded | Exception] = {}
        accepted: dict[int, Any] = {}
        for index, (name, data) in enumerate(zip(names, batch["data"], strict=True)):
            try:
                inputs = self.job.read(bytes(data), name)
                self.job.check(inputs)
                accepted[index] = inputs
            except Exception as refused:
                outcomes[index] = refused
        ran = self.job.run_each(self.model, list(accepted.values())) if accepted else []
        outcomes |= dict(zip(accepted, ran, strict=True))
        seconds = (time.perf_counter() - start) / len(names)
        rows: dict[str, list[Any]] = {
            key: [] for key in ("name", "error", "warning", "files", "seconds", "node")
        }
        for index, name in enumerate(names):
            outcome = outcomes[index]
            failed = isinstance(outcome, Exception)
            rows["name"].append(name)
            rows["error"].append(_reason(outcome) if failed else "")
            rows["warning"].append("" if failed else outcome.warning)
            rows["files"].append([] if failed else outcome.files)
            rows["seconds"].append(seconds)
            rows["node"].append(self.node)
        return rows


def _reason(error: Exception) -> str:
    """Why a file failed: the tool's own words for what it refuses (ClipError, ParamError),
    anything else named by its type."""
    if isinstance(error, ValueError):
        return str(error)
    return f"{type(error).__name__}: {error}"
