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

    from bridge.frontends.cli.file_jobs import FileJob


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
        """Each file of the batch: its results' bytes, or why it failed."""
        rows: dict[str, list[Any]] = {
            key: [] for key in ("name", "error", "warning", "files", "seconds", "node")
        }
        for name, data in zip(batch["name"], batch["data"], strict=True):
            start = time.perf_counter()
            files: list[bytes] = []
            error = warning = ""
            try:
                inputs = self.job.read(bytes(data), str(name))
                self.job.check(inputs)
                encoded = self.job.run(self.model, inputs)
                files, warning = encoded.files, encoded.warning
            except ValueError as refused:  # ClipError, ParamError: the tool's own words
                error = str(refused)
            except Exception as failed:  # anything else, named, and the batch goes on
                error = f"{type(failed).__name__}: {failed}"
            rows["name"].append(str(name))
            rows["error"].append(error)
            rows["warning"].append(warning)
            rows["files"].append(files)
            rows["seconds"].append(time.perf_counter() - start)
            rows["node"].append(self.node)
        return rows
