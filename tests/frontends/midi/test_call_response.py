"""Call and response through a real JACK server: a second process plays a phrase into the
daemon's in port, the engine continues it with the bundled folk model, and a third process
records the answer from the out port: on the bar grid, in key, every note released."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest
import rtmidi
import yaml

from bridge.config import load_config
from bridge.daemon import Daemon
from bridge.frontends.midi.call_response import CallAndResponse, ResponseSettings
from bridge.frontends.midi.clock import FollowingClock
from bridge.frontends.midi.player import Player

REPO = Path(__file__).parents[3]
PEER = Path(__file__).with_name("peer.py")
C_MAJOR = {0, 2, 4, 5, 7, 9, 11}


@pytest.fixture
def bridge(jack_server, tmp_path):
    config = {
        "default_model": "folk",
        "models": {
            "folk": {
                "family": "melody_rnn",
                "path": str(REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"),
            }
        },
        "osc": {"port": 0},
        "data_folder": str(tmp_path / "data"),
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    daemon = Daemon(load_config(tmp_path / "config.yaml"), announce=lambda _: None)
    midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="Call Test In")
    midi_in.ignore_types(sysex=True, timing=False, active_sense=True)
    midi_in.open_virtual_port("in")
    midi_out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="Call Test Out")
    midi_out.open_virtual_port("out")
    clock = FollowingClock(120.0, time.monotonic())
    player = Player(lambda message: midi_out.send_message(message.bytes()))
    settings = ResponseSettings(silence_beats=1.0, bars=2, controls={21: "bars", 22: "panic"})
    calls = CallAndResponse(daemon.engine.submit, player, clock, settings, lambda _: None)
    midi_in.set_callback(
        lambda event, _: calls.receive(mido.Message.from_bytes(event[0]), time.monotonic())
    )
    calls.start()
    yield calls
    calls.close()
    player.close()
    midi_in.delete()
    midi_out.delete()
    daemon.close()


def record(seconds: float) -> subprocess.Popen:
    peer = subprocess.Popen(
        [sys.executable, str(PEER), "record", "Call Test Out:out", str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert peer.stdout.readline().strip() == "ready", peer.communicate()[1][-500:]
    return peer


def play(events: list) -> None:
    subprocess.run(
        [sys.executable, str(PEER), "play", "Call Test In:in", json.dumps(events)],
        check=True,
        capture_output=True,
        timeout=60,
    )


def phrase() -> list:
    """A C major line at 120 qpm, a note each half beat, then silence."""
    events = []
    for index, pitch in enumerate([60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72]):
        events.append([index * 0.25, [0x90, pitch, 90]])
        events.append([index * 0.25 + 0.2, [0x80, pitch, 0]])
    return events


def test_a_played_phrase_gets_an_answer_on_the_bar_grid_in_key(bridge):
    recorder = record(12.0)
    play([[0.0, [0xB0, 21, 0]], *phrase()])  # CC 21 at 0: answers of one bar
    events = json.loads(recorder.communicate(timeout=60)[0])
    ons = [(at, data[1]) for at, data in events if data[0] & 0xF0 == 0x90 and data[2] > 0]
    assert ons, "an answer was played"
    first_beat = bridge.clock.beat_at(ons[0][0])
    assert abs(first_beat - round(first_beat / 4) * 4) < 0.1, "it starts on a bar line"
    last_beat = bridge.clock.beat_at(ons[-1][0])
    assert last_beat - first_beat < 4, "one bar long, as CC 21 asked"
    in_key = sum(pitch % 12 in C_MAJOR for _, pitch in ons) / len(ons)
    assert in_key >= 0.8, [pitch for _, pitch in ons]
    sounding = set()
    for _, (status, pitch, velocity) in events:
        if status & 0xF0 == 0x90 and velocity:
            sounding.add(pitch)
        elif status & 0xF0 in (0x80, 0x90):
            sounding.discard(pitch)
    assert not sounding, "every note of the answer was released"
