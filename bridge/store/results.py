"""ResultStore: each job's inputs, parameters and results on disk, indexed by job id.

    root/history.sqlite              the index (history.py)
    root/jobs/<job_id>/input-1.mid   the clips the client sent
                       params.json   who asked for which tool, model and parameters
                       result-1.mid  one file per result clip; WAV previews beside them

Files are written first, each atomically, and the index row after them, so a row never names a
file that was cut short; the row is committed (durably) before accept and finish return, so the
reply to the client can promise that nothing will be lost.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from bridge.music.clip import Clip
from bridge.music.midi import midi_bytes
from bridge.store.atomic import atomic_write, fsync_dir, remove_temp_files
from bridge.store.history import UNFINISHED, JobIndex, JobRecord, StoreError

# Clients send job ids back (to fetch or cancel); only this shape can ever reach the file system.
JOB_ID = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")
RECOVERED_ERROR = "daemon stopped before the job finished"


def new_job_id(created: float | None = None) -> str:
    """A time-sortable id (UTC second + 24 random bits) that is a safe folder name.

    Unique in practice; the store's mkdir makes sure, drawing again on a clash.
    """
    when = time.gmtime(time.time() if created is None else created)
    return f"{time.strftime('%Y%m%dT%H%M%S', when)}-{secrets.token_hex(3)}"


class ResultStore:
    """Jobs on disk under `root`; safe to share between the daemon's threads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._jobs = self.root / "jobs"
        self._jobs.mkdir(parents=True, exist_ok=True)
        for folder in (self.root.parent, self.root):
            fsync_dir(folder)  # a new store's folders must survive a crash too
        self._index = JobIndex(self.root / "history.sqlite", self.root)

    def close(self) -> None:
        self._index.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def accept(
        self,
        *,
        client: str,
        request_id: str,
        tool: str,
        model: str,
        params: Mapping[str, Any],
        inputs: Sequence[Clip] = (),
    ) -> JobRecord:
        """Record a new job with its input clips, durably, before the client is told it exists."""
        plain_params = _plain_json(params, "params")
        # Everything that can be refused (JSON, clips MIDI cannot hold) is refused before any file.
        data = [midi_bytes(clip) for clip in inputs]
        created = time.time()
        job_id, folder = self._new_folder(created)
        input_paths = [folder / f"input-{number}.mid" for number in range(1, len(data) + 1)]
        for path, midi in zip(input_paths, data, strict=True):
            atomic_write(path, midi)
        request = dict(job_id=job_id, client=client, request_id=request_id, tool=tool, model=model)
        description = {**request, "created": created, "params": plain_params}
        atomic_write(folder / "params.json", json.dumps(description, indent=2).encode())
        record = JobRecord(
            **request,
            params=plain_params,
            status="accepted",
            created=created,
            finished=None,
            timings={},
            input_paths=input_paths,
            result_paths=[],
            error=None,
        )
        self._index.insert(record)
        return record

    def mark_running(self, job_id: str) -> None:
        """The worker took the job; StoreError if it was cancelled (or finished) meanwhile."""
        self._index.update(_checked(job_id), ("accepted",), status="running")

    def finish(
        self,
        job_id: str,
        results: Sequence[Clip],
        timings: Mapping[str, float],
        extra_files: Sequence[Path] = (),
        warning: str = "",
    ) -> JobRecord:
        """Write the result clips, then mark the job done in one durable update, with the
        `warning` its client is told, if any.

        `extra_files` are files already written inside the job folder (WAV previews); they are
        listed after the MIDI files in result_paths. A job cancelled meanwhile stays cancelled
        (StoreError), and any result files written for it are left unlisted in its folder.
        """
        folder = self._unfinished_folder(job_id)
        plain_timings = _plain_json(timings, "timings")
        extras = [_inside(folder, Path(path)) for path in extra_files]
        data = [midi_bytes(clip) for clip in results]
        paths = [folder / f"result-{number}.mid" for number in range(1, len(data) + 1)]
        for path, midi in zip(paths, data, strict=True):
            atomic_write(path, midi)
        return self._index.update(
            job_id,
            UNFINISHED,
            status="done",
            finished=time.time(),
            timings=plain_timings,
            result_paths=paths + extras,
            warning=warning,
        )

    def fail(self, job_id: str, error: str, status: str = "failed") -> JobRecord:
        """End an unfinished job as "failed" or "cancelled", with the reason the client will see."""
        if status not in ("failed", "cancelled"):
            raise StoreError(f"a job can fail as 'failed' or 'cancelled', not {status!r}")
        return self._index.update(
            _checked(job_id), UNFINISHED, status=status, finished=time.time(), error=error
        )

    def job_folder(self, job_id: str) -> Path:
        """Where the job's files live, so the renderer can write WAV previews there."""
        return self._jobs / _checked(job_id)

    def get(self, job_id: str) -> JobRecord | None:
        """The job's record, or None for a well-formed id the store does not know."""
        return self._index.get(_checked(job_id))

    def history(
        self, limit: int = 50, client: str | None = None, offset: int = 0
    ) -> list[JobRecord]:
        """The newest `limit` jobs after skipping the `offset` newest, newest first, optionally
        only those of one client."""
        if limit < 0 or offset < 0:
            raise StoreError(f"history limit {limit} or offset {offset} is negative")
        return self._index.history(limit, client, offset)

    def recover(self) -> int:
        """At daemon start, before any accept: fail the jobs a crash left unfinished; returns
        how many.

        Temp files of writes the crash cut short are removed from their folders. A job folder
        without an index row is an accept the crash cut short (accept writes the files before
        the row, so that a row never names a missing file): no client was told of that job, so
        its folder goes. Building the folder elsewhere and renaming it into place would not
        spare this sweep: whichever of rename and row comes first, a crash between them leaves
        one without the other. A folder with results is never such a folder (a lost or
        replaced index, rather): it stays.
        """
        indexed = self._index.job_ids()
        for folder in self._jobs.iterdir():
            cut_short = JOB_ID.fullmatch(folder.name) and folder.name not in indexed
            if cut_short and not any(folder.glob("result-*")):
                shutil.rmtree(folder)
        job_ids = self._index.fail_unfinished(RECOVERED_ERROR, time.time())
        for job_id in job_ids:
            remove_temp_files(self._jobs / job_id)
        return len(job_ids)

    def _new_folder(self, created: float) -> tuple[str, Path]:
        """A fresh job id and its folder, made durable; mkdir is what proves the id unused."""
        while True:
            job_id = new_job_id(created)
            folder = self._jobs / job_id
            try:
                folder.mkdir()
            except FileExistsError:
                continue  # two jobs in one second drew the same 24 bits: draw again
            fsync_dir(self._jobs)
            return job_id, folder

    def _unfinished_folder(self, job_id: str) -> Path:
        """The folder of a job that may still get results; StoreError before any file is written."""
        record = self.get(job_id)
        if record is None:
            raise StoreError(f"no job {job_id}")
        if record.status not in UNFINISHED:
            raise StoreError(f"job {job_id} is {record.status}; it cannot become done")
        return self._jobs / job_id


def _checked(job_id: str) -> str:
    if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
        raise StoreError(f"invalid job id {job_id!r}: job ids look like 20261126T101500-3f9a2c")
    return job_id


def _inside(folder: Path, path: Path) -> Path:
    """`path` resolved, if it is a file inside `folder` (links may not lead out of it)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(folder) or not resolved.is_file():
        raise StoreError(f"extra file {path} is not a file inside the job folder {folder}")
    return resolved


def _plain_json(value: Mapping[str, Any], what: str) -> dict[str, Any]:
    """`value` as it will read back from JSON (tuples become lists), or StoreError."""
    try:
        plain: dict[str, Any] = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as error:
        raise StoreError(f"{what} cannot be stored as JSON: {error}") from None
    return plain
