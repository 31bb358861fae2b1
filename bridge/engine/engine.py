"""The job engine: checks requests, queues them per device, runs them, records everything.

A request is checked in full before it is accepted, so a bad one is refused at once
with a message; an accepted one is on disk (store.accept) before the client hears
"accepted", and its results are on disk (store.finish) before it hears "done". Each
device has one worker thread and a bounded queue; a full queue refuses with Busy
rather than letting requests pile up unseen.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from bridge.config import Limits
from bridge.engine.jobs import Busy, Job, JobListener, JobRequest, JobStopped, RequestError
from bridge.engine.warm_models import WarmModels
from bridge.music.clip import Clip
from bridge.render import RenderError
from bridge.store import ResultStore, StoreError
from bridge.tools.params import parse_params
from bridge.tools.registry import TOOLS

Renderer = Callable[[Clip, Path], Path]  # clip, wav path -> wav path
PROGRESS_REPORTS = 10  # progress messages per job, at most
MAX_BATCH_JOBS = 16  # jobs sharing one forward pass


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
    ):
        self.models = models
        self.store = store
        self.limits = limits
        self.queue_size = queue_size
        self.job_timeout = job_timeout
        self.renderer = renderer
        self._lock = threading.Condition()
        self._queues: dict[str, deque[Job]] = {m.device: deque() for m in models}
        self._running: dict[str, Job] = {}
        self._closing = False
        self._workers = [
            threading.Thread(target=self._work, args=(device,), name=f"worker-{device}")
            for device in self._queues
        ]
        for worker in self._workers:
            worker.start()

    # -- called by frontends ---------------------------------------------------------
    def submit(self, request: JobRequest, listener: JobListener) -> Job:
        """Check and accept a request, or raise RequestError (Busy when the queue is full)."""
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
                tool.refusal(warm.spec, configured, self.models.config.missing.values())
            )
        if len(request.clips) != tool.inputs:
            raise RequestError(f"{tool.name} takes {tool.inputs} clip(s), got {len(request.clips)}")
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
            queue = self._queues[warm.device]
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
            listener.accepted(job)
            queue.append(job)
            self._lock.notify_all()
        return job

    def cancel(self, client: str, request_id: str) -> bool:
        """Stop the client's job with this request id, queued or running; False if none."""
        with self._lock:
            job = self._find(client, request_id)
            if job is not None:
                job.stop("cancelled")
            return job is not None

    def queued(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

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

    def _find(self, client: str, request_id: str) -> Job | None:
        """The client's queued or running job with this request id (lock held)."""
        jobs = [*self._running.values(), *(j for q in self._queues.values() for j in q)]
        for job in jobs:
            if job.request.client == client and job.request.request_id == request_id:
                return job
        return None

    # -- the worker ----------------------------------------------------------------------
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
            finally:
                with self._lock:
                    for job in batch:
                        del self._running[job.job_id]

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
                    job.listener.progress(job, done / total)
            if all(job.stopped for job in live):
                raise JobStopped("every job of the batch was stopped")

        if not live:
            return
        try:
            warm = self.models.get(live[0].record.model)
            calls = [(job.request.clips, job.params) for job in live]
            outputs = live[0].tool.run(warm.model, calls, self.limits, progress)
        except JobStopped:
            outputs = [[] for _ in live]
        except Exception as error:
            if len(live) > 1:  # find out which request the model could not serve
                for job in live:
                    self._run([job])
                return
            self._fail_with(live[0], error)
            return
        run_seconds = time.monotonic() - started
        for job, results in zip(live, outputs, strict=True):
            try:
                job.check()
                render_started = time.monotonic()
                previews = self._render(job, results) if job.request.render else []
                timings = {
                    "queue_s": round(started - job.queued_at, 6),
                    "run_s": round(run_seconds, 6),
                    "render_s": round(time.monotonic() - render_started, 6),
                    "batch": len(live),
                }
                record = self.store.finish(job.job_id, results, timings, extra_files=previews)
            except Exception as error:
                self._fail_with(job, error)
                continue
            job.listener.finished(job, results, record)

    def _render(self, job: Job, results: list[Clip]) -> list[Path]:
        folder = self.store.job_folder(job.job_id)
        paths = []
        for index, clip in enumerate(results, start=1):
            job.check()
            paths.append(self.renderer(clip, folder / f"result-{index}.wav"))
        return paths

    def _fail_with(self, job: Job, error: Exception) -> None:
        """Report why a job ended early, in words a producer can act on."""
        if isinstance(error, JobStopped):
            if str(error) == "timed out":
                self._fail(job, f"timed out after {self.job_timeout:g} s", "failed")
            else:
                self._fail(job, str(error), "cancelled" if str(error) == "cancelled" else "failed")
        elif isinstance(error, ValueError | RenderError):  # ClipError, StoreError, no FluidSynth
            self._fail(job, str(error), "failed")
        else:  # a bug or a broken model: report it, keep serving
            self._fail(job, f"internal error: {type(error).__name__}: {error}", "failed")

    def _fail(self, job: Job, message: str, status: str) -> None:
        """Record and report a failure; a job already final in the store keeps its state."""
        with contextlib.suppress(StoreError):
            self.store.fail(job.job_id, message, status=status)
        job.listener.failed(job, message)
