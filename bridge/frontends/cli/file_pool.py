"""The runs of a local folder job on worker processes, each holding the model warm.

On a CPU the decoding's matrix products keep one core busy per thread, while turning results
into clips and MIDI files is Python, one core at a time; one process a core runs both on every
core, as the Ray actors do on a cluster. Each worker runs the same `FileJob.run_each` on whole
runs, so a file gives the same bytes as in one process; the results come back here, in order,
to be written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bridge.models.catalog import ModelSpec

MAX_WORKERS = 4  # past this, threads within each process serve a large machine better


class FileRunner(Protocol):
    """What a worker runs: a FileJob (file_jobs.py, which calls this module)."""

    @property
    def spec(self) -> ModelSpec: ...

    def run_each(self, model: Any, files: Sequence[Sequence[Any]]) -> list[Any]: ...


_job: FileRunner | None = None  # the worker process's job and model (see _start)
_model: Any = None


def worker_count(asked: int | None, device: str) -> int:
    """Processes for a local batch: as asked (--workers), else one a core on the CPU (up to
    MAX_WORKERS) and one on a GPU (`device` as "cuda:0" or "mps"), whose own parallelism is
    the batch."""
    if asked is not None:
        if asked < 1:
            raise ValueError(f"--workers must be at least 1, not {asked}")
        return asked
    if device.partition(":")[0] != "cpu":
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def pooled_outcomes(
    job: FileRunner, runs: Sequence[Sequence[Sequence[Any]]], workers: int
) -> Iterator[list[Any]]:
    """Each run's outcomes (FileJob.run_each), in the runs' order, computed `workers` runs at
    a time; leaving early cancels the runs not started."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, (os.cpu_count() or 1) // workers)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),  # no forked copy of a threaded torch
        initializer=_start,
        initargs=(job, threads),
    )
    try:
        futures = [pool.submit(_run, run) for run in runs]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start(job: FileRunner, threads: int) -> None:
    """A worker's start: the model loaded once, on its share of the cores."""
    global _job, _model
    import torch

    from bridge.models.loading import load_model

    torch.set_num_threads(threads)
    _keep_freed_memory()
    _job, _model = job, load_model(job.spec)


def _keep_freed_memory() -> None:
    """Let glibc keep freed memory for reuse. By default it hands each freed multi-megabyte
    tensor back to the system and maps the next one anew, a page fault a page: a tenth of
    a decode's time here. A worker process does nothing else, so it keeps them (no-op where
    the C library is not glibc)."""
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mmap_threshold, trim_threshold, top_pad = -3, -1, -2  # glibc's malloc.h
    mallopt(mmap_threshold, 32 * 1024 * 1024)  # glibc's largest: tensors up to it on the heap
    mallopt(trim_threshold, 1024 * 1024 * 1024)
    mallopt(top_pad, 256 * 1024 * 1024)


def _run(files: Sequence[Sequence[Any]]) -> list[Any]:
    if _job is None:
        raise RuntimeError("a worker ran before it was started")
    return _job.run_each(_model, files)
