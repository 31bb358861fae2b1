"""The daemon driven by liblo's `oscsend` and read by `oscdump`: someone else's OSC code."""

from __future__ import annotations

import shlex
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from osc_clients import REPO

from bridge.frontends.osc.wire import message
from bridge.music.midi import read_midi

FOLK_NOTES = len(read_midi(REPO / "examples" / "folk_melody.mid").notes)

pytestmark = pytest.mark.skipif(
    shutil.which("oscsend") is None or shutil.which("oscdump") is None,
    reason="liblo's oscsend/oscdump are not installed (Debian/Ubuntu: apt install liblo-tools)",
)


class OscDump:
    """`oscdump -L PORT`, its lines parsed as (address, args) as they arrive."""

    def __init__(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            ["oscdump", "-L", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.messages: list[tuple[str, list[str]]] = []
        self.raw: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        # Listening for sure once it has printed a message of ours.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            deadline = time.monotonic() + 10
            while not self.messages:
                assert time.monotonic() < deadline, f"oscdump printed nothing: {self.raw}"
                probe.sendto(message("/probe", "hello"), ("127.0.0.1", self.port))
                with self._changed:
                    self._changed.wait(0.2)

    def _read(self) -> None:
        for line in self.process.stdout:
            # "<timetag> /address typetags arg arg..."; strings are double-quoted
            try:
                fields = shlex.split(line)
            except ValueError:  # a quote inside a string: keep the line, roughly split
                fields = line.split()
            with self._changed:
                self.raw.append(line)
                if len(fields) >= 2 and fields[1].startswith("/"):
                    self.messages.append((fields[1], fields[3:]))
                self._changed.notify_all()

    def wait_for(self, address: str, request_id: str, timeout: float = 30.0) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for got, args in self.messages:
                    if got == address and args[:1] == [request_id]:
                        return args
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no {address} for {request_id}:\n{''.join(self.raw)}"
                self._changed.wait(remaining)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def oscdump():
    dump = OscDump()
    yield dump
    dump.close()


def oscsend(port: int, address: str, types: str, *values: object) -> None:
    command = ["oscsend", "localhost", str(port), address, types, *map(str, values)]
    subprocess.run(command, check=True, timeout=10)


def test_oscsend_runs_a_job_and_oscdump_prints_its_replies(make_daemon, oscdump):
    daemon = make_daemon(osc={"reply_port": oscdump.port})
    port = daemon.udp.address[1]
    oscsend(port, "/magenta/clip/file", "sis", "r1", 0, "folk_melody.mid")
    oscsend(port, "/magenta/tool/continue", "ssisi", "r1", "bars", 2, "seed", 7)
    done = oscdump.wait_for("/magenta/job/done", "r1")
    assert oscdump.wait_for("/magenta/clip/ready", "r1") == ["r1", "0", str(FOLK_NOTES)]
    accepted = oscdump.wait_for("/magenta/job/accepted", "r1")
    assert done[1] == accepted[1] and len(done) == 3
    clip = read_midi(Path(done[2]))
    assert clip.length == 8.0 and clip.notes
    assert max(note.start + note.duration for note in clip.notes) <= 8.0
    assert daemon.store.get(done[1]).status == "done"


def test_numbers_sent_as_floats_work_as_pure_data_sends_them(make_daemon, oscdump):
    daemon = make_daemon(osc={"reply_port": oscdump.port})
    port = daemon.udp.address[1]
    oscsend(port, "/magenta/clip/file", "sfs", "r3", 0.0, "folk_melody.mid")
    oscsend(port, "/magenta/tool/continue", "ssfsf", "r3", "bars", 1.0, "seed", 7.0)
    done = oscdump.wait_for("/magenta/job/done", "r3")
    assert read_midi(Path(done[2])).length == 4.0


def test_a_malformed_oscsend_request_gets_an_error_line(make_daemon, oscdump):
    daemon = make_daemon(osc={"reply_port": oscdump.port})
    port = daemon.udp.address[1]
    oscsend(port, "/magenta/clip/file", "sis", "r2", 0, "folk_melody.mid")
    oscsend(port, "/magenta/tool/continue", "ssi", "r2", "bars", 9999)
    error = oscdump.wait_for("/magenta/error", "r2")
    assert "bars must be between 1 and 64" in error[1]
    oscsend(port, "/magenta/test", "s", "still")
    assert oscdump.wait_for("/magenta/test", "still")[1] == "ok"
