"""Call and response through a real JACK server: a second process plays a phrase into the
daemon's in port, the engine continues it with the bundled folk model, and a third process
records the answer from the daemon's out port: on the bar grid, in key, as long as a control
change asked, every note released, and the job stored like any other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bridge.config import load_config
from bridge.frontends.daemon import Daemon

REPO = Path(__file__).parents[3]
PEER = Path(__file__).with_name("peer.py")
C_MAJOR = {0, 2, 4, 5, 7, 9, 11}


@pytest.fixture
def make_bridge(jack_server, tmp_path):
    """Daemons as `serve` runs them, MIDI on JACK, the bundled folk model; `midi` settings
    over the defaults of these tests."""
    daemons = []

    def start(**midi) -> Daemon:
        config = {
            "default_model": "folk",
            "models": {
                "folk": {
                    "family": "melody_rnn",
                    "path": str(REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"),
                }
            },
            "osc": {"port": 0},
            "http": {"port": 0},
            "midi": {"api": "jack", "silence_beats": 1.0, "answer_bars": 2, **midi},
            "data_folder": str(tmp_path / f"data{len(daemons)}"),
        }
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
        daemons.append(Daemon(load_config(tmp_path / "config.yaml"), announce=lambda _: None))
        return daemons[-1]

    yield start
    for daemon in daemons:
        daemon.close()


@pytest.fixture
def bridge(make_bridge) -> Daemon:
    return make_bridge(controls={"bars": 21, "panic": 22})


def record(daemon: Daemon, seconds: float) -> subprocess.Popen:
    peer = subprocess.Popen(
        [sys.executable, str(PEER), "record", daemon.midi_out.name, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert peer.stdout.readline().strip() == "ready", peer.communicate()[1][-500:]
    return peer


def play(daemon: Daemon, events: list) -> None:
    subprocess.run(
        [sys.executable, str(PEER), "play", daemon.midi_in.name, json.dumps(events)],
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
    recorder = record(bridge, 12.0)
    play(bridge, [[0.0, [0xB0, 21, 0]], *phrase()])  # CC 21 at 0: answers of one bar
    events = json.loads(recorder.communicate(timeout=60)[0])
    ons = [(at, data[1]) for at, data in events if data[0] & 0xF0 == 0x90 and data[2] > 0]
    assert ons, "an answer was played"
    clock = bridge.calls.clock
    beats = [clock.beat_at(at) for at, _ in ons]
    # The answer starts on a bar line, so its notes fall on that bar's sixteenths (within
    # 0.05 beats: 25 ms at 120 qpm; JACK's period is 5 ms) and all within one bar of it.
    assert all(abs(beat * 4 - round(beat * 4)) < 0.2 for beat in beats), beats
    bar = beats[0] // 4 * 4
    assert beats[-1] - bar < 4, "one bar long, as CC 21 asked"
    in_key = sum(pitch % 12 in C_MAJOR for _, pitch in ons) / len(ons)
    assert in_key >= 0.8, [pitch for _, pitch in ons]
    sounding = set()
    for _, (status, pitch, velocity) in events:
        if status & 0xF0 == 0x90 and velocity:
            sounding.add(pitch)
        elif status & 0xF0 in (0x80, 0x90):
            sounding.discard(pitch)
    assert not sounding, "every note of the answer was released"
    (record_,) = bridge.store.history(client="midi")
    assert record_.tool == "continue" and record_.status == "done", "stored like any job"


def test_answers_follow_the_daws_midi_clock_and_a_bar_line_ends_the_phrase(make_bridge):
    """The DAW runs at 100 qpm (MIDI clock) while the internal tempo says 120: the answer
    lands on the DAW's sixteenths, after the bar line that ended the phrase."""
    daemon = make_bridge(phrase_end="bar", silence_beats=32, tempo=120)
    tick = 60 / 100 / 24
    events = [[0.0, [0xFA]], *([index * tick, [0xF8]] for index in range(24 * 20))]  # 20 beats
    notes = [
        [offset + index * 0.3, [status, pitch, 90 if status == 0x90 else 0]]
        for index, pitch in enumerate([60, 64, 67, 72, 67, 64])
        for offset, status in ((0.3, 0x90), (0.5, 0x80))
    ]
    recorder = record(daemon, 14.0)
    play(daemon, sorted([*events, *notes], key=lambda event: event[0]))
    recorded = json.loads(recorder.communicate(timeout=60)[0])
    clock = daemon.calls.clock
    assert clock.qpm == pytest.approx(100.0, rel=0.02), "the tempo of the MIDI clock"
    ons = [clock.beat_at(at) for at, data in recorded if data[0] & 0xF0 == 0x90 and data[2]]
    assert ons, "the phrase ended at a bar line, though 32 beats of silence never passed"
    assert all(abs(beat * 4 - round(beat * 4)) < 0.2 for beat in ons), ons
    phrase_end = 0.5 + 5 * 0.3  # seconds after start: the last key goes up (beat 3.33)
    assert ons[0] >= 4.0 and ons[0] > phrase_end * 100 / 60
