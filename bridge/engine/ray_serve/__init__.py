"""`serve --ray`: the models served by Ray Serve on a cluster, while the frontends (OSC, HTTP,
MIDI), the queue, the store and the history stay in the daemon.

Each configured model is one Serve application (`magenta-bridge-NAME`) of `ray.replicas`
replicas, each holding the model once. The engine does not know: its WarmModels hold
ServedModels, whose `run` sends a batch to a replica instead of running the tool here.

Batching is the engine's own, not Serve's `@serve.batch`: the engine already groups queued
jobs that can share a forward pass (the tools' batch keys: same model, tool and shape), which
Serve cannot know, and it runs one batch per replica at a time (one worker thread per
replica, `max_ongoing_requests=1`). A batch is the same batch as in a local run, so seeded
results are the same notes.

Modules: replica (what runs on the cluster), served (the daemon's side of one application:
calls, progress, cancel, retry), cluster (joining, deploying, leaving). Only `connect`
imports Ray, when called: a daemon without --ray never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.config import RayConfig

if TYPE_CHECKING:
    from bridge.engine.ray_serve.cluster import RayServing

__all__ = ["connect"]


def connect(settings: RayConfig) -> RayServing:
    """Join the cluster and start Serve (RayServing.connect); RuntimeError, one clear line,
    when Ray Serve is not installed or no cluster answers."""
    try:
        import ray.serve  # noqa: F401  (asked for: --ray)
    except ImportError as error:
        raise RuntimeError(f"--ray needs Ray Serve: pip install -e '.[ray]' ({error})") from None
    from bridge.engine.ray_serve.cluster import RayServing

    return RayServing.connect(settings)
