"""The daemon's MIDI ports: opened and announced at start on a real JACK server, talked to by
another process, closed at shutdown; without a MIDI system, one warning and OSC as before."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest
from fixture_daemons import write_config
from osc_clients import REPO, UdpClient

from bridge.config import load_config
from bridge.frontends.daemon import Daemon
from bridge.frontends.midi.ports import available_ports

PEER = REPO / "tests" / "frontends" / "midi" / "peer.py"
NO_ALSA_SEQUENCER = not Path("/dev/snd/seq").exists()


def test_a_jack_daemon_announces_its_ports_and_another_process_talks_to_them(jack_server, tmp_path):
    lines: list[str] = []
    # A long silence: the one-note phrase below gets no answer while this test records.
    midi = {"enabled": True, "api": "jack", "silence_beats": 32}
    daemon = Daemon(load_config(write_config(tmp_path, midi=midi)), announce=lines.append)
    try:
        announced = (
            "midi: in 'Magenta Bridge In:Magenta Bridge In', "
            "out 'Magenta Bridge Out:Magenta Bridge Out' (jack)"
        )
        assert announced in lines and lines[-1].startswith("ready"), lines
        heard = []
        daemon.midi_in.subscribe(lambda message, _: heard.append(message))
        recorder = subprocess.Popen(
            [sys.executable, str(PEER), "record", daemon.midi_out.name, "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert recorder.stdout.readline().strip() == "ready"
        time.sleep(0.2)  # JACK connects the recorder
        phrase = [[0.0, [0x90, 62, 100]], [0.1, [0x80, 62, 0]]]
        subprocess.run(
            [sys.executable, str(PEER), "play", daemon.midi_in.name, json.dumps(phrase)],
            check=True,
            timeout=30,
        )
        daemon.midi_out.send(mido.Message("note_on", note=74, velocity=70))
        daemon.midi_out.send(mido.Message("note_off", note=74))
        recorded, _ = recorder.communicate(timeout=30)
        assert [message.bytes() for message in heard] == [data for _, data in phrase]
        assert [data for _, data in json.loads(recorded)] == [[0x90, 74, 70], [0x80, 74, 64]]
    finally:
        daemon.close()
    listed = available_ports("jack")
    assert not any("Magenta Bridge" in name for names in listed.values() for name in names)


@pytest.mark.parametrize("api", ["jack", "alsa"])
def test_without_a_midi_system_the_daemon_warns_and_serves_osc(api, tmp_path, monkeypatch):
    if api == "alsa" and not NO_ALSA_SEQUENCER:
        pytest.skip("this machine has an ALSA sequencer")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "magenta-bridge-no-such-server")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    lines: list[str] = []
    config = load_config(write_config(tmp_path, midi={"enabled": True, "api": api}))
    daemon = Daemon(config, announce=lines.append)
    client = UdpClient(daemon.udp.address[1])
    try:
        midi = [line for line in lines if line.startswith("midi")]
        assert len(midi) == 1 and midi[0].startswith(f"midi off: {api}: no MIDI system"), lines
        assert daemon.midi_in is None and daemon.midi_out is None
        client.send("/magenta/test", "still")
        assert client.receive(("/magenta/test",))[-1][1][:2] == ["still", "ok"]
    finally:
        client.close()
        daemon.close()


def test_midi_is_left_alone_when_disabled(daemon):
    assert daemon.midi_in is None and daemon.midi_out is None
