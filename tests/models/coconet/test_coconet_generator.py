"""Clips <-> Coconet's voices (bridge/models/coconet/generator.py): reading voices,
harmonizing a melody and infilling a span, on a small Coconet trained by Google's magenta
(tests/fixtures/coconet/straight-8-32) and real chorales from music21's corpus."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bridge.models.coconet.generator import harmonize, infill, read_voices
from bridge.models.coconet.model import Coconet
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi_parts

FIXTURES = Path(__file__).parents[3] / "tests" / "fixtures" / "coconet"
CHORALE = "bach/bwv10.7.mxl"


@pytest.fixture(scope="module")
def model() -> Coconet:
    return Coconet.load(FIXTURES / "straight-8-32", "cpu")


def clip(*notes: tuple, length: float = 8.0, **options) -> Clip:
    return Clip.from_notes([Note(*n) for n in notes], length, **options)


MELODY = clip(
    (67, 0.0, 1.0, 90),
    (69, 1.0, 0.5, 80),
    (71, 1.5, 0.5, 80),
    (72, 2.0, 2.0, 100),
    (71, 5.0, 1.0, 90),  # a rest before it
    (67, 6.0, 2.5, 90),  # rings past the end
    qpm=96.0,
    time_signature=(4, 4),
)
SATB = (
    clip((72, 0.0, 2.0), (71, 2.0, 2.0), (72, 4.0, 4.0)),
    clip((67, 0.0, 1.0), (65, 1.0, 1.0), (67, 2.0, 4.0), (64, 6.0, 2.0)),
    clip((64, 0.0, 4.0), (62, 4.0, 2.0), (60, 6.0, 2.0)),
    clip((48, 0.0, 2.0), (55, 2.0, 2.0), (48, 4.0, 2.0), (48, 6.0, 2.0)),
)


def chorale_parts(chorale_midi) -> list[Clip]:
    parts = read_midi_parts(chorale_midi(CHORALE))
    return sorted((part.clip for part in parts), key=lambda c: -np.mean([n.pitch for n in c.notes]))


def merged(voices) -> Clip:
    first = voices[0]
    return Clip([n for v in voices for n in v.notes], first.length, first.qpm, first.time_signature)


def assert_on_grid_and_monophonic(voice: Clip, length: float):
    starts = [n.start for n in voice.notes]
    assert voice.notes, "a generated voice is never empty"
    for note in voice.notes:
        assert (note.start * 4).is_integer() and (note.duration * 4).is_integer()
        assert 0 <= note.start < length and note.end <= length + 1e-9
    assert len(set(starts)) == len(starts)
    for a, b in zip(voice.notes, voice.notes[1:], strict=False):
        assert a.end <= b.start + 1e-9


# --- read_voices ----------------------------------------------------------------------


def test_read_voices_splits_four_voices_top_down():
    voices = read_voices(merged(SATB))
    assert len(voices) == 4
    for got, want in zip(voices, SATB, strict=True):
        assert set(got.notes) == set(want.notes)
        assert (got.length, got.qpm, got.time_signature) == (8.0, 120.0, (4, 4))


def test_read_voices_of_a_melody_is_the_melody():
    (voice,) = read_voices(MELODY)
    assert voice.notes == MELODY.notes and voice.qpm == 96.0


def test_read_voices_keeps_a_held_note_in_its_voice():
    # the top note is held while the lower line moves, then the top moves alone
    voices = read_voices(
        clip((72, 0, 4), (60, 0, 1), (62, 1, 1), (64, 2, 2), (74, 4, 1), (65, 5, 1))
    )
    assert [n.pitch for n in voices[0].notes] == [72, 74]
    assert [n.pitch for n in voices[1].notes] == [60, 62, 64, 65]


def test_read_voices_of_a_real_chorale(chorale_midi):
    """Every note lands in one voice, a voice plays one note at a time, and where all four
    sound the voices are in pitch order (Bach's own parts cross now and then, so they are
    not always the same voices as the score's)."""
    parts = chorale_parts(chorale_midi)
    voices = read_voices(merged(parts))
    assert len(voices) == 4
    assert Counter(n for v in voices for n in v.notes) == Counter(n for p in parts for n in p.notes)
    steps = int(parts[0].length * 4)
    pitches = np.full((steps, 4), np.nan)
    for index, voice in enumerate(voices):
        for note in voice.notes:
            span = slice(round(note.start * 4), round(note.end * 4))
            assert np.isnan(pitches[span, index]).all(), "a voice plays one note at a time"
            pitches[span, index] = note.pitch
    full = pitches[~np.isnan(pitches).any(axis=1)]
    assert (np.diff(full, axis=1) <= 0).all(axis=1).mean() > 0.95
    same = sum(len(set(v.notes) & set(p.notes)) for v, p in zip(voices, parts, strict=True))
    assert same / sum(len(p.notes) for p in parts) > 0.85


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (clip(*[(60 + 3 * i, 0, 1) for i in range(5)]), "5 notes sound together at beat 0"),
        (clip((20, 0, 1), (90, 1, 1)), "pitches 20-90 span 70 semitones"),
        (clip((60, 0, 1), length=1.25, time_signature=(5, 32)), "5/32"),
        (clip((60, 0, 1 / 6), (62, 1 / 6, 1 / 6), (64, 2 / 6, 1 / 6)), "fall on one 16th"),
        (clip(length=4.0), "no notes"),
        (clip((36, 0, 1), drums=True), "drum clip"),
    ],
)
def test_read_voices_refuses_what_coconet_cannot_take(bad, message):
    with pytest.raises(ClipError, match=message):
        read_voices(bad)


# --- harmonize ------------------------------------------------------------------------


def test_harmonize_keeps_the_melody_and_writes_three_voices(model):
    calls = []
    results = harmonize(model, MELODY, 3, 1.0, 11, lambda done, total: calls.append(total))
    assert len(results) == 3 and calls and set(calls) == {32 * 4 + 1}
    for soprano, *lower in results:
        assert soprano is MELODY  # every note, exactly as given
        for voice in lower:
            assert (voice.length, voice.qpm, voice.time_signature) == (8.0, 96.0, (4, 4))
            assert_on_grid_and_monophonic(voice, 8.0)
            assert {n.velocity for n in voice.notes} == {90}  # the melody's median
    assert len({tuple(v.notes for v in r[1:]) for r in results}) > 1  # variations differ
    again = harmonize(model, MELODY, 3, 1.0, 11)
    assert again == results


def test_fewer_gibbs_steps_are_one_keyword_away(model):
    calls = []
    harmonize(
        model, MELODY, 2, 1.0, 1, lambda done, total: calls.append((done, total)), gibbs_steps=2
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    calls.clear()
    infill(model, SATB, 0.0, 2.0, 1, 1.0, 1, lambda *args: calls.append(args), gibbs_steps=0)
    assert calls == [(1, 1)]


def test_harmonize_moves_a_melody_by_octaves_and_back(model):
    high = clip((96, 0, 1), (98, 1, 1), (100, 2, 2), length=4.0)
    (result,) = harmonize(model, high, 1, 0.5, 3)
    assert result[0] is high
    lower = [n.pitch for v in result[1:] for n in v.notes]
    assert max(lower) > 81  # generated for a soprano at 72-76, moved back up two octaves
    off_grid = clip((60, 0.1, 0.9), (62, 1.05, 1.0), length=2.0)
    (result,) = harmonize(model, off_grid, 1, 1.0, 3)
    assert result[0] is off_grid
    for voice in result[1:]:
        assert_on_grid_and_monophonic(voice, 2.0)


def test_harmonize_refuses_chords_and_silence(model):
    with pytest.raises(ClipError, match="2 notes starting at beat 0"):
        harmonize(model, clip((60, 0, 1), (64, 0, 1)), 1, 1.0, 1)
    with pytest.raises(ClipError, match="no notes"):
        harmonize(model, clip((60, 0, 1, 100, True)), 1, 1.0, 1)
    with pytest.raises(ValueError, match="variations"):
        harmonize(model, MELODY, 0, 1.0, 1)


# --- infill ---------------------------------------------------------------------------


def test_infill_keeps_every_note_outside_the_span(model):
    results = infill(model, SATB, 2.0, 6.0, 2, 1.0, 5)
    assert len(results) == 2
    for voices in results:
        assert len(voices) == 4
        for given, got in zip(SATB, voices, strict=True):
            assert (got.length, got.qpm, got.time_signature) == (8.0, 120.0, (4, 4))
            outside = [n for n in given.notes if not (n.start >= 2.0 and n.end <= 6.0)]
            assert set(outside) <= set(got.notes)
            new = set(got.notes) - set(outside)
            assert new, "every voice had room in the span"
            for note in new:
                assert note.start >= 2.0 and note.end <= 6.0
                assert all(note.end <= n.start or n.end <= note.start for n in outside)
    assert infill(model, SATB, 2.0, 6.0, 2, 1.0, 5) == results


def test_infill_returns_as_many_voices_as_given(model, chorale_midi):
    two = SATB[:2]
    (voices,) = infill(model, two, 0.0, 4.0, 1, 1.0, 2)
    assert len(voices) == 2
    assert voices[0].notes[-1] == SATB[0].notes[-1]  # beats 4-8 untouched
    parts = [replace_length(p, 16.0) for p in chorale_parts(chorale_midi)]
    (voices,) = infill(model, parts, 4.0, 8.0, 1, 0.9, 2)
    assert len(voices) == 4 and all(v.notes for v in voices)


def replace_length(voice: Clip, length: float) -> Clip:
    return Clip(
        tuple(n for n in voice.notes if n.start < length), length, voice.qpm, voice.time_signature
    )


def test_infill_hears_a_note_that_rings_into_the_span_and_keeps_muted_notes(model):
    voice = clip((72, 0, 3), (74, 3, 1), (76, 4, 1, 100, True), (77, 5, 3))
    (result,) = infill(model, [voice], 2.0, 5.0, 1, 1.0, 9)
    (got,) = result
    assert Note(72, 0.0, 3.0) in got.notes and Note(76, 4.0, 1.0, 100, True) in got.notes
    new = [n for n in got.notes if n not in voice.notes]
    assert new and all(n.start >= 3.0 and n.end <= 5.0 for n in new)


@pytest.mark.parametrize(
    ("voices", "start", "end", "message"),
    [
        (SATB, 6.0, 9.0, r"not inside the clip"),
        (SATB, 3.0, 3.0, r"not inside the clip"),
        (SATB, -1.0, 2.0, r"not inside the clip"),
        ((clip((60, 0, 8)),), 2.0, 4.0, "nothing to regenerate"),
        ((*SATB, SATB[0]), 0.0, 2.0, "1 to 4 voices"),
        ((SATB[0], clip((60, 0, 1), qpm=90.0)), 0.0, 2.0, "one tempo"),
        (
            (clip((60, 0, 1), (64, 0, 1)),),
            2.0,
            4.0,
            "voice 1 .soprano. has 2 notes starting at beat 0",
        ),
    ],
)
def test_infill_refuses_bad_spans_and_voices(model, voices, start, end, message):
    with pytest.raises(ClipError, match=message):
        infill(model, voices, start, end, 1, 1.0, 1)
