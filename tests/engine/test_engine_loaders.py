"""Models loaded elsewhere than the daemon's process (serve --ray) as the engine sees them:
through WarmModels' loader, a WarmModel whose `run` is its own. Its queue gets one worker per
`workers`, a note of its run reaches the job's warning and history, and ModelLost fails every
job of the batch in its own words, without running them again one by one."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_engine import MODEL, Recorder, request

from bridge.config import Config, Limits, ModelEntry
from bridge.engine.engine import Engine
from bridge.engine.jobs import ModelLost
from bridge.engine.warm_models import ToolRun, WarmModel, WarmModels, warm_here
from bridge.models.catalog import ModelSpec
from bridge.store import ResultStore


@dataclass(frozen=True)
class Elsewhere(WarmModel):
    """A model on its own queue with two workers; its runs say how they went, or are lost."""

    lost: bool = False

    @property
    def queue(self) -> str:
        return f"elsewhere:{self.spec.name}"

    def run(self, tool, calls, limits, progress) -> ToolRun:
        runs.append((threading.current_thread().name, len(calls)))
        if self.lost:
            raise ModelLost("the replica died; not retried")
        return ToolRun(super().run(tool, calls, limits, progress).outputs, "ran elsewhere")


runs: list[tuple[str, int]] = []


def start(tmp_path: Path, lost: bool) -> Engine:
    def load(spec: ModelSpec) -> WarmModel:
        warm = warm_here(spec)
        return Elsewhere(warm.spec, warm.model, "elsewhere", 0.0, workers=2, lost=lost)

    entry = ModelEntry("fixture", "melody_rnn", MODEL, "cpu")
    config = Config({"fixture": entry}, "fixture", limits=Limits())
    models = WarmModels.load(config, loader=load)
    return Engine(models, ResultStore(tmp_path / "data"), config.limits)


@pytest.fixture
def engines(tmp_path):
    started: list[Engine] = []

    def make(lost: bool = False) -> Engine:
        started.append(start(tmp_path / str(len(started)), lost))
        return started[-1]

    runs.clear()
    yield make
    for engine in started:
        engine.close()
        engine.store.close()


def test_a_loaders_model_has_its_queue_and_workers_and_its_note_reaches_the_history(engines):
    engine = engines()
    assert engine.health().workers == 2
    assert set(engine.queue_depths()) == {"elsewhere:fixture"}
    listener = Recorder()
    job = engine.submit(request("a", bars=2, seed=1), listener)
    assert listener.ended.wait(60)
    (ending,) = listener.final()
    assert ending[0] == "finished" and job.warning == "ran elsewhere"
    (record,) = engine.store.history(1)
    assert (record.status, record.warning) == ("done", "ran elsewhere")


def test_a_lost_model_fails_every_job_of_its_batch_once_in_its_words(engines):
    engine = engines(lost=True)
    listeners = [Recorder() for _ in range(2)]
    for name, listener in zip("ab", listeners, strict=True):
        engine.submit(request(name, bars=2, seed=1), listener)
    for listener in listeners:
        assert listener.ended.wait(60)
        assert listener.final() == [
            ("failed", listener.events[0][1], "the replica died; not retried")
        ]
    assert sum(size for _, size in runs) == 2, "a lost batch is not run again job by job"
    assert {record.status for record in engine.store.history(2)} == {"failed"}
