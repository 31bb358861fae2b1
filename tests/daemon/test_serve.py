"""`magenta-bridge serve`, `history` and `client` as real processes, as a user runs them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fixture_daemons import write_config
from osc_clients import REPO, UdpClient
from test_osc_udp import result_clips

from bridge.music.midi import read_midi
from bridge.store import RECOVERED_ERROR, ResultStore

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
READY = re.compile(r"ready: OSC on udp://127\.0\.0\.1:(\d+) and tcp://127\.0\.0\.1:\1 \(SLIP\)")
MODEL_LINE = re.compile(r"model fixture: melody_rnn on cpu, loaded in \d+ ms")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bridge.frontends.cli", *args]


class Serve:
    """`magenta-bridge serve` in a subprocess, its output collected line by line."""

    def __init__(self, config: Path, timeout: float = 60.0):
        self.process = subprocess.Popen(
            cli("--config", str(config), "serve"),
            cwd=REPO,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str | None] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port = int(READY.match(self.wait_for(READY.match, timeout)).group(1))

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append(None)  # end of output
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 30.0) -> str:
        """The first output line for which `predicate` is true, waiting for it to appear."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if line is None:
                        raise AssertionError(f"serve ended without such a line:\n{self.output}")
                    if predicate(line):
                        return line
                if not self._changed.wait(deadline - time.monotonic()):
                    raise AssertionError(f"no such line within {timeout} s:\n{self.output}")

    @property
    def output(self) -> str:
        return "\n".join(line for line in self.lines if line is not None)

    def wait(self, timeout: float = 30.0) -> int:
        """The exit status, once the process has ended and all its output is read."""
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serve():
    started: list[Serve] = []

    def start(config: Path) -> Serve:
        started.append(Serve(config))
        return started[-1]

    yield start
    for server in started:
        server.kill()


def run_job(client: UdpClient, request_id: str, *params) -> list:
    client.send("/magenta/clip/file", request_id, 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", request_id, *params)
    return client.receive()


def test_serve_announces_models_then_ready_and_finishes_the_job_in_flight_on_sigterm(
    tmp_path, serve
):
    config = write_config(tmp_path, limits={"max_bars": 2000})
    server = serve(config)
    ready = server.lines.index(server.wait_for(READY.match))
    models = [n for n, line in enumerate(server.lines[:ready]) if MODEL_LINE.fullmatch(line)]
    assert len(models) == 1, server.output
    client = UdpClient(server.port, timeout=20)
    client.send("/magenta/clip/file", "long", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "long", "bars", 1000, "variations", 2)
    job_id = client.receive(("/magenta/job/accepted",))[-1][1][1]
    client.receive(("/magenta/job/progress",))  # the job is running
    signalled = time.time()
    server.process.send_signal(signal.SIGTERM)
    # The client hears how its job ended, whichever way it ended.
    address, args = client.receive()[-1]
    assert args[0] == "long" and address in ("/magenta/job/done", "/magenta/error")
    assert server.wait(30) == 0
    assert server.lines[-3].startswith("stopping: finishing the job in flight")
    assert server.lines[-2:] == ["stopped", None]
    client.close()
    with ResultStore(tmp_path / "data") as store:
        record = store.get(job_id)
    assert record.status in ("done", "failed"), record
    assert record.finished >= signalled, "the job should still have been running at SIGTERM"
    assert (address == "/magenta/job/done") == (record.status == "done")


def test_jobs_survive_sigkill_and_restart(tmp_path, serve):
    config = write_config(tmp_path, limits={"max_bars": 2000})
    server = serve(config)
    client = UdpClient(server.port, timeout=30)
    done = run_job(client, "A", "bars", 1, "variations", 2, "seed", 4)
    assert done[-1][0] == "/magenta/job/done"
    job_a, *paths_a = done[-1][1][1:]
    client.send("/magenta/clip/file", "B", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "B", "bars", 1500, "variations", 4)
    job_b = client.receive(("/magenta/job/accepted",))[-1][1][1]
    server.process.kill()
    assert server.wait(10) == -signal.SIGKILL
    client.close()

    again = serve(config)
    assert "marked 1 job(s) left unfinished by the last run as failed" in again.output

    history = subprocess.run(
        cli("history", "--config", str(config)),
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert history.returncode == 0, history.stderr
    entries = _history_entries(history.stdout)
    assert entries[job_a]["status"] == "done" and entries[job_a]["request"] == "A"
    assert entries[job_a]["paths"] == paths_a
    for path in paths_a:
        clip = read_midi(Path(path))
        assert clip.length == 4.0 and clip.notes
    assert entries[job_b]["status"] == "failed" and entries[job_b]["request"] == "B"
    assert entries[job_b]["error"] == RECOVERED_ERROR

    client = UdpClient(again.port, timeout=30)
    client.send("/magenta/job/get", "A-again", job_a)
    fetched = client.receive()
    assert fetched[-1] == ("/magenta/job/done", ["A-again", job_a, *paths_a])
    originals = [c.notes for c in result_clips(done)]
    assert [c.notes for c in result_clips(fetched)] == originals
    client.send("/magenta/job/get", "B-again", job_b)
    assert "failed" in client.receive()[-1][1][1]
    client.close()


def _history_entries(text: str) -> dict[str, dict]:
    """`magenta-bridge history` output by job id: status, request id, paths, error."""
    entries: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("    error: "):
            current["error"] = line.removeprefix("    error: ")
        elif line.startswith("    "):
            current["paths"].append(line.strip())
        else:
            fields = line.split()
            current = {"status": fields[3], "request": fields[-1], "paths": [], "error": None}
            entries[fields[0]] = current
    return entries


def test_client_command_continues_a_file_on_a_running_daemon(tmp_path, serve):
    config = write_config(tmp_path)
    server = serve(config)
    outputs = []
    for name in ("out", "again"):
        output = tmp_path / "tmp" / f"{name}.mid"
        command = cli("--config", str(config), "client", "--port", str(server.port))
        command += ["continue", "examples/folk_melody.mid", "-o", str(output)]
        command += ["--bars", "2", "--variations", "2", "--seed", "3"]
        result = subprocess.run(
            command, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert re.search(r"job \d{8}T\d{6}-[0-9a-f]{6}", result.stderr)
        files = [tmp_path / "tmp" / f"{name}-{n}.mid" for n in (1, 2)]
        assert sorted(p.name for p in output.parent.glob(f"{name}*")) == [p.name for p in files]
        clips = [read_midi(path) for path in files]
        assert all(clip.length == 8.0 and clip.notes for clip in clips)
        assert all(note.start + note.duration <= 8.0 for clip in clips for note in clip.notes)
        outputs.append([clip.notes for clip in clips])
    assert outputs[0] == outputs[1]


def test_client_command_without_a_daemon_says_how_to_start_one(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = cli("--config", str(write_config(tmp_path)), "client", "--port", str(port))
    command += ["continue", "examples/folk_melody.mid", "-o", str(tmp_path / "out.mid")]
    result = subprocess.run(command, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"no daemon answers on 127.0.0.1:{port}" in result.stderr
    assert "magenta-bridge serve" in result.stderr
    assert not (tmp_path / "out.mid").exists()
