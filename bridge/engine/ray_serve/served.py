"""The daemon's side of one model's deployment: a batch sent to a replica and waited for
without ever blocking past a job's stop, its progress passed on, and a replica that dies
mid-batch answered by a retry on another one, or by a clear failure.

The waiting happens in short slices on a queue filled by a reader thread, so the engine can
always stop a batch (cancel, timeout) even while the cluster says nothing; a stopped batch is
cancelled on the replica too.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ray.exceptions import RayActorError, RayTaskError
from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from bridge.config import Limits
from bridge.engine.jobs import ModelLost
from bridge.engine.ray_serve.replica import ReplicaInfo
from bridge.engine.warm_models import ToolRun, WarmModel
from bridge.music.clip import Clip
from bridge.tools.registry import Call, Progress, Tool

log = logging.getLogger(__name__)

WAIT_S = 0.1  # how often a waiting batch looks whether its jobs were stopped
DESCRIBE_S = 60.0  # a running application's replica answers who it is within this


class ReplicaDied(Exception):
    """The replica running a batch died (its process, or its node); the message names it."""


class ServeApp:
    """The daemon's handle on one model's Serve application; `close` deletes it when this
    daemon deployed it (the engine closes a model a reload no longer serves)."""

    def __init__(
        self, name: str, handle: DeploymentHandle, release: Callable[[ServeApp], None]
    ) -> None:
        self.name = name
        self.handle = handle
        self._release = release

    def describe(self) -> ReplicaInfo:
        """Who one of its replicas is (Serve picks a free one); TimeoutError when none answers
        within DESCRIBE_S."""
        return self.handle.describe.remote().result(timeout_s=DESCRIBE_S)

    def call(
        self, tool: str, calls: Sequence[Call], limits: Limits, progress: Progress
    ) -> list[list[Clip]]:
        """Run a batch on a replica; ReplicaDied when it dies, the tool's own exception when
        the tool fails, JobStopped (from `progress`) when every job of it was stopped."""
        stream = self.handle.options(stream=True).run.remote(tool, list(calls), limits)
        items: queue.Queue[tuple[Any, ...]] = queue.Queue()
        threading.Thread(
            target=_read, args=(stream, items), name=f"ray-{self.name}", daemon=True
        ).start()
        replica: ReplicaInfo | None = None
        last = (0, 1)
        try:
            while True:
                try:
                    kind, *values = items.get(timeout=WAIT_S)
                except queue.Empty:
                    progress(*last)  # raises JobStopped once every job was stopped
                    continue
                if kind == "replica":
                    replica = values[0]
                    log.debug(
                        "%s: a batch of %d job(s) on Ray Serve %s", self.name, len(calls), replica
                    )
                elif kind == "progress":
                    last = (values[0], values[1])
                    progress(*last)
                elif kind == "outputs":
                    return values[0]
                else:
                    raise _unwrapped(values[0], replica)
        finally:
            stream.cancel()  # nothing when it has ended; else the replica stops the tool

    def close(self) -> None:
        self._release(self)


@dataclass(frozen=True)
class ServedModel(WarmModel):
    """A model served by Ray Serve: `model` is its ServeApp, `workers` its replicas (the
    engine runs that many batches at once), `retries` how often a batch whose replica died
    runs again on another."""

    retries: int = 1

    def run(self, tool: Tool, calls: Sequence[Call], limits: Limits, progress: Progress) -> ToolRun:
        """Run the batch on a replica, again on another when one dies (`retries` times);
        ModelLost, naming every death, when none survives it."""
        deaths: list[ReplicaDied] = []
        while True:
            try:
                outputs = self.model.call(tool.name, calls, limits, progress)
            except ReplicaDied as died:
                deaths.append(died)
                log.warning("%s: %s", self.spec.name, died)
                if len(deaths) > self.retries:
                    raise ModelLost(_lost(deaths, self.retries)) from None
                continue
            note = "; ".join(f"retried on another replica: {died}" for died in deaths)
            return ToolRun(outputs, note)


def _read(stream: DeploymentResponseGenerator, items: queue.Queue[tuple[Any, ...]]) -> None:
    """The reader thread: the stream's items, then its error, if any, as an item."""
    try:
        for item in stream:
            items.put(item)
    except Exception as error:  # anything: the waiting side decides what it means
        items.put(("error", error))
    else:
        items.put(("error", RuntimeError("the replica ended the batch without its results")))


def _unwrapped(error: Exception, replica: ReplicaInfo | None) -> Exception:
    """What the engine should see: ReplicaDied for a dead replica, the tool's own exception
    (its words for the client, as in a local run) for a failed tool, else `error`."""
    if isinstance(error, RayActorError):
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if replica is None:
            return ReplicaDied(f"a Ray Serve replica died before starting the job ({reason})")
        return ReplicaDied(f"Ray Serve {replica} died mid-job ({reason})")
    if isinstance(error, RayTaskError) and isinstance(error.cause, Exception):
        return error.cause
    return error


def _lost(deaths: list[ReplicaDied], retries: int) -> str:
    """ModelLost's message: every replica that died, and why it was not run again."""
    if retries == 0:
        return f"{deaths[0]}; not retried (ray.retries is 0)"
    tries = "; then ".join(str(died) for died in deaths)
    return f"{tries}; given up after {retries} retry(ies) (ray.retries)"
