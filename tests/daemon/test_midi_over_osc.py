"""OSC requests that reach the MIDI side, on a real JACK server: a job's result played on
the out port (`play 1`), a control learnt from the next control change (`midi/learn`), and
clear errors when MIDI is off or the control is unknown."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from fixture_daemons import write_config
from osc_clients import REPO, UdpClient

from bridge.config import load_config
from bridge.frontends.daemon import Daemon

PEER = REPO / "tests" / "frontends" / "midi" / "peer.py"


@pytest.fixture
def midi_daemon(jack_server, tmp_path):
    midi = {"enabled": True, "api": "jack", "silence_beats": 32, "answer_on": "beat"}
    daemon = Daemon(load_config(write_config(tmp_path, midi=midi)), announce=lambda _: None)
    client = UdpClient(daemon.udp.address[1])
    yield daemon, client
    client.close()
    daemon.close()


def recorder(daemon: Daemon, seconds: float) -> subprocess.Popen:
    peer = subprocess.Popen(
        [sys.executable, str(PEER), "record", daemon.midi_out.name, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert peer.stdout.readline().strip() == "ready", peer.communicate()[1][-500:]
    time.sleep(0.2)
    return peer


def test_a_job_asked_to_play_is_heard_on_the_out_port(midi_daemon):
    daemon, client = midi_daemon
    peer = recorder(daemon, 8.0)
    client.send("/magenta/clip/file", "p", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "p", "bars", 1, "seed", 3, "play", 1)
    replies = client.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    events = json.loads(peer.communicate(timeout=30)[0])
    ons = [data[1] for _, data in events if data[0] & 0xF0 == 0x90 and data[2]]
    offs = [data[1] for _, data in events if data[0] & 0xF0 == 0x80]
    assert ons and sorted(ons) == sorted(offs), "the result played, every note released"


def test_a_control_is_learnt_from_the_next_control_change(midi_daemon):
    daemon, client = midi_daemon
    client.send("/magenta/midi/learn", "l", "panic")
    assert client.receive(("/magenta/midi/learn", "/magenta/error"))[-1] == (
        "/magenta/midi/learn",
        ["l", "ok"],
    )
    peer = recorder(daemon, 3.0)
    subprocess.run(
        [
            sys.executable,
            str(PEER),
            "play",
            daemon.midi_in.name,
            json.dumps([[0, [0xB0, 40, 127]], [0.1, [0xB0, 40, 127]]]),
        ],
        check=True,
        timeout=30,
    )
    events = json.loads(peer.communicate(timeout=30)[0])
    all_off = [data[0] & 0x0F for _, data in events if data[0] & 0xF0 == 0xB0 and data[1] == 123]
    assert sorted(all_off) == list(range(16)), "the first CC 40 was learnt, the second panics"


def test_unknown_controls_and_play_without_midi_are_refused(midi_daemon, make_daemon):
    _, client = midi_daemon
    client.send("/magenta/midi/learn", "x", "volume")
    (address, args) = client.receive(("/magenta/midi/learn", "/magenta/error"))[-1]
    assert address == "/magenta/error" and "unknown control 'volume'" in args[1]
    quiet = make_daemon()  # midi: {enabled: false}
    other = UdpClient(quiet.udp.address[1])
    other.send("/magenta/clip/file", "q", 0, "folk_melody.mid")
    other.receive(("/magenta/clip/ready",))
    other.send("/magenta/tool/continue", "q", "play", 1)
    (address, args) = other.receive()[-1]
    assert address == "/magenta/error" and "MIDI is off" in args[1]
    other.close()


def test_panic_over_osc_silences_a_playing_result(midi_daemon):
    daemon, client = midi_daemon
    peer = recorder(daemon, 6.0)
    client.send("/magenta/clip/file", "p", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "p", "bars", 8, "seed", 3, "play", 1)
    assert client.receive()[-1][0] == "/magenta/job/done"
    time.sleep(1.5)  # the result is playing (8 bars: 16 s at 120 qpm)
    client.send("/magenta/midi/panic", "x")
    assert client.receive(("/magenta/midi/panic",))[-1] == ("/magenta/midi/panic", ["x", "ok"])
    events = json.loads(peer.communicate(timeout=30)[0])
    ons = [data[1] for _, data in events if data[0] & 0xF0 == 0x90 and data[2]]
    offs = [data[1] for _, data in events if data[0] & 0xF0 == 0x80]
    assert ons and sorted(ons) == sorted(offs), "what sounded was released"
    last_note = max(at for at, data in events if data[0] & 0xF0 in (0x80, 0x90))
    all_off = [at for at, data in events if data[0] & 0xF0 == 0xB0 and data[1] == 123]
    assert len(all_off) == 16 and last_note <= min(all_off), "and nothing played after"
