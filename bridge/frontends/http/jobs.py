"""Jobs as the REST API shows them, and their Server-Sent Events.

A job's view comes from the engine while the engine holds it (queued, running, progress)
and from the store once it has ended, so any job of the history can be asked about, however
it was submitted. Jobs submitted over HTTP have this module's HttpJobs as their listener: it
notes their progress, wakes their event streams the moment they end, and remembers their
warnings (which the store does not keep); streams of other jobs ask the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bridge.engine.engine import Engine, outcome
from bridge.engine.jobs import Job
from bridge.frontends.metrics import frontend_of
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.store import JobRecord
from bridge.store.history import UNFINISHED

# How often a stream looks at its job's progress. Streams are woken from the engine's threads
# only when a job ends: each wake-up takes the GIL from the worker running the model (a job
# watched this way ran 25% longer on 2 busy cores when every progress step woke its stream).
POLL_SECONDS = 0.25
KEEP_ALIVE_SECONDS = 15.0  # a comment line, so proxies keep a quiet stream open
ENDED_KEPT = 4096  # the latest HTTP jobs that ended, with their warnings
FINAL = ("done", "failed", "cancelled", "timeout")


class HttpJobs:
    """The listener of HTTP jobs and the views of every job (a JobListener)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._ended: OrderedDict[str, None] = OrderedDict()  # HTTP jobs that ended
        self._progress: dict[str, float] = {}  # HTTP jobs running: their last progress
        self._streams: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    # -- JobListener: called from the engine's threads --------------------------------------
    def accepted(self, job: Job) -> None:
        pass  # a stream starts by reading the job: nothing to tell it

    def progress(self, job: Job, fraction: float) -> None:
        with self._lock:  # streams read it when they look next: see POLL_SECONDS
            self._progress[job.job_id] = fraction

    def finished(self, job: Job, results: list[Clip], record: JobRecord) -> None:
        self._end(job)

    def failed(self, job: Job, message: str) -> None:
        self._end(job)

    def _end(self, job: Job) -> None:
        """Remember the job ended, then wake its streams: the store already knows how it
        ended (and its warning), the engine may still hold it a moment."""
        with self._lock:
            self._progress.pop(job.job_id, None)
            self._ended[job.job_id] = None
            while len(self._ended) > ENDED_KEPT:
                self._ended.popitem(last=False)
        self._wake(job.job_id)

    # -- views ----------------------------------------------------------------------------
    def view(self, job_id: str) -> dict[str, Any] | None:
        """The job as GET /v1/jobs/{job_id} shows it; None for a job the store does not know
        (StoreError for an id that is not one)."""
        record = self.engine.store.get(job_id)
        return None if record is None else self.record_view(record)

    def record_view(self, record: JobRecord) -> dict[str, Any]:
        unfinished = record.status in UNFINISHED  # the store learns the end first
        state = self.engine.job_state(record.job_id) if unfinished else None
        if state is not None:
            status, progress = state
        elif unfinished:  # on its way between the engine's queue and the store
            status, progress = ("queued" if record.status == "accepted" else "running"), 0.0
        else:
            status = outcome(record.status, record.error)
            progress = 1.0 if status == "done" else 0.0
        return {
            "job_id": record.job_id,
            "tool": record.tool,
            "model": record.model,
            "status": status,
            "progress": progress,
            "error": record.error,
            "warning": record.warning or None,
            "results": _results(record) if status == "done" else [],
        }

    def history_view(self, record: JobRecord) -> dict[str, Any]:
        return {
            **self.record_view(record),
            "request_id": record.request_id,
            "client": record.client,
            "frontend": frontend_of(record.client),
            "created": record.created,
            "finished": record.finished,
            "params": record.params,
        }

    # -- events ---------------------------------------------------------------------------
    async def events(self, job_id: str) -> AsyncIterator[str]:
        """The job's events as SSE text: accepted, progress..., then done or failed; a job
        that has ended sends its final event at once."""
        loop, wake = asyncio.get_running_loop(), asyncio.Event()
        with self._lock:
            self._streams.setdefault(job_id, set()).add((loop, wake))
        try:
            view = await asyncio.to_thread(self.view, job_id)
            if view is not None and view["status"] not in FINAL:
                yield _event("accepted", view)
            last_progress, sent = 0.0, loop.time()
            while view is not None and view["status"] not in FINAL:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                wake.clear()  # then look: a wake-up from now on is not lost
                with self._lock:  # what this job's listener heard, if it is an HTTP job
                    ended, progress = job_id in self._ended, self._progress.get(job_id)
                if progress is None and not ended:  # another frontend's job: ask the engine
                    state = await asyncio.to_thread(self.engine.job_state, job_id)
                    ended, progress = state is None, 0.0 if state is None else state[1]
                if ended:  # (or between the engine's queue and the store, for a moment)
                    view = await asyncio.to_thread(self.view, job_id)
                elif progress > last_progress:
                    last_progress, sent = progress, loop.time()
                    yield _event("progress", {"progress": last_progress})
                elif loop.time() - sent >= KEEP_ALIVE_SECONDS:
                    sent = loop.time()
                    yield ": still working\n\n"
            if view is not None:
                yield _final_event(view)
        finally:
            with self._lock:
                streams = self._streams.get(job_id, set())
                streams.discard((loop, wake))
                if not streams:
                    self._streams.pop(job_id, None)

    def _wake(self, job_id: str) -> None:
        with self._lock:
            streams = list(self._streams.get(job_id, ()))
        for loop, wake in streams:
            with contextlib.suppress(RuntimeError):  # the stream's loop has closed
                loop.call_soon_threadsafe(wake.set)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def _final_event(view: dict[str, Any]) -> str:
    if view["status"] == "done":
        return _event("done", view)
    return _event("failed", {"error": view["error"], "status": view["status"], "job": view})


def _results(record: JobRecord) -> list[dict[str, Any]]:
    midi = tuple(path for path in record.result_paths if path.suffix == ".mid")
    previews = {path.stem for path in record.result_paths if path.suffix == ".wav"}
    base = f"/v1/jobs/{record.job_id}"
    return [
        {
            "index": index,
            **_summary(path),
            "midi_url": f"{base}/results/{index}.mid",
            "preview_url": f"{base}/previews/{index}.wav" if path.stem in previews else None,
        }
        for index, path in enumerate(midi)
    ]


@functools.lru_cache(maxsize=4096)
def _summary(path: Path) -> dict[str, Any]:
    """A stored result's notes, length and drum flag (files never change once written)."""
    try:
        clip = read_midi(path, allow_empty=True)
    except (OSError, ClipError):
        return {"notes_count": None, "length": None, "drums": None}
    return {"notes_count": len(clip.notes), "length": clip.length, "drums": clip.drums}
