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
