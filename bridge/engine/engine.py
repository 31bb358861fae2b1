"""The job engine: checks requests, queues them per device, runs them, records everything.

A request is checked in full before it is accepted, so a bad one is refused at once
with a message; an accepted one is on disk (store.accept) before the client hears
"accepted", and its results are on disk (store.finish) before it hears "done". Each
device has one worker thread and a bounded queue; a full queue refuses with Busy
rather than letting requests pile up unseen.

Every accepted job gets exactly one final answer (`Job.settle`), and nothing a tool or a
listener raises can stop a worker. The job timeout is a hard limit: a watchdog fails a
job the moment it runs out of time, and a worker still inside the tool a moment later is
interrupted (an exception raised in its thread), so its memory is freed too.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bridge.config import Config, Limits
from bridge.engine.jobs import (
    Busy,
    Job,
    JobListener,
    JobRequest,
    JobStopped,
    ModelLost,
    RequestError,
)
from bridge.engine.observer import EngineObserver, NoObserver
from bridge.engine.warm_models import Reloaded, WarmModel, WarmModels
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.render import RenderError
from bridge.store import ResultStore, StoreError
from bridge.tools.params import parse_params
from bridge.tools.registry import TOOLS

log = logging.getLogger(__name__)

Renderer = Callable[[Clip, Path], Path]  # clip, wav path -> wav path
PROGRESS_REPORTS = 10  # progress messages per job, at most
MAX_BATCH_JOBS = 16  # jobs sharing one forward pass
WATCH_SECONDS = 0.1  # how often the watchdog looks at deadlines
INTERRUPT_GRACE_S = 0.5  # a stopped job's worker may finish its step before it is interrupted
TIMED_OUT = "timed out after"  # how a timed-out job's error begins, in the store too


class _Overran(BaseException):
    """Raised inside a worker whose jobs all ran out of time or were cancelled, and that
    did not stop by itself; a BaseException, so no `except Exception` in a tool eats it."""


@dataclass(frozen=True)
class Health:
    """What /magenta/test reports: a worker that died would show here, not in silence."""

    workers: int
    workers_alive: int
    queued: int
    running: int


class Engine:
    def __init__(
        self,
        models: WarmModels,
        store: ResultStore,
        limits: Limits,
        *,
        queue_size: int = 64,
        job_timeout: float = 60.0,
        renderer: Renderer | None = None,
        observer: EngineObserver | None = None,
    ):
        self.models = models
        self.store = store
        self.limits = limits
        self.queue_size = queue_size
        self.job_timeout = job_timeout
        self.renderer = renderer
        self.observer = observer or NoObserver()
        self._lock = threading.Condition()
        self._queues: dict[str, deque[Job]] = {}
        self._running: dict[str, Job] = {}
        self._in_tool: dict[int, list[Job]] = {}  # worker thread id -> the batch in its tool
        self._interrupted: set[int] = set()
        self._closing = False
        self._workers: list[threading.Thread] = []
        for warm in models:
            if warm.queue not in self._queues:
                self._start_workers(warm.queue, warm.workers)
        self._watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self._watchdog.start()

    # -- called by frontends ---------------------------------------------------------
    def submit(self, request: JobRequest, listener: JobListener) -> Job:
        """Check and accept a request, or raise RequestError (Busy when the queue is full)."""
        try:
            job = self._accept(request, listener)
        except Busy:
            self._observe("submitted", request, "busy")
            raise
        except Exception:
            self._observe("submitted", request, "refused")
            raise
        self._observe("submitted", request, "accepted")
        return job

    def _accept(self, request: JobRequest, listener: JobListener) -> Job:
        tool = TOOLS.get(request.tool)
        if tool is None:
            raise RequestError(f"unknown tool {request.tool!r}; tools: {', '.join(sorted(TOOLS))}")
        warm, model_reason = self.models.choose(
            request.model, request.clips, tool.serves, request.content
        )
        if warm is None:
            raise RequestError(
                f"unknown model {request.model!r}; models: {', '.join(self.models.names())}"
            )
        if not tool.serves(warm.spec):
            configured = [model.spec for model in self.models]
            raise RequestError(
                tool.refusal(warm.spec, configured, self.models.catalog.missing.values())
            )
        if len(request.clips) != tool.inputs:
            raise RequestError(f"{tool.name} takes {tool.inputs} clip(s), got {len(request.clips)}")
        for slot, clip in enumerate(request.clips):
            self.check_clip(clip, f"the clip in slot {slot}")
        if self.renderer is None and request.render:
            raise RequestError(
                "audio preview is not available: no SoundFont was found when the daemon started "
                "(install timgm6mb-soundfont or set soundfont in the config)"
            )
        params = parse_params(tool.params, request.params, self.limits)
        tool.check(warm.spec, request.clips, params, self.limits)
        with self._lock:
            if self._closing:
                raise Busy("the daemon is shutting down")
            if self._find(request.client, request.request_id):
                raise RequestError(f"request id {request.request_id!r} is already in use by a job")
            queue = self._queues[warm.queue]
            if len(queue) >= self.queue_size:
                raise Busy(f"busy: {len(queue)} jobs are waiting; try again shortly")
            record = self.store.accept(
                client=request.client,
                request_id=request.request_id,
                tool=tool.name,
                model=warm.spec.name,
                params={**params, "render": request.render},
                inputs=request.clips,
            )
            job = Job(
                request,
                tool,
                params,
                record,
                listener,
                time.monotonic() + self.job_timeout,
                model_reason=model_reason,
            )
            self._tell(job, "accepted")
            queue.append(job)
            self._lock.notify_all()
        return job

    def reload_models(
        self, config: Config, announce: Callable[[WarmModel], None] = lambda _: None
    ) -> Reloaded:
        """Serve the models `config` names now (WarmModels.reload), with a worker for any
        device new to this engine. A model no longer served is closed (the magenta
        backend's process) unless a job is running on it; jobs still queued for it fail
        when their turn comes."""
        reloaded = self.models.reload(config, announce)
        with self._lock:
            for warm in self.models:
                if warm.queue not in self._queues:
                    self._start_workers(warm.queue, warm.workers)
            busy = {job.record.model for job in self._running.values()}
        for warm in reloaded.removed:
            close = getattr(warm.model, "close", None)
            if close is not None and warm.spec.name not in busy:
                close()
        return reloaded

    def check_clip(self, clip: Clip, what: str) -> None:
        """Refuse a clip beyond the limits, whichever frontend it came through."""
        if len(clip.notes) > self.limits.max_notes:
            raise RequestError(
                f"{what} has {len(clip.notes)} notes; the limit is {self.limits.max_notes}"
            )
        if clip.length > self.limits.max_clip_beats:
            raise RequestError(
                f"{what} is {clip.length:g} beats long; the limit is "
                f"{self.limits.max_clip_beats:g} (limits.max_clip_beats)"
            )

    def cancel(self, client: str, request_id: str) -> bool:
        """Stop the client's job with this request id; False if none. A running job stops at
        its next step; a queued one leaves its queue and is answered at once, rather than
        when it would have reached the front."""
        with self._lock:
            job = self._find(client, request_id)
            if job is None:
                return False
            job.stop("cancelled")
            waiting = next((queue for queue in self._queues.values() if job in queue), None)
            if waiting is not None:
                waiting.remove(job)
        if waiting is not None:
            self._fail_with(job, JobStopped("cancelled"))
        return True

    def queued(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    def queue_depths(self) -> dict[str, int]:
        """Jobs waiting, by queue: a device, or a model served on Ray."""
        with self._lock:
            return {name: len(queue) for name, queue in self._queues.items()}

    def job_state(self, job_id: str) -> tuple[str, float] | None:
        """("queued" or "running", progress 0..1) of a job the engine still holds; None once
        it has left the engine (the store then knows how it ended)."""
        with self._lock:
            job = self._running.get(job_id)
            if job is not None:
                return "running", job.progress
            for queue in self._queues.values():
                if any(waiting.job_id == job_id for waiting in queue):
                    return "queued", 0.0
        return None

    def health(self) -> Health:
        with self._lock:
            return Health(
                workers=len(self._workers),
                workers_alive=sum(worker.is_alive() for worker in self._workers),
                queued=sum(len(q) for q in self._queues.values()),
                running=len(self._running),
            )

    def close(self, grace: float = 10.0) -> None:
        """Stop accepting, let running jobs finish for up to `grace` seconds, fail the rest."""
        with self._lock:
            self._closing = True
            waiting = [job for queue in self._queues.values() for job in queue]
            for queue in self._queues.values():
                queue.clear()
            self._lock.notify_all()
        for job in waiting:
            self._fail(job, "the daemon stopped before the job started", "failed")
        deadline = time.monotonic() + grace
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for job in self._running.values():
                job.stop("the daemon stopped while the job was running")
        for worker in self._workers:
            worker.join()
        self._watchdog.join()

    def _find(self, client: str, request_id: str) -> Job | None:
        """The client's queued or running job with this request id (lock held)."""
        jobs = [*self._running.values(), *(j for q in self._queues.values() for j in q)]
        for job in jobs:
            if job.request.client == client and job.request.request_id == request_id:
                return job
        return None

    # -- the worker ----------------------------------------------------------------------
    def _start_workers(self, queue: str, count: int) -> None:
        """A queue (WarmModel.queue) and `count` workers taking batches from it: one for a
        local device, one per replica of a model served on Ray."""
        self._queues[queue] = deque()
        for number in range(count):
            name = f"worker-{queue}" + (f"-{number}" if count > 1 else "")
            worker = threading.Thread(target=self._work, args=(queue,), name=name)
            self._workers.append(worker)
            worker.start()

    def _work(self, device: str) -> None:
        queue = self._queues[device]
        while True:
            with self._lock:
                while not queue and not self._closing:
                    self._lock.wait()
                if not queue:
                    return
                batch = self._take_batch(queue)
                for job in batch:
                    self._running[job.job_id] = job
            try:
                self._run(batch)
            except Exception as error:  # a bug in the engine itself: answer, keep working
                log.exception("worker-%s: a batch failed", device)
                for job in batch:
                    self._fail_with(job, error)
            finally:
                with self._lock:
                    for job in batch:
                        del self._running[job.job_id]

    def _watch(self) -> None:
        """Fail jobs the moment they run out of time, and interrupt a worker that stays in
        its tool after every job of its batch was stopped."""
        while True:
            with self._lock:
                self._lock.wait(WATCH_SECONDS)
                if self._closing and not self._running:
                    return
                running = (job for job in self._running.values() if not job.settled)
                overdue = [job for job in running if job.stopped_since]
                for queue in self._queues.values():
                    late = [job for job in queue if time.monotonic() > job.deadline]
                    for job in late:
                        queue.remove(job)
                    overdue += late
                now = time.monotonic()
                for ident, batch in self._in_tool.items():
                    since = [job.stopped_since for job in batch]
                    stuck = all(t is not None and now - t > INTERRUPT_GRACE_S for t in since)
                    if stuck and ident not in self._interrupted:
                        self._interrupted.add(ident)
                        _raise_in_thread(ident, _Overran)
            for job in overdue:
                if job.stopped_since == job.deadline:
                    self._fail_with(job, JobStopped("timed out"))

    @contextlib.contextmanager
    def _interruptible(self, batch: list[Job]) -> Iterator[None]:
        """While a worker runs a tool, the watchdog may interrupt it. Use inside a `try`
        that catches _Overran: the interruption may land anywhere in the block, even as
        it is left, and none is left pending for the engine code after it."""
        ident = threading.get_ident()
        with self._lock:
            self._in_tool[ident] = batch
            self._interrupted.discard(ident)
        try:
            yield
        finally:
            with self._lock:
                del self._in_tool[ident]
                if ident in self._interrupted:
                    self._interrupted.discard(ident)
                    _raise_in_thread(ident, None)  # cancel one not yet delivered

    def _take_batch(self, queue: deque[Job]) -> list[Job]:
        """The first waiting job, plus later ones that can share its forward pass (lock held)."""
        first = queue.popleft()
        key = self._batch_key(first)
        if key is None:
            return [first]
        batch = [first]
        for job in list(queue):
            if len(batch) == MAX_BATCH_JOBS:
                break
            if self._batch_key(job) == key:
                queue.remove(job)
                batch.append(job)
        return batch

    def _batch_key(self, job: Job) -> tuple | None:
        if job.tool.batch_key is None:
            return None
        return (job.record.model, job.tool.name, job.tool.batch_key(job.request.clips, job.params))

    def _run(self, batch: list[Job]) -> None:
        """Run jobs together; a job stopped midway drops out, the others go on."""
        started = time.monotonic()
        live = []
        for job in batch:
            job.started_at = started
            try:
                job.check()
                self.store.mark_running(job.job_id)
                live.append(job)
            except Exception as error:
                self._fail_with(job, error)
        reported = dict.fromkeys((job.job_id for job in live), 0)

        def progress(done: int, total: int) -> None:
            for job in live:
                step = done * PROGRESS_REPORTS // total
                if not job.stopped and step > reported[job.job_id]:
                    reported[job.job_id] = step
                    job.progress = done / total
                    self._tell(job, "progress", job.progress)
            if all(job.stopped for job in live):
                raise JobStopped("every job of the batch was stopped")

        if not live:
            return
        warm = self.models.get(live[0].record.model)
        if warm is None:
            for job in live:
                self._fail(job, f"model {job.record.model!r} was unloaded by a reload", "failed")
            return
        note = ""
        try:
            calls = [(job.request.clips, job.params) for job in live]
            with self._interruptible(live):
                ran = warm.run(live[0].tool, calls, self.limits, progress)
            outputs, note = ran.outputs, ran.note
        except (JobStopped, _Overran):
            outputs = [[] for _ in live]
        except ModelLost as error:  # not the requests' fault: running them alone cannot help
            for job in live:
                self._fail_with(job, error)
            return
        except Exception as error:
            if len(live) > 1:  # find out which request the model could not serve
                for job in live:
                    self._run([job])
                return
            self._fail_with(live[0], error)
            return
        run_seconds = time.monotonic() - started
        self._observe("batch_ran", live[0].record.model, live[0].tool.name, len(live), run_seconds)
        self._finish(live, outputs, note, started, run_seconds)

    def _finish(
        self, live: list[Job], outputs: list[list[Clip]], note: str, started: float, run_s: float
    ) -> None:
        """Warn, render, store and answer each job of a batch that ran; `note` is the run's
        word for every job's warning (a served model's retry)."""
        for job, results in zip(live, outputs, strict=True):
            try:
                job.check()
                warn = job.tool.warn
                tool_warning = warn(job.request.clips, job.params, results) if warn else ""
                job.warning = "; ".join(filter(None, (note, tool_warning, _silence(results))))
                render_started = time.monotonic()
                previews = self._render(job, results) if job.request.render else []
                timings = {
                    "queue_s": round(started - job.queued_at, 6),
                    "run_s": round(run_s, 6),
                    "render_s": round(time.monotonic() - render_started, 6),
                    "batch": len(live),
                }
            except Exception as error:
                self._fail_with(job, error)
                continue
            if not job.settle():
                continue  # the watchdog answered first: timed out
            try:
                record = self.store.finish(
                    job.job_id, results, timings, extra_files=previews, warning=job.warning
                )
            except Exception as error:
                self._fail_with(job, error, settled=True)
                continue
            job.progress = 1.0
            self._observe("ended", job, "done")
            if not self._tell(job, "finished", results, record):
                text = f"job {job.job_id} is done and stored, but its results could not be sent"
                self._tell(job, "failed", f"{text} (job/get {job.job_id} fetches them)")

    def _render(self, job: Job, results: list[Clip]) -> list[Path]:
        folder = self.store.job_folder(job.job_id)
        paths = []
        for index, clip in enumerate(results, start=1):
            job.check()
            paths.append(self.renderer(clip, folder / f"result-{index}.wav"))
        return paths

    def _fail_with(self, job: Job, error: Exception, settled: bool = False) -> None:
        """Report why a job ended early, in words a producer can act on."""
        ending = None  # what the observer hears, when it is not the stored status
        if isinstance(error, JobStopped):
            if str(error) == "timed out":
                message, status = f"{TIMED_OUT} {self.job_timeout:g} s", "failed"
                ending = "timeout"
            else:
                message = str(error)
                status = "cancelled" if message == "cancelled" else "failed"
        elif isinstance(error, ValueError | RenderError | ModelLost):  # ClipError, StoreError...
            message, status = str(error), "failed"
        else:  # a bug or a broken model: report it, keep serving
            log.error("job %s failed", job.job_id, exc_info=error)
            message, status = f"internal error: {type(error).__name__}: {error}", "failed"
        self._fail(job, message, status, settled, ending)

    def _fail(
        self,
        job: Job,
        message: str,
        status: str,
        settled: bool = False,
        ending: str | None = None,
    ) -> None:
        """Record and report a failure, unless the job already has its final answer;
        `ending` is what the observer hears when it is not `status` (a timeout)."""
        if not (settled or job.settle()):
            return
        with contextlib.suppress(StoreError):
            self.store.fail(job.job_id, message, status=status)
        self._observe("ended", job, ending or status)
        self._tell(job, "failed", message)

    def _tell(self, job: Job, event: str, *args: object) -> bool:
        """Call the job's listener; whatever it raises is logged, never left to stop a
        worker. False when it raised."""
        try:
            getattr(job.listener, event)(job, *args)
        except Exception:
            log.exception("job %s: the frontend failed on %s", job.job_id, event)
            return False
        return True

    def _observe(self, event: str, *args: object) -> None:
        """Tell the observer; like a listener, it can never stop a worker or a request."""
        try:
            getattr(self.observer, event)(*args)
        except Exception:
            log.exception("the engine's observer failed on %s", event)


def outcome(status: str, error: str | None) -> str:
    """How a job the store holds ended, as clients see it: the store keeps a timeout as
    "failed" with the engine's words, which say it timed out."""
    if status == "failed" and (error or "").startswith(TIMED_OUT):
        return "timeout"
    return status


def _silence(results: list[Clip]) -> str:
    """A word for the client when some results are silent; ClipError when all of them are,
    since an empty clip handed over without a word looks like a broken tool."""
    silent = [index for index, clip in enumerate(results, start=1) if not clip.notes]
    if len(silent) == len(results):
        raise ClipError(
            "the model answered with silence (every result is empty): try a higher "
            "temperature, another seed or a longer clip"
        )
    if not silent:
        return ""
    numbers = ", ".join(map(str, silent))
    return f"{len(silent)} of {len(results)} results are silent (number {numbers})"


def _raise_in_thread(ident: int, error: type[BaseException] | None) -> None:
    """Raise `error` in another thread at its next Python instruction (None: cancel one not
    yet raised). The only way to stop Python code that does not check for stop requests."""
    exception = ctypes.py_object(error) if error is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), exception)
