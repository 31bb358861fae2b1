"""The history index: one SQLite table of jobs, so any job can be found again by its id.

WAL journal with synchronous=FULL: a commit is on disk when it returns, and a reader (the CLI
looking at history while the daemon runs) never blocks the writer. The daemon's threads share one
connection with every statement under one lock: simple, and correct at the rate DAWs send jobs.
Paths are stored relative to the store's root, so a store folder that was moved still resolves.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2  # PRAGMA user_version; bump it with a migration when the table changes
STATUSES = ("accepted", "running", "done", "failed", "cancelled")
UNFINISHED = ("accepted", "running")
_JSON_COLUMNS = ("params", "timings")
_PATH_COLUMNS = ("input_paths", "result_paths")

_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE jobs (
    job_id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    request_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    model TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN {STATUSES}),
    created REAL NOT NULL,
    finished REAL,
    timings TEXT NOT NULL,
    input_paths TEXT NOT NULL,
    result_paths TEXT NOT NULL,
    error TEXT,
    warning TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_by_created ON jobs (created);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""


# From a schema version to the current one, in one transaction each.
_MIGRATIONS = {
    1: f"""
BEGIN;
ALTER TABLE jobs ADD COLUMN warning TEXT NOT NULL DEFAULT '';
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
""",
}


class StoreError(ValueError):
    """A job id, state change or store file the store cannot accept; the message names it."""


@dataclass(frozen=True)
class JobRecord:
    """One job as the history knows it: who asked for what, what came of it, where the files are."""

    job_id: str
    client: str
    request_id: str
    tool: str
    model: str
    params: dict[str, Any]
    status: str
    created: float
    finished: float | None
    timings: dict[str, float]
    input_paths: list[Path]
    result_paths: list[Path]
    error: str | None
    warning: str = ""  # what the client was told besides the results (e.g. fewer variations)


_COLUMNS = tuple(field.name for field in fields(JobRecord))


class JobIndex:
    """The jobs table of `path`; paths in records are under `root`."""

    def __init__(self, path: Path, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                self._db.executescript(_SCHEMA)
            elif version in _MIGRATIONS:
                self._db.executescript(_MIGRATIONS[version])
            elif version != SCHEMA_VERSION:
                raise StoreError(
                    f"{path} has history schema version {version}; this bridge reads version "
                    f"{SCHEMA_VERSION} (was it written by a newer bridge?)"
                )
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StoreError(f"{path} cannot be used as the history index: {error}") from None
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def insert(self, record: JobRecord) -> None:
        values = [self._encode(column, getattr(record, column)) for column in _COLUMNS]
        marks = ", ".join("?" * len(_COLUMNS))
        with self._lock:
            self._db.execute(f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({marks})", values)

    def update(self, job_id: str, allowed: Sequence[str], **columns: object) -> JobRecord:
        """Set `columns` in one statement, only while the job's status is one of `allowed`.

        The status check is in the UPDATE itself, so a cancel and a finish racing from two
        threads cannot both win.
        """
        assignments = ", ".join(f"{column} = ?" for column in columns)
        values = [self._encode(column, value) for column, value in columns.items()]
        marks = ", ".join("?" * len(allowed))
        with self._lock:
            changed = self._db.execute(
                f"UPDATE jobs SET {assignments} WHERE job_id = ? AND status IN ({marks})",
                [*values, job_id, *allowed],
            ).rowcount
            record = self._get(job_id)
        if record is None:
            raise StoreError(f"no job {job_id}")
        if not changed:
            raise StoreError(
                f"job {job_id} is {record.status}; it cannot become {columns['status']}"
            )
        return record

    def fail_unfinished(self, error: str, finished: float) -> list[str]:
        """Mark every accepted or running job failed with `error`; returns their ids."""
        marks = ", ".join("?" * len(UNFINISHED))
        with self._lock, self._transaction():
            job_ids = [
                row["job_id"]
                for row in self._db.execute(
                    f"SELECT job_id FROM jobs WHERE status IN ({marks})", UNFINISHED
                )
            ]
            self._db.execute(
                f"UPDATE jobs SET status = 'failed', error = ?, finished = ? "
                f"WHERE status IN ({marks})",
                [error, finished, *UNFINISHED],
            )
        return job_ids

    def job_ids(self) -> set[str]:
        """Every job the index knows, so recovery can tell which job folders have no row."""
        with self._lock:
            return {row["job_id"] for row in self._db.execute("SELECT job_id FROM jobs")}

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            return self._get(job_id)

    def history(self, limit: int, client: str | None, offset: int = 0) -> list[JobRecord]:
        """Newest first; rowid breaks ties between jobs created in the same clock tick."""
        where, arguments = ("WHERE client = ?", [client]) if client is not None else ("", [])
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM jobs {where} ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                [*arguments, limit, offset],
            ).fetchall()
        return [self._decode(row) for row in rows]

    def _get(self, job_id: str) -> JobRecord | None:
        row = self._db.execute("SELECT * FROM jobs WHERE job_id = ?", [job_id]).fetchone()
        return None if row is None else self._decode(row)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _encode(self, column: str, value: Any) -> Any:
        if column in _JSON_COLUMNS:
            return json.dumps(value)
        if column in _PATH_COLUMNS:
            return json.dumps([Path(path).relative_to(self._root).as_posix() for path in value])
        return value

    def _decode(self, row: sqlite3.Row) -> JobRecord:
        values = dict(row)
        for column in _JSON_COLUMNS:
            values[column] = json.loads(values[column])
        for column in _PATH_COLUMNS:
            values[column] = [self._root / path for path in json.loads(values[column])]
        return JobRecord(**values)
