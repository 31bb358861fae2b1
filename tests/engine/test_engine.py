"""The job engine with a real model and a real store: batching, ordering, one final event."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bridge.config import Config, Limits, ModelEntry
from bridge.engine.engine import Engine
from bridge.engine.jobs import Busy, JobRequest, RequestError
from bridge.engine.warm_models import WarmModels
from bridge.music.midi import read_midi
from bridge.store import ResultStore

REPO = Path(__file__).resolve().parents[2]
FOLK = read_midi(REPO / "examples" / "folk_melody.mid")
MODEL = REPO / "tests" / "fixtures" / "melody_rnn" / "attention_rnn.mag"


class Recorder:
    """A JobListener that keeps every event and signals when a job ends."""

    def __init__(self):
        self.events: list[tuple[str, str, object]] = []
        self.ended = threading.Event()

    def accepted(self, job):
        self.events.append(("accepted", job.request.request_id, None))

    def progress(self, job, fraction):
        self.events.append(("progress", job.request.request_id, fraction))

    def finished(self, job, results, record):
        self.events.append(("finished", job.request.request_id, results))
        self.ended.set()

    def failed(self, job, message):
        self.events.append(("failed", job.request.request_id, message))
        self.ended.set()

    def final(self):
        return [e for e in self.events if e[0] in ("finished", "failed")]


@pytest.fixture
def engine(tmp_path):
    spec = ModelEntry("fixture", "melody_rnn", MODEL, "cpu")
    config = Config({"fixture": spec}, "fixture", limits=Limits(max_bars=2000))
    store = ResultStore(tmp_path / "data")
    engine = Engine(WarmModels.load(config), store, config.limits, queue_size=8)
    yield engine
    engine.close()
    store.close()


def request(request_id, **params):
    return JobRequest("test", request_id, "continue", (FOLK,), params)


def test_compatible_waiting_jobs_share_one_batch_with_unchanged_results(engine):
    # A job far longer than the submissions below (which wait for the store's fsync),
    # cancelled once they are all queued, so they meet in the queue on any machine.
    blocker = Recorder()
    engine.submit(request("blocker", bars=2000, variations=8), blocker)
    listeners = {name: Recorder() for name in ("a", "b", "c", "other")}
    seeds = {"a": 1, "b": 2, "c": 3}
    for name, seed in seeds.items():
        engine.submit(
            request(name, bars=2, variations=2, seed=seed, temperature=0.5 + seed / 4),
            listeners[name],
        )
    engine.submit(request("other", bars=3, seed=4), listeners["other"])  # other length: alone
    assert engine.cancel("test", "blocker"), "the blocker ended before the others were queued"
    for listener in [blocker, *listeners.values()]:
        assert listener.ended.wait(60)
    records = {r.request_id: r for r in engine.store.history(limit=10)}
    assert [records[name].timings["batch"] for name in "abc"] == [3, 3, 3]
    assert records["other"].timings["batch"] == 1
    # Batching changes nothing: each seeded job gives what it gives alone.
    for name, seed in seeds.items():
        batched = listeners[name].final()[0][2]
        alone = Recorder()
        engine.submit(
            request(f"{name}-alone", bars=2, variations=2, seed=seed, temperature=0.5 + seed / 4),
            alone,
        )
        assert alone.ended.wait(60)
        assert [c.notes for c in alone.final()[0][2]] == [c.notes for c in batched]


def test_every_job_gets_exactly_one_final_event_in_order(engine):
    listener = Recorder()
    engine.submit(request("x", bars=8, variations=2), listener)
    assert listener.ended.wait(60)
    kinds = [kind for kind, _, _ in listener.events]
    assert kinds[0] == "accepted" and kinds[-1] == "finished"
    assert kinds.count("finished") + kinds.count("failed") == 1
    fractions = [value for kind, _, value in listener.events if kind == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_cancelled_job_in_a_batch_leaves_the_others_alone(engine):
    blocker = Recorder()
    engine.submit(request("blocker", bars=300, variations=8), blocker)
    keep, drop = Recorder(), Recorder()
    engine.submit(request("keep", bars=2, seed=1), keep)
    engine.submit(request("drop", bars=2, seed=2), drop)
    assert engine.cancel("test", "drop")
    engine.cancel("test", "blocker")  # its work is not the point; a loaded machine is slow
    assert keep.ended.wait(60) and drop.ended.wait(60)
    assert keep.final()[0][0] == "finished"
    assert drop.final()[0][1:] == ("drop", "cancelled")


def test_a_queued_job_cancelled_is_answered_at_once_not_when_its_turn_comes(engine):
    blocker, queued = Recorder(), Recorder()
    engine.submit(request("blocker", bars=2000, variations=8), blocker)
    engine.submit(request("queued", bars=2, seed=1), queued)
    assert engine.cancel("test", "queued")
    assert queued.final() == [("failed", "queued", "cancelled")], "answered by cancel itself"
    assert not blocker.final(), "the running job goes on"
    assert engine.queued() == 0
    (stored,) = [r for r in engine.store.history() if r.request_id == "queued"]
    assert stored.status == "cancelled"
    engine.cancel("test", "blocker")
    assert blocker.ended.wait(60)


def test_requests_are_checked_before_they_are_accepted(engine):
    listener = Recorder()
    with pytest.raises(RequestError, match="unknown tool"):
        engine.submit(JobRequest("test", "t", "paint", (FOLK,)), listener)
    with pytest.raises(ValueError, match="bars must be between 1 and 2000"):
        engine.submit(request("t", bars=0), listener)
    engine.submit(request("dup", bars=400), listener)
    with pytest.raises(RequestError, match="already in use"):
        engine.submit(request("dup"), listener)
    assert engine.cancel("test", "dup")
    assert listener.ended.wait(60)
    assert len(engine.store.history()) == 1  # only the accepted one was recorded


def test_a_full_queue_raises_busy(engine):
    listener = Recorder()
    engine.submit(request("running", bars=1500, variations=8), listener)
    accepted = 0
    with pytest.raises(Busy, match="busy"):
        for n in range(20):
            engine.submit(request(f"q{n}", bars=1500 - n), Recorder())  # distinct keys
            accepted += 1
    assert accepted >= 7  # the queue holds 8; the first may still be queued
    engine.cancel("test", "running")


class StuckInProgress(Recorder):
    """A frontend whose progress handler never returns: Python code that checks nothing."""

    def progress(self, job, fraction):
        super().progress(job, fraction)
        while True:
            pass


class RaisingListener(Recorder):
    """A frontend that raises on every event, as a reply too large for its transport did."""

    def accepted(self, job):
        super().accepted(job)
        raise ValueError("reply of 9000 bytes exceeds 1024")

    def finished(self, job, results, record):
        self.events.append(("finished", job.request.request_id, results))  # not the end yet
        raise ValueError("reply of 9000 bytes exceeds 1024")


def test_the_job_timeout_is_a_hard_limit(tmp_path):
    """The client hears "timed out" at the deadline and the stuck worker is interrupted, so
    the next job runs on the same worker."""
    spec = ModelEntry("fixture", "melody_rnn", MODEL, "cpu")
    config = Config({"fixture": spec}, "fixture")
    store = ResultStore(tmp_path / "data")
    engine = Engine(WarmModels.load(config), store, config.limits, job_timeout=1.0)
    try:
        stuck = StuckInProgress()
        engine.submit(request("stuck", bars=8), stuck)
        assert stuck.ended.wait(30)
        assert stuck.final() == [("failed", "stuck", "timed out after 1 s")]
        after = Recorder()
        job = engine.submit(request("after", bars=1), after)
        assert after.ended.wait(30)
        assert after.final()[0][0] == "finished"
        assert store.get(job.job_id).status == "done"
        health = engine.health()
        assert (health.workers, health.workers_alive) == (1, 1)
    finally:
        engine.close()
        store.close()


def test_a_listener_that_raises_never_stops_the_worker(engine):
    broken = RaisingListener()
    engine.submit(request("broken", bars=1), broken)
    assert broken.ended.wait(30)
    # The results could not be sent: the client is told so, once, and the job stays done.
    assert [e[0] for e in broken.final()] == ["finished", "failed"]
    assert "done and stored" in broken.final()[1][2]
    after = Recorder()
    engine.submit(request("after", bars=1), after)
    assert after.ended.wait(30) and after.final()[0][0] == "finished"
    assert engine.health().workers_alive == 1


def test_waiting_variations_share_one_batch_with_unchanged_results(tmp_path):
    """vary requests waiting together run as one batch (MusicVae.decode_groups), each with
    the results it gets alone, whatever its seed and number of variations."""
    drums = REPO / "tests" / "fixtures" / "music_vae" / "cat-drums_2bar_small" / "checkpoint"
    models = {
        "fixture": ModelEntry("fixture", "melody_rnn", MODEL, "cpu"),
        "drums": ModelEntry("drums", "music_vae", drums, "cpu", config="cat-drums_2bar_small"),
    }
    config = Config(models, "fixture", limits=Limits(max_bars=2000))
    store = ResultStore(tmp_path / "data")
    engine = Engine(WarmModels.load(config), store, config.limits, queue_size=8)
    groove = read_midi(REPO / "examples" / "rock_groove.mid")

    def vary(request_id: str, seed: int, variations: int) -> Recorder:
        listener = Recorder()
        params = {"seed": seed, "variations": variations}
        engine.submit(JobRequest("test", request_id, "vary", (groove,), params, "drums"), listener)
        return listener

    try:
        blocker = Recorder()  # the one worker busy while the others queue (see above)
        engine.submit(request("blocker", bars=2000, variations=8), blocker)
        asked = {"a": (1, 3), "b": (2, 8), "c": (3, 1)}
        batched = {name: vary(name, *settings) for name, settings in asked.items()}
        assert engine.cancel("test", "blocker"), "the blocker ended before the others queued"
        for listener in [blocker, *batched.values()]:
            assert listener.ended.wait(60)
        records = {r.request_id: r for r in store.history(limit=10)}
        assert [records[name].timings["batch"] for name in asked] == [3, 3, 3]
        for name, settings in asked.items():
            alone = vary(f"{name}-alone", *settings)
            assert alone.ended.wait(60)
            (_, _, results), (_, _, together) = alone.final()[0], batched[name].final()[0]
            assert [c.notes for c in results] == [c.notes for c in together]
            assert len(results) == settings[1]
    finally:
        engine.close()
        store.close()
