"""Results on disk plus a SQLite history index, so no accepted job or result is ever lost.

Modules: atomic (atomic_write: temp file + fsync + rename), history (JobRecord, the SQLite index),
results (ResultStore: job folders, the job life cycle, crash recovery).
"""

from bridge.store.atomic import atomic_write
from bridge.store.history import STATUSES, JobRecord, StoreError
from bridge.store.results import RECOVERED_ERROR, ResultStore, new_job_id

__all__ = [
    "RECOVERED_ERROR",
    "STATUSES",
    "JobRecord",
    "ResultStore",
    "StoreError",
    "atomic_write",
    "new_job_id",
]
