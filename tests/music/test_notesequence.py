"""Clip <-> NoteSequence: exact round trips, what Magenta sees, and lazy import of note_seq."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from note_seq.protobuf import music_pb2

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.notesequence import clip_to_note_sequence, note_sequence_to_clip


def test_fields_in_seconds() -> None:
    clip = Clip((Note(60, 1.0, 0.5, 90), Note(62, 0.0, 1.0, mute=True)), 8.0, 90.0, (6, 8))
    sequence = clip_to_note_sequence(clip)
    assert [(t.time, t.qpm) for t in sequence.tempos] == [(0.0, 90.0)]
    signature = sequence.time_signatures[0]
    assert (len(sequence.time_signatures), signature.numerator, signature.denominator) == (1, 6, 8)
    assert sequence.total_time == pytest.approx(8.0 * 60 / 90)
    [note] = sequence.notes  # the muted note is left out
    assert (note.pitch, note.velocity, note.is_drum) == (60, 90, False)
    assert (note.start_time, note.end_time) == pytest.approx((60 / 90, 1.5 * 60 / 90))


def test_drum_clips_are_marked() -> None:
    sequence = clip_to_note_sequence(Clip((Note(36, 0.0, 0.25),), 4.0), is_drum=True)
    assert sequence.notes[0].is_drum


def test_round_trip_is_exact_for_audible_notes(random_clip) -> None:
    for seed in range(80):
        clip = random_clip(seed, grid=[480, 220, 96, 12][seed % 4])
        again = note_sequence_to_clip(clip_to_note_sequence(clip))
        audible = Clip(clip.audible_notes, clip.length, clip.qpm, clip.time_signature)
        assert again == audible, seed


def test_round_trip_of_arbitrary_floats_is_within_float_noise(random_clip) -> None:
    for seed in range(20):
        clip = random_clip(seed, grid=None, mute_rate=0.0)
        again = note_sequence_to_clip(clip_to_note_sequence(clip))
        for ours, theirs in zip(clip.notes, again.notes, strict=True):
            assert (ours.pitch, ours.velocity) == (theirs.pitch, theirs.velocity)
            assert (ours.start, ours.duration) == pytest.approx(
                (theirs.start, theirs.duration), abs=1e-9
            )


def _sequence(**fields: object) -> music_pb2.NoteSequence:
    sequence = music_pb2.NoteSequence(**fields)
    sequence.notes.add(pitch=60, velocity=100, start_time=0.25, end_time=0.75)
    return sequence


def test_length_comes_from_argument_total_time_or_whole_bars() -> None:
    sequence = _sequence(total_time=3.0)
    assert note_sequence_to_clip(sequence).length == 6.0  # 120 qpm by default
    assert note_sequence_to_clip(sequence, length=16.0).length == 16.0
    assert note_sequence_to_clip(_sequence()).length == 4.0


def test_model_output_without_tempo_or_signature_gets_defaults() -> None:
    clip = note_sequence_to_clip(_sequence())
    assert (clip.qpm, clip.time_signature) == (120.0, (4, 4))
    assert clip.notes == (Note(60, 0.5, 1.0, 100),)


def test_repeated_identical_tempos_are_fine() -> None:
    sequence = _sequence()
    sequence.tempos.add(time=0.0, qpm=100.0)
    sequence.tempos.add(time=2.0, qpm=100.0)
    assert note_sequence_to_clip(sequence).qpm == 100.0


def test_tempo_and_time_signature_changes_are_refused() -> None:
    sequence = _sequence()
    sequence.tempos.add(time=0.0, qpm=120.0)
    sequence.tempos.add(time=2.0, qpm=90.0)
    with pytest.raises(ClipError, match=r"NoteSequence changes tempo \(120.0 then 90.0\)"):
        note_sequence_to_clip(sequence)
    sequence = _sequence()
    sequence.time_signatures.add(time=0.0, numerator=4, denominator=4)
    sequence.time_signatures.add(time=2.0, numerator=3, denominator=4)
    with pytest.raises(ClipError, match=r"changes time signature \(\(4, 4\) then \(3, 4\)\)"):
        note_sequence_to_clip(sequence)


def test_bad_notes_are_named() -> None:
    sequence = _sequence()
    sequence.notes.add(pitch=62, velocity=0, start_time=0.0, end_time=1.0)
    with pytest.raises(ClipError, match=r"^NoteSequence: note 1: velocity 0 is outside 1-127$"):
        note_sequence_to_clip(sequence)
    sequence = _sequence()
    sequence.notes.add(pitch=62, velocity=10, start_time=1.0, end_time=1.0)
    with pytest.raises(ClipError, match=r"^NoteSequence: note 1: duration 0 is not positive$"):
        note_sequence_to_clip(sequence)


def test_the_package_imports_without_note_seq() -> None:
    code = (
        "import sys\n"
        "import bridge.music.clip, bridge.music.midi, bridge.music.quantize\n"
        "import bridge.music.melody, bridge.music.scales, bridge.music.notesequence\n"
        "assert 'note_seq' not in sys.modules, 'note_seq was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
