"""The direct MIDI writer writes what mido writes: a file read by mido and saved again by
mido is byte for byte the file written here (running status, meta events, end of track)."""

from __future__ import annotations

import io
import random

import mido
import pytest

from bridge.music.clip import Clip, Note
from bridge.music.midi import MidiPart, midi_bytes, midi_parts_bytes, read_midi
from bridge.music.smf import _variable_length


def _resaved(data: bytes) -> bytes:
    buffer = io.BytesIO()
    mido.MidiFile(file=io.BytesIO(data)).save(file=buffer)
    return buffer.getvalue()


def _random_clip(rng: random.Random, drums: bool) -> Clip:
    notes = [
        Note(
            rng.randint(35, 81) if drums else rng.randint(0, 127),
            rng.randint(0, 63) / 4 + rng.choice([0.0, 0.01, 1 / 3]),
            rng.choice([0.1, 0.25, 1.0, 3.3, 40.0]),
            rng.randint(1, 127),
            rng.random() < 0.2,
        )
        for _ in range(rng.randint(0, 80))
    ]
    return Clip.from_notes(
        notes, rng.choice([None, 70.0]), rng.choice([120.0, 93.5]), (7, 8), drums
    )


@pytest.mark.parametrize("seed", range(40))
def test_a_clip_is_written_as_mido_writes_it(seed: int) -> None:
    rng = random.Random(seed)
    clip = _random_clip(rng, drums=seed % 2 == 1)
    data = midi_bytes(clip)
    assert data == _resaved(data)
    assert read_midi(data).notes == read_midi(_resaved(data)).notes


def test_parts_are_written_as_mido_writes_them() -> None:
    melody = _random_clip(random.Random(1), drums=False)
    bass = Clip.from_notes([note for note in melody.notes if not note.mute], 70.0, 93.5, (7, 8))
    kit = Clip.from_notes([Note(36, 0.0, 0.25), Note(38, 1.0, 0.25)], 70.0, 93.5, (7, 8), True)
    data = midi_parts_bytes([MidiPart(bass, 33, "bass"), MidiPart(kit, 0, "kit")])
    assert data == _resaved(data)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (0x7F, b"\x7f"),
        (0x80, b"\x81\x00"),
        (0x3FFF, b"\xff\x7f"),
        (0x4000, b"\x81\x80\x00"),
        (0x0FFFFFFF, b"\xff\xff\xff\x7f"),
    ],
)
def test_variable_length_quantities_follow_the_standard(value: int, encoded: bytes) -> None:
    assert _variable_length(value) == encoded
