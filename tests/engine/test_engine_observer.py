"""What the engine tells its observer (the daemon's metrics): every request at the door, every
batch run, every job's end with its outcome; an observer that raises changes nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bridge.config import Config, Limits, ModelEntry
from bridge.engine.engine import Engine, outcome
from bridge.engine.jobs import Busy, JobRequest
from bridge.engine.warm_models import WarmModels
from bridge.music.midi import read_midi
from bridge.store import ResultStore

REPO = Path(__file__).resolve().parents[2]
FOLK = read_midi(REPO / "examples" / "folk_melody.mid")
MODEL = REPO / "tests" / "fixtures" / "melody_rnn" / "attention_rnn.mag"


class Observer:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.events: list[tuple] = []
        self.ended_all = threading.Event()
        self.expected = 0

    def submitted(self, request, outcome):
        self.events.append(("submitted", request.request_id, outcome))
        self._maybe_fail()

    def batch_ran(self, model, tool, size, seconds):
        assert seconds >= 0
        self.events.append(("batch", model, tool, size))
        self._maybe_fail()

    def ended(self, job, outcome):
        assert job.queued_at <= (job.started_at or job.queued_at)
        self.events.append(("ended", job.request.request_id, outcome))
        if sum(event[0] == "ended" for event in self.events) == self.expected:
            self.ended_all.set()
        self._maybe_fail()

    def _maybe_fail(self):
        if self.fail:
            raise RuntimeError("a broken observer")


class Quiet:
    def accepted(self, job): ...
    def progress(self, job, fraction): ...
    def finished(self, job, results, record): ...
    def failed(self, job, message): ...


class Started(Quiet):
    def __init__(self):
        self.started = threading.Event()

    def progress(self, job, fraction):
        self.started.set()


def make_engine(tmp_path: Path, observer: Observer, **options) -> Engine:
    spec = ModelEntry("fixture", "melody_rnn", MODEL, "cpu")
    config = Config({"fixture": spec}, "fixture", limits=Limits(max_bars=2000))
    store = ResultStore(tmp_path / "data")
    return Engine(WarmModels.load(config), store, config.limits, observer=observer, **options)


def request(request_id: str, **params) -> JobRequest:
    return JobRequest("udp:127.0.0.1", request_id, "continue", (FOLK,), params)


@pytest.mark.parametrize("fail", [False, True])
def test_requests_batches_and_endings_are_reported(tmp_path, fail):
    observer = Observer(fail)
    observer.expected = 2
    engine = make_engine(tmp_path, observer, queue_size=1)
    running = Started()
    try:
        engine.submit(request("long", bars=2000, variations=8), running)
        assert running.started.wait(60)
        engine.submit(request("waiting", bars=1), Quiet())  # the one place in the queue
        with pytest.raises(Busy):
            engine.submit(request("extra", bars=1), Quiet())
        with pytest.raises(ValueError, match="bars must be between"):
            engine.submit(request("bad", bars=0), Quiet())
        assert engine.cancel("udp:127.0.0.1", "long")
        assert observer.ended_all.wait(60)
    finally:
        engine.close()
        engine.store.close()
    at_door = [e for e in observer.events if e[0] == "submitted"]
    assert [e[1:] for e in at_door] == [
        ("long", "accepted"),
        ("waiting", "accepted"),
        ("extra", "busy"),
        ("bad", "refused"),
    ]
    ended = {e[1]: e[2] for e in observer.events if e[0] == "ended"}
    assert ended == {"long": "cancelled", "waiting": "done"}
    batches = [e for e in observer.events if e[0] == "batch"]
    assert ("batch", "fixture", "continue", 1) in batches


def test_a_timeout_is_its_own_outcome_and_reads_back_from_the_store(tmp_path):
    observer = Observer()
    observer.expected = 1
    engine = make_engine(tmp_path, observer, job_timeout=0.5)
    try:
        job = engine.submit(request("slow", bars=2000, variations=8), Quiet())
        assert observer.ended_all.wait(60)
        record = engine.store.get(job.job_id)
    finally:
        engine.close()
        engine.store.close()
    assert ("ended", "slow", "timeout") in observer.events
    assert (record.status, outcome(record.status, record.error)) == ("failed", "timeout")
    assert outcome("failed", "model broke") == "failed" and outcome("done", None) == "done"
