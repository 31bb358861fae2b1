"""Joining the Ray cluster `--ray` names (or starting one for the run), quietly: the batch's
own progress bar and summary are what the user reads, not Ray's logs."""

from __future__ import annotations

import logging
import os

from bridge.frontends.cli.ray_batch.options import RAY_DEFAULT


def connect(address: str) -> None:
    """ray.init on `address` (see --ray); RuntimeError (one clear line) when no cluster is
    there to join."""
    # Ray's C++ log on this process warns of things the batch handles (actors restarted with
    # their arguments); failures still reach the batch as Python exceptions.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    import ray
    from ray.data import DataContext

    try:
        ray.init(
            address=None if address == RAY_DEFAULT else address,
            logging_level=logging.ERROR,
            log_to_driver=False,  # actors' own output (model loading...) stays in Ray's logs
        )
    except ConnectionError as error:
        where = address or "RAY_ADDRESS"
        raise RuntimeError(f"no Ray cluster to join at {where}: {error}") from None
    context = DataContext.get_current()
    context.enable_progress_bars = False  # the batch shows its own, counting files
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def disconnect() -> None:
    """Leave the cluster (a cluster started for this run stops with it)."""
    import ray

    ray.shutdown()


def pool_size(cpus: float, gpus: float, wanted: int | None, batches: int) -> int:
    """Actors in the pool: as asked (an autoscaling cluster adds nodes for them), else as many
    as the cluster's CPUs and GPUs hold now; never more than there are batches to run.
    RuntimeError when the cluster cannot hold a single one and no number was asked."""
    import ray

    if wanted is None:
        resources = ray.cluster_resources()
        held = resources.get("CPU", 0.0) / cpus
        if gpus > 0:
            held = min(held, resources.get("GPU", 0.0) / gpus)
        if held < 1:
            raise RuntimeError(
                f"the Ray cluster has {resources.get('CPU', 0.0):g} CPU(s) and "
                f"{resources.get('GPU', 0.0):g} GPU(s): not enough for one actor of {cpus:g} "
                f"CPU(s) and {gpus:g} GPU(s) (--ray-cpus, --ray-gpus; --device cpu runs the "
                "model on CPUs; --ray-actors N waits for an autoscaler to add nodes)"
            )
        wanted = int(held)
    return max(1, min(wanted, batches))
