"""The player on a real JACK server: a clip played on a virtual output and recorded by a
second process, in order, on time, every note on with its note off, also when a take is cut
short or the player closes mid-clip."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rtmidi

from bridge.frontends.midi.clock import InternalClock
from bridge.frontends.midi.player import Player
from bridge.music.clip import Clip, Note

PEER = Path(__file__).with_name("peer.py")
PORT = "Player Test:out"
TOLERANCE = 0.1  # seconds; notes below are 0.25 s apart, so each lands in its own slot


@pytest.fixture
def output(jack_server):
    midi_out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="Player Test")
    midi_out.open_virtual_port("out")
    player = Player(lambda message: midi_out.send_message(message.bytes()))
    yield player
    player.close()
    midi_out.delete()  # ends the JACK client, so the next test's gets the same name


def recorder(seconds: float) -> subprocess.Popen:
    peer = subprocess.Popen(
        [sys.executable, str(PEER), "record", PORT, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert peer.stdout.readline().strip() == "ready", peer.communicate()[1][-500:]
    time.sleep(0.2)  # JACK connects the recorder's port
    return peer


def recorded(peer: subprocess.Popen) -> list[tuple[float, list[int]]]:
    out, _ = peer.communicate(timeout=30)
    return [(at, data) for at, data in json.loads(out)]


def scale(count: int = 8) -> Clip:
    """Eighth notes at 120 qpm: a note every 0.25 s, each 0.2 s long."""
    return Clip.from_notes([Note(60 + i, i / 2, 0.4, 90) for i in range(count)], 4.0)


def unmatched(events: list[tuple[float, list[int]]]) -> set[tuple[int, int]]:
    """(channel, note) left sounding at the end of a recording."""
    sounding: set[tuple[int, int]] = set()
    for _, (status, note, *rest) in events:
        kind, channel = status & 0xF0, status & 0x0F
        if kind == 0x90 and rest and rest[0] > 0:
            sounding.add((channel, note))
        elif kind == 0x80 or kind == 0x90:
            sounding.discard((channel, note))
    return sounding


def test_a_clip_is_played_in_order_on_time_with_every_note_off(output):
    peer = recorder(3.0)
    start = time.monotonic() + 0.3
    take = output.play(scale(), start, InternalClock(120.0, start))
    events = recorded(peer)
    ons = [(at, data[1]) for at, data in events if data[0] == 0x90]
    assert [note for _, note in ons] == list(range(60, 68))
    first = ons[0][0]
    for index, (at, _) in enumerate(ons):
        assert abs((at - first) - index * 0.25) < TOLERANCE
    assert not unmatched(events) and not output.playing(take)


def test_stopping_a_take_ends_its_sounding_notes_and_drops_the_rest(output):
    peer = recorder(2.0)
    start = time.monotonic() + 0.2
    held = Clip.from_notes([Note(48, 0.0, 8.0), *scale(8).notes], 4.0)  # a 4 s pedal note
    take = output.play(held, start, InternalClock(120.0, start))
    time.sleep(0.9)
    output.stop(take)
    events = recorded(peer)
    notes_on = [data[1] for _, data in events if data[0] == 0x90]
    assert 48 in notes_on and len(notes_on) < 9, "the rest of the take was dropped"
    assert not unmatched(events), "the pedal and the current note were released"


def test_closing_the_player_mid_clip_leaves_nothing_sounding(jack_server):
    midi_out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="Player Test")
    midi_out.open_virtual_port("out")
    player = Player(lambda message: midi_out.send_message(message.bytes()))
    peer = recorder(1.5)
    start = time.monotonic() + 0.1
    player.play(
        Clip.from_notes([Note(50, 0.0, 8.0), Note(53, 0.0, 8.0)], 8.0),
        start,
        InternalClock(120.0, start),
    )
    time.sleep(0.5)
    player.close()
    events = recorded(peer)
    midi_out.delete()
    assert {data[1] for _, data in events if data[0] == 0x90} == {50, 53}
    assert not unmatched(events)


def test_panic_sends_all_notes_off_on_every_channel(output):
    peer = recorder(1.0)
    output.panic()
    events = recorded(peer)
    all_off = [data[0] & 0x0F for _, data in events if data[0] & 0xF0 == 0xB0 and data[1] == 123]
    assert sorted(all_off) == list(range(16))


def test_drums_go_to_channel_10_and_overlapping_repeats_end_once(output):
    peer = recorder(1.5)
    start = time.monotonic() + 0.1
    drums = Clip.from_notes([Note(38, 0.0, 1.0), Note(38, 0.5, 1.0)], 2.0, drums=True)
    output.play(drums, start, InternalClock(120.0, start))
    events = recorded(peer)
    assert {data[0] & 0x0F for _, data in events} == {9}
    kinds = [("on" if data[0] & 0xF0 == 0x90 else "off") for _, data in events]
    assert kinds == ["on", "on", "off"], "struck twice, released once when the last one ends"
    assert not unmatched(events)
