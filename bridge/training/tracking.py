"""Experiment tracking: a training run's parameters, metrics per step and exported model,
logged to MLflow so runs can be compared in MLflow's UI.

The store is local by default (`file:` under `data/mlruns` of the current folder, or
`$MLFLOW_TRACKING_URI`), so no server is needed; any MLflow tracking URI works. MLflow 3
refuses its file store unless `MLFLOW_ALLOW_FILE_STORE` is set (it is in maintenance mode, and
the database stores need SQLAlchemy, which `mlflow-skinny` leaves out), so it is set for
`file:` URIs here. A resumed run (the same `--out` folder) goes on logging into its MLflow run.
Training code only sees `Tracker`; `NoTracking` is what `--no-track` gives.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

DEFAULT_STORE = Path("data") / "mlruns"
RUN_FILE = "mlflow_run.json"  # in the training run's folder: which MLflow run to resume


class Tracker(Protocol):
    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Metrics at a training step (numbers only)."""

    def log_artifact(self, path: Path) -> None:
        """A file the run produced (the exported model, its history)."""


class NoTracking:
    """Tracking turned off: every call does nothing."""

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        pass

    def log_artifact(self, path: Path) -> None:
        pass


NO_TRACKING = NoTracking()


class MlflowTracker:
    """Logs into the active MLflow run that `mlflow_run` started."""

    def __init__(self, mlflow: Any):
        self._mlflow = mlflow

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self._mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def log_artifact(self, path: Path) -> None:
        self._mlflow.log_artifact(str(path))


def default_tracking_uri() -> str:
    """`$MLFLOW_TRACKING_URI`, else a `file:` store under ./data/mlruns."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_STORE.resolve().as_uri()


@contextmanager
def tracking(
    enabled: bool,
    tracking_uri: str | None,
    experiment: str,
    run_folder: Path,
    params: Mapping[str, Any],
) -> Iterator[Tracker]:
    """A tracker for one training command: an MLflow run in `experiment` named after the run
    folder, its parameters logged (or resumed when the folder names one), closed as finished
    or failed; `NoTracking` when not `enabled`."""
    if not enabled:
        yield NoTracking()
        return
    import mlflow

    uri = tracking_uri or default_tracking_uri()
    if uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    run_file = run_folder / RUN_FILE
    resumed = _resumable_run(run_file, uri)
    with mlflow.start_run(run_id=resumed, run_name=None if resumed else run_folder.name) as run:
        if resumed is None:
            mlflow.log_params({key: _param(value) for key, value in params.items()})
        run_folder.mkdir(parents=True, exist_ok=True)
        run_file.write_text(json.dumps({"tracking_uri": uri, "run_id": run.info.run_id}))
        yield MlflowTracker(mlflow)


def _resumable_run(run_file: Path, uri: str) -> str | None:
    """The MLflow run an earlier call of this run folder logged to, in this store."""
    if not run_file.exists():
        return None
    saved = json.loads(run_file.read_text())
    return saved.get("run_id") if saved.get("tracking_uri") == uri else None


def _param(value: Any) -> str:
    """MLflow stores parameters as strings; tuples and None read as they are written."""
    return ",".join(map(str, value)) if isinstance(value, tuple | list) else str(value)
