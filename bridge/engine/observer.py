"""What the engine tells an observer (the daemon's metrics) about the work it does.

The engine reports events; what is counted and how is the observer's business, so the engine
imports no metrics library and runs the same with no observer at all.
"""

from __future__ import annotations

from typing import Protocol

from bridge.engine.jobs import Job, JobRequest


class EngineObserver(Protocol):
    """Called from frontend and worker threads; whatever it raises is logged and ignored."""

    def submitted(self, request: JobRequest, outcome: str) -> None:
        """A tool request was "accepted", "refused" (a bad request) or turned away ("busy")."""

    def batch_ran(self, model: str, tool: str, size: int, seconds: float) -> None:
        """A tool ran `size` jobs as one batch in `seconds`."""

    def ended(self, job: Job, outcome: str) -> None:
        """A job had its final answer: "done", "failed", "cancelled" or "timeout"; its
        queued_at and started_at say when it waited and ran."""


class NoObserver:
    """The observer of an engine nobody watches."""

    def submitted(self, request: JobRequest, outcome: str) -> None:
        pass

    def batch_ran(self, model: str, tool: str, size: int, seconds: float) -> None:
        pass

    def ended(self, job: Job, outcome: str) -> None:
        pass
