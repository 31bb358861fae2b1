"""ResultStore on real SQLite and real files: the job life cycle, history, ids, persistence."""

import json
import re
import shutil
import sqlite3
import threading
import time

import pytest

from bridge.music.midi import read_midi
from bridge.store import ResultStore, StoreError, new_job_id
from bridge.store import results as results_module

JOB = {"client": "udp:127.0.0.1:9001", "request_id": "r1", "tool": "continue", "model": "attention"}


@pytest.fixture
def store(tmp_path):
    with ResultStore(tmp_path / "store") as store:
        yield store


def accept(store, clips=(), **fields):
    return store.accept(**{**JOB, "params": {"bars": 2}, **fields}, inputs=clips)


def test_accept_writes_inputs_and_params_before_returning(store, clips):
    params = {"bars": 2, "temperature": 1.1, "key": ["C", "major"]}
    record = store.accept(**JOB, params=params, inputs=clips[:2])

    folder = store.job_folder(record.job_id)
    assert folder == store.root / "jobs" / record.job_id
    assert record.status == "accepted"
    assert record.input_paths == [folder / "input-1.mid", folder / "input-2.mid"]
    assert [read_midi(path) for path in record.input_paths] == clips[:2]
    described = json.loads((folder / "params.json").read_text())
    assert described["params"] == params
    assert described["tool"] == "continue"
    assert described["request_id"] == "r1"
    assert (record.result_paths, record.finished, record.error) == ([], None, None)
    assert store.get(record.job_id) == record


def test_finish_round_trip(store, clips):
    record = accept(store, clips[:1])
    store.mark_running(record.job_id)
    assert store.get(record.job_id).status == "running"
    preview = store.job_folder(record.job_id) / "result-1.wav"
    preview.write_bytes(b"RIFF")
    timings = {"queue_s": 0.001, "run_s": 0.03}

    done = store.finish(record.job_id, clips[1:], timings, extra_files=[preview])

    folder = store.job_folder(record.job_id)
    assert done.status == "done"
    assert done.result_paths == [folder / "result-1.mid", folder / "result-2.mid", preview]
    assert [read_midi(path) for path in done.result_paths[:2]] == clips[1:]
    assert done.timings == timings
    assert done.created <= done.finished <= time.time()
    assert done.input_paths == record.input_paths
    assert store.get(record.job_id) == done
    assert sorted(path.name for path in folder.iterdir()) == [
        "input-1.mid",
        "params.json",
        "result-1.mid",
        "result-1.wav",
        "result-2.mid",
    ]


def test_history_is_newest_first_and_filters_by_client(store):
    ids = [accept(store, client=client).job_id for client in ("udp:a", "tcp:b", "udp:a", "cli")]
    assert [record.job_id for record in store.history()] == ids[::-1]
    assert [record.job_id for record in store.history(client="udp:a")] == [ids[2], ids[0]]
    assert [record.job_id for record in store.history(limit=2)] == [ids[3], ids[2]]
    assert store.history(limit=0) == []
    assert store.history(client="nobody") == []
    with pytest.raises(StoreError, match="-1"):
        store.history(limit=-1)


def test_jobs_accepted_in_one_clock_tick_keep_their_order(store, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_790_000_000.0)
    ids = [accept(store).job_id for _ in range(4)]
    assert [record.job_id for record in store.history()] == ids[::-1]


def test_fail_and_cancel_end_a_job_for_good(store, clips):
    failed = accept(store)
    store.mark_running(failed.job_id)
    record = store.fail(failed.job_id, "model ran out of memory")
    assert (record.status, record.error) == ("failed", "model ran out of memory")
    assert record.finished is not None
    assert store.get(failed.job_id) == record

    cancelled = accept(store)
    record = store.fail(cancelled.job_id, "cancelled by client", status="cancelled")
    assert (record.status, record.error) == ("cancelled", "cancelled by client")
    with pytest.raises(StoreError, match="is cancelled; it cannot become done"):
        store.finish(cancelled.job_id, clips, {})
    with pytest.raises(StoreError, match="is cancelled; it cannot become running"):
        store.mark_running(cancelled.job_id)
    with pytest.raises(StoreError, match="is cancelled; it cannot become failed"):
        store.fail(cancelled.job_id, "again")
    assert store.get(cancelled.job_id) == record
    assert not (store.job_folder(cancelled.job_id) / "result-1.mid").exists()

    with pytest.raises(StoreError, match="'done'"):
        store.fail(accept(store).job_id, "no", status="done")


def test_a_cancel_that_wins_the_race_keeps_the_job_cancelled(store, clips, monkeypatch):
    """Finish checks, writes files, then a cancel lands before its update: the update refuses."""
    record = accept(store)
    write = results_module.atomic_write

    def cancel_during_write(path, data):
        write(path, data)
        if store.get(record.job_id).status != "cancelled":
            store.fail(record.job_id, "cancelled by client", status="cancelled")

    monkeypatch.setattr(results_module, "atomic_write", cancel_during_write)
    with pytest.raises(StoreError, match="is cancelled; it cannot become done"):
        store.finish(record.job_id, clips, {"run_s": 1.0})
    assert store.get(record.job_id).status == "cancelled"
    assert store.get(record.job_id).result_paths == []


def test_unknown_ids_read_as_none_and_cannot_change(store, clips):
    unknown = new_job_id()
    assert store.get(unknown) is None
    for change in (
        lambda: store.mark_running(unknown),
        lambda: store.finish(unknown, clips, {}),
        lambda: store.fail(unknown, "x"),
    ):
        with pytest.raises(StoreError, match=f"no job {unknown}"):
            change()
    assert not store.job_folder(unknown).exists()


@pytest.mark.parametrize(
    "bad_id",
    [
        "../x",
        "/etc/passwd",
        "",
        "..",
        "20261126T101500-3f9a2c/../../x",
        "../20261126T101500-3f9a2c",
        "20261126T101500-3f9a2c\n",
        "20261126T101500-3F9A2C",
        "\u06620261126T101500-3f9a2c",  # an Arabic-Indic 2: matched by \d, not by [0-9]
        42,
    ],
)
def test_malformed_ids_are_refused_by_name(store, bad_id, clips):
    for use in (
        store.get,
        store.job_folder,
        store.mark_running,
        lambda job_id: store.fail(job_id, "x"),
        lambda job_id: store.finish(job_id, clips, {}),
    ):
        with pytest.raises(StoreError, match="invalid job id " + re.escape(repr(bad_id))):
            use(bad_id)
    assert list((store.root / "jobs").iterdir()) == []


def test_extra_files_must_be_files_inside_the_job_folder(store, tmp_path, clips):
    record = accept(store)
    outside = tmp_path / "elsewhere.wav"
    outside.write_bytes(b"RIFF")
    link = store.job_folder(record.job_id) / "link.wav"
    link.symlink_to(outside)
    for bad in (outside, link, store.job_folder(record.job_id) / "missing.wav"):
        with pytest.raises(StoreError, match="is not a file inside the job folder"):
            store.finish(record.job_id, clips, {}, extra_files=[bad])
    assert store.get(record.job_id).status == "accepted"


def test_params_and_timings_must_be_json(store, clips):
    for params in ({"seed": object()}, {"temperature": float("nan")}):
        with pytest.raises(StoreError, match="params cannot be stored as JSON"):
            accept(store, params=params)
    assert list((store.root / "jobs").iterdir()) == []
    record = accept(store)
    with pytest.raises(StoreError, match="timings cannot be stored as JSON"):
        store.finish(record.job_id, clips, {"run_s": float("inf")})
    assert store.get(record.job_id).status == "accepted"


def test_params_read_back_as_json_gives_them(store):
    record = accept(store, params={"key": ("C", "major")})
    assert record.params == {"key": ["C", "major"]}
    assert store.get(record.job_id) == record


def test_a_record_whose_files_were_deleted_still_reads(store, clips):
    record = store.finish(accept(store, clips[:1]).job_id, clips[1:], {"run_s": 0.5})
    shutil.rmtree(store.job_folder(record.job_id))
    assert store.get(record.job_id) == record
    assert store.history() == [record]


def test_reopening_keeps_all_history(tmp_path, clips):
    with ResultStore(tmp_path) as first:
        done = first.finish(accept(first, clips[:1]).job_id, clips[2:], {"run_s": 0.2})
        failed = first.fail(accept(first, client="tcp:x").job_id, "boom")
        waiting = accept(first, clips[1:2])
        before = first.history()
    assert [record.job_id for record in before] == [waiting.job_id, failed.job_id, done.job_id]
    with ResultStore(tmp_path) as second:
        assert second.history() == before
        assert read_midi(second.get(done.job_id).result_paths[0]) == clips[2]


def test_a_moved_store_still_finds_its_files(tmp_path, clips):
    with ResultStore(tmp_path / "old") as store:
        job_id = store.finish(accept(store).job_id, clips[:1], {}).job_id
    (tmp_path / "old").rename(tmp_path / "new")
    with ResultStore(tmp_path / "new") as store:
        [path] = store.get(job_id).result_paths
        assert path == tmp_path / "new" / "jobs" / job_id / "result-1.mid"
        assert read_midi(path) == clips[0]


def test_an_index_from_a_newer_bridge_is_refused(tmp_path):
    ResultStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "history.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="schema version 99; this bridge reads version 2"):
        ResultStore(tmp_path)


def test_a_finished_job_keeps_what_its_client_was_warned_of(store, clips):
    record = accept(store, clips[:1])
    done = store.finish(record.job_id, clips[1:], {}, warning="2 distinct variations of 4")
    assert done.warning == store.get(record.job_id).warning == "2 distinct variations of 4"
    assert accept(store).warning == ""


def test_a_first_version_index_gains_the_warning_and_keeps_its_jobs(tmp_path, clips):
    """A history written before warnings were stored (schema 1) is migrated in place."""
    with ResultStore(tmp_path) as store:
        done = store.finish(accept(store, clips[:1]).job_id, clips[1:2], {"run_s": 0.1})
    with sqlite3.connect(tmp_path / "history.sqlite") as db:
        db.execute("ALTER TABLE jobs DROP COLUMN warning")
        db.execute("PRAGMA user_version = 1")
    with ResultStore(tmp_path) as store:
        assert store.get(done.job_id) == done
        later = store.finish(accept(store).job_id, clips[:1], {}, warning="looped")
        assert store.get(later.job_id).warning == "looped"
    with sqlite3.connect(tmp_path / "history.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_an_index_that_is_not_sqlite_is_refused(tmp_path):
    (tmp_path / "history.sqlite").write_bytes(b"these are not the rows you are looking for" * 100)
    with pytest.raises(StoreError, match="cannot be used as the history index"):
        ResultStore(tmp_path)


def test_job_ids_sort_by_time_and_are_utc():
    assert new_job_id(0).startswith("19700101T000000-")
    assert new_job_id(1_790_000_000) < new_job_id(1_790_000_001) < new_job_id(1_800_000_000)
    assert results_module.JOB_ID.fullmatch(new_job_id())
    assert len({new_job_id(0) for _ in range(50)}) == 50


def test_an_id_drawn_twice_is_drawn_again(store, monkeypatch):
    drawn = iter(["20261126T101500-aaaaaa", "20261126T101500-aaaaaa", "20261126T101500-bbbbbb"])
    monkeypatch.setattr(results_module, "new_job_id", lambda created: next(drawn))
    assert accept(store).job_id == "20261126T101500-aaaaaa"
    assert accept(store).job_id == "20261126T101500-bbbbbb"


def test_threads_can_share_one_store(store, clips):
    errors = []

    def work():
        try:
            for _ in range(5):
                job_id = accept(store, clips[:1]).job_id
                store.mark_running(job_id)
                store.finish(job_id, clips[1:2], {"run_s": 0.0})
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    history = store.history(limit=100)
    assert len({record.job_id for record in history}) == 20
    assert {record.status for record in history} == {"done"}
