"""A daemon killed by SIGKILL: finished jobs survive whole, unfinished ones fail at next start."""

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.music.clip import Clip, Note
from bridge.music.midi import read_midi
from bridge.store import RECOVERED_ERROR, ResultStore

REPO = Path(__file__).parents[2]
NOTES = [(60, 0.0, 1.0, 100), (64, 1.0, 0.5, 90), (67, 1.5, 2.5, 70)]

DAEMON = f"""
import sys, time
from pathlib import Path
from bridge.music.clip import Clip, Note
from bridge.store import ResultStore

clip = Clip.from_notes([Note(*note) for note in {NOTES!r}])
job = dict(client="cli", tool="continue", model="m", params={{}}, inputs=[clip])
store = ResultStore(Path(sys.argv[1]))
a = store.accept(request_id="a", **job)
store.mark_running(a.job_id)
store.finish(a.job_id, [clip, clip], {{"run_s": 0.1}})
print("A done", a.job_id, flush=True)
b = store.accept(request_id="b", **job)
store.mark_running(b.job_id)
# A result write the kill will cut short.
(store.job_folder(b.job_id) / ".result-1.mid.0badf00d.tmp").write_bytes(b"MThd")
print("B running", b.job_id, flush=True)
time.sleep(60)
"""


def read_line(process: subprocess.Popen) -> str:
    ready, _, _ = select.select([process.stdout], [], [], 30)
    assert ready, "the daemon process printed nothing for 30 s"
    return process.stdout.readline()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_daemon_loses_no_finished_job(tmp_path):
    daemon = subprocess.Popen(
        [sys.executable, "-c", DAEMON, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        a_line, b_line = read_line(daemon), read_line(daemon)
    finally:
        os.kill(daemon.pid, signal.SIGKILL)
        _, stderr = daemon.communicate()
    assert a_line.startswith("A done "), stderr
    assert b_line.startswith("B running "), stderr
    assert daemon.returncode == -signal.SIGKILL
    a_id, b_id = a_line.split()[-1], b_line.split()[-1]
    clip = Clip.from_notes([Note(*note) for note in NOTES])

    with ResultStore(tmp_path) as store:
        a = store.get(a_id)
        assert (a.status, a.timings, a.error) == ("done", {"run_s": 0.1}, None)
        assert [read_midi(path) for path in a.input_paths + a.result_paths] == [clip] * 3
        assert store.get(b_id).status == "running"

        assert store.recover() == 1
        b = store.get(b_id)
        assert (b.status, b.error) == ("failed", RECOVERED_ERROR)
        assert b.finished >= b.created
        leftovers = sorted(path.name for path in store.job_folder(b_id).iterdir())
        assert leftovers == ["input-1.mid", "params.json"]
        assert store.get(a_id) == a
        assert store.recover() == 0


# Accepts job a and finishes it, accepts job b and leaves it running, then kills itself inside
# the accept of job c: just before a file's rename (its temp file written in full) or instead
# of the index row (every file written).
KILLED_IN_ACCEPT = f"""
import os, signal, sys
from pathlib import Path
from bridge.music.clip import Clip, Note
from bridge.store import ResultStore

root, kill_at = Path(sys.argv[1]), sys.argv[2]
clip = Clip.from_notes([Note(*note) for note in {NOTES!r}])
job = dict(client="cli", tool="vary", model="m", params={{}}, inputs=[clip, clip])
store = ResultStore(root)
a = store.accept(request_id="a", **job)
store.finish(a.job_id, [clip], {{"run_s": 0.1}})
b = store.accept(request_id="b", **job)
store.mark_running(b.job_id)
print(a.job_id, b.job_id, flush=True)

def die():
    os.kill(os.getpid(), signal.SIGKILL)

replace = os.replace
def replace_or_die(source, target):
    if Path(target).name == kill_at:
        die()
    replace(source, target)

os.replace = replace_or_die
if kill_at == "index row":
    store._index.insert = lambda record: die()
store.accept(request_id="c", **job)
print("not killed", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("kill_at", ["input-2.mid", "params.json", "index row"])
def test_a_daemon_killed_inside_accept_leaves_no_orphan_folder(tmp_path, kill_at):
    daemon = subprocess.run(
        [sys.executable, "-c", KILLED_IN_ACCEPT, str(tmp_path), kill_at],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert daemon.returncode == -signal.SIGKILL, daemon.stderr
    a_id, b_id = daemon.stdout.split()
    jobs = tmp_path / "jobs"
    assert len(list(jobs.iterdir())) == 3  # a, b and the orphan of c

    clip = Clip.from_notes([Note(*note) for note in NOTES])
    with ResultStore(tmp_path) as store:
        a = store.get(a_id)
        assert store.recover() == 1
        assert sorted(path.name for path in jobs.iterdir()) == sorted([a_id, b_id])
        assert list(tmp_path.rglob("*.tmp")) == []
        assert store.get(a_id) == a and a.status == "done"
        assert [read_midi(path) for path in a.input_paths + a.result_paths] == [clip] * 3
        b = store.get(b_id)
        assert (b.status, b.error) == ("failed", RECOVERED_ERROR)
        assert [read_midi(path) for path in b.input_paths] == [clip] * 2
        assert [job.request_id for job in store.history()] == ["b", "a"]
        c = store.accept(client="cli", request_id="c", tool="vary", model="m", params={})
        assert store.job_folder(c.job_id).is_dir()


def test_recovery_keeps_job_folders_with_results_even_without_an_index_row(tmp_path):
    """A lost or replaced history.sqlite must not make the next start delete results."""
    clip = Clip((Note(60, 0.0, 1.0, 100),), 4.0)
    with ResultStore(tmp_path / "data") as store:
        record = store.accept(client="cli", request_id="r", tool="continue", model="m",
                              params={}, inputs=[clip])  # fmt: skip
        store.finish(record.job_id, [clip], {})
    (tmp_path / "data" / "history.sqlite").unlink()
    with ResultStore(tmp_path / "data") as store:
        store.recover()
    assert (tmp_path / "data" / "jobs" / record.job_id / "result-1.mid").is_file()
