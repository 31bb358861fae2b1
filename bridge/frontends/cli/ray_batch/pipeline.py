"""The Ray Data pipeline of a folder job: files read here, batched, an actor pool of warm
models runs them on the cluster, and results come back here to be written.

Reading and writing on this machine (the driver) means the cluster's nodes need no shared
file system: MIDI files are small (kilobytes), the models' work is what is spread. Results
are written atomically, a file's first result last, so a run cut short resumes where it
stopped: finished files are skipped, and a file whose results were half written is run again.
"""

from __future__ import annotations

import glob
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.frontends.cli.ray_batch.summary import BatchSummary

if TYPE_CHECKING:
    from bridge.frontends.cli.file_jobs import FileJob, ResultWriter
    from bridge.frontends.cli.ray_batch.options import RaySettings

BATCHES_PER_ACTOR = 4  # the default batch size leaves each actor about this many batches
MAX_BATCH = 32
FLUSH_FILES = 32  # files whose results are made durable together (ResultWriter.flush)
# A pool sized to the cluster's resources waits this long for all its actors (loading their
# models) before files are handed out, so they spread over every actor and node.
POOL_START_S = 120


def run_pipeline(
    job: FileJob, files: list[Path], bases: list[Path], settings: RaySettings
) -> BatchSummary:
    """Run `job` on the files not finished yet; results named after `bases` (FileJob.paths)."""
    summary = BatchSummary(job.tool, len(files))
    todo: dict[str, tuple[Path, bytes]] = {}  # a file's name (its path): its base, its bytes
    for path, base in zip(files, bases, strict=True):
        if job.finished(base):
            summary.skipped += 1
            continue
        _remove_leftovers(job, base)
        try:
            todo[str(path)] = (base, path.read_bytes())
        except OSError as error:
            summary.fail(str(path), str(error))
    if todo:
        _run(job, todo, settings, summary)
    return summary


def _run(
    job: FileJob,
    todo: dict[str, tuple[Path, bytes]],
    settings: RaySettings,
    summary: BatchSummary,
) -> None:
    import ray
    from tqdm import tqdm

    from bridge.frontends.cli.file_jobs import ResultWriter
    from bridge.frontends.cli.ray_batch.cluster import connect, disconnect, pool_size
    from bridge.frontends.cli.ray_batch.worker import ToolWorker, actor_job

    asks_gpu = job.spec.device.startswith("cuda")
    gpus = settings.gpus if settings.gpus is not None else (1.0 if asks_gpu else 0.0)
    connect(settings.address)
    try:
        start = time.perf_counter()
        actors = pool_size(settings.cpus, gpus, settings.actors, len(todo))
        batch = settings.batch or max(1, min(MAX_BATCH, len(todo) // (actors * BATCHES_PER_ACTOR)))
        batches = math.ceil(len(todo) / batch)
        actors = min(actors, batches)
        items = [{"name": name, "data": data} for name, (_, data) in todo.items()]
        results = ray.data.from_items(items, override_num_blocks=batches).map_batches(
            ToolWorker,
            fn_constructor_kwargs={
                "job": actor_job(job, gpus),
                "threads": max(1, int(settings.cpus)),
            },
            batch_size=batch,
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=settings.cpus,
            num_gpus=gpus or None,
            batch_format="numpy",
        )
        summary.actors = actors
        if settings.actors is None:  # a pool sized to the cluster starts whole, then works
            ray.data.DataContext.get_current().wait_for_min_actors_s = POOL_START_S
        writer = ResultWriter(job)
        with tqdm(total=len(todo), desc=f"{job.tool} on Ray", unit="file") as bar:
            try:
                for row in results.iter_rows():
                    _record(writer, row, todo[row["name"]][0], summary)
                    bar.update()
                    if bar.n % FLUSH_FILES == 0:
                        writer.flush()
            finally:
                writer.flush()
        summary.seconds = time.perf_counter() - start
    except ray.exceptions.RayError as error:  # an actor that cannot load the model...
        lines = str(error).strip().splitlines()
        raise RuntimeError(f"the Ray pipeline failed: {lines[-1] if lines else error!r}") from None
    finally:
        disconnect()


def _record(writer: ResultWriter, row: dict[str, Any], base: Path, summary: BatchSummary) -> None:
    """One file's row from the actors: its results written, or its failure noted."""
    name = row["name"]
    summary.nodes.add(row["node"])
    if row["error"]:
        summary.fail(name, row["error"])
        return
    if row["warning"]:
        summary.warnings.append((name, row["warning"]))
    files = [bytes(data) for data in row["files"]]
    writer.write(base, files)
    summary.done += 1
    summary.results += len(files)


def _remove_leftovers(job: FileJob, base: Path) -> None:
    """The temp files of this file's results that a run cut short left (see atomic_write)."""
    for path in job.paths(base, job.params["variations"]):
        for temp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            temp.unlink(missing_ok=True)
