"""atomic_write: the target holds the old bytes or the new ones, never a mix; no temp is left."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.store import atomic_write

REPO = Path(__file__).parents[2]
BIG = 4 * 1024 * 1024


def test_writes_and_replaces_leaving_only_the_target(tmp_path):
    target = tmp_path / "result-1.mid"
    atomic_write(target, b"old")
    new = os.urandom(BIG)
    atomic_write(target, new)
    assert target.read_bytes() == new
    assert os.listdir(tmp_path) == ["result-1.mid"]


def test_a_failed_rename_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch):
    target = tmp_path / "result-1.mid"
    atomic_write(target, b"old content")

    def broken_replace(source, destination):
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk pulled out"):
        atomic_write(target, os.urandom(BIG))
    assert target.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == ["result-1.mid"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "params.json"
    atomic_write(target, b"{}")
    with pytest.raises(TypeError):
        atomic_write(target, "text, not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"{}"
    assert os.listdir(tmp_path) == ["params.json"]


WRITER = """
import sys
import time
from pathlib import Path
from bridge.store import atomic_write
target, size = Path(sys.argv[1]), int(sys.argv[2])
atomic_write(target, b"A" * size)
print("written", flush=True)
for turn in range(10**9):
    atomic_write(target, (b"B" if turn % 2 == 0 else b"A") * size)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_readers_and_a_killed_writer_only_ever_see_whole_files(tmp_path):
    target = tmp_path / "big.bin"
    whole = {b"A" * BIG: "A", b"B" * BIG: "B"}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(BIG)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    seen = set()
    try:
        assert writer.stdout.readline() == "written\n"
        # Read while it overwrites the file, until both contents were seen a few times...
        start = time.monotonic()
        while time.monotonic() - start < 0.3 or len(seen) < 2:
            assert time.monotonic() - start < 20, f"the writer made only {seen} in 20 s"
            content = target.read_bytes()
            assert content in whole, f"a reader saw {len(content)} bytes, not a whole file"
            seen.add(whole[content])
    finally:
        # ...then kill it wherever it is.
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    assert target.read_bytes() in whole
