"""What the job engine passes around: requests in, jobs in flight, listeners for replies."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from bridge.music.clip import Clip
from bridge.music.content import Content
from bridge.store import JobRecord
from bridge.tools.registry import Tool


class RequestError(ValueError):
    """A request cannot be accepted as sent; the message says what to change."""


class Busy(RequestError):
    """The queue is full: the client should retry later (never silence)."""


class JobStopped(Exception):
    """Raised inside a running tool to stop it: cancelled, timed out or shutting down."""


class ModelLost(RuntimeError):
    """The process holding the model died while running a batch (a Ray Serve replica), and
    no retry saved it; the message says what happened, for the client and the history."""


@dataclass(frozen=True)
class JobRequest:
    """A tool request as a frontend hands it over: already decoded, not yet checked."""

    client: str  # "udp:127.0.0.1:9001", "tcp:...", "cli": where replies go, for the history
    request_id: str
    tool: str
    clips: tuple[Clip, ...]
    params: dict[str, Any] = field(default_factory=dict)  # raw client values
    model: str | None = None  # None: chosen by the clip's content (config by_content), or default
    content: Content | None = None  # without clips, the content to choose a model for
    render: bool = False  # also write a WAV preview of each result


class JobListener(Protocol):
    """How a frontend hears about a job; called from the engine's worker threads."""

    def accepted(self, job: Job) -> None: ...

    def progress(self, job: Job, fraction: float) -> None: ...

    def finished(self, job: Job, results: list[Clip], record: JobRecord) -> None: ...

    def failed(self, job: Job, message: str) -> None: ...


@dataclass
class Job:
    """An accepted request on its way through the queue and a worker."""

    request: JobRequest
    tool: Tool
    params: dict[str, Any]  # checked and converted
    record: JobRecord
    listener: JobListener
    deadline: float  # time.monotonic() after which the job is stopped
    model_reason: str = ""  # why its model serves it: named, by the clip's content, default
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None  # time.monotonic() when a worker took it
    progress: float = 0.0  # 0..1, as last reported to its listener
    stop_reason: str | None = None
    warning: str = ""  # said to the client with the results (e.g. some are silent)
    _stop: threading.Event = field(default_factory=threading.Event)
    _stopped_at: float | None = None
    _settled: bool = False
    _settle_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def job_id(self) -> str:
        return self.record.job_id

    def stop(self, reason: str) -> None:
        """Ask the job to stop at its next step (cancel, shutdown)."""
        self.stop_reason = reason
        self._stopped_at = self._stopped_at or time.monotonic()
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set() or time.monotonic() > self.deadline

    @property
    def stopped_since(self) -> float | None:
        """When the job was told to stop or ran out of time; None while it may run."""
        since = self.deadline
        if self._stop.is_set() and self._stopped_at is not None:
            since = min(since, self._stopped_at)
        return since if since <= time.monotonic() else None

    @property
    def settled(self) -> bool:
        """Whether the job has had its final answer."""
        return self._settled

    def settle(self) -> bool:
        """Claim the job's one final answer (done or failed): True for the first caller only,
        so a worker and the watchdog never both answer."""
        with self._settle_lock:
            first, self._settled = not self._settled, True
            return first

    def check(self) -> None:
        """Raise JobStopped if the job was stopped or ran past its deadline."""
        if self._stop.is_set():
            raise JobStopped(self.stop_reason or "stopped")
        if time.monotonic() > self.deadline:
            raise JobStopped("timed out")
