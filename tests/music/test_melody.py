"""Melodies must be exactly those note_seq.Melody and magenta's extract_melodies produce."""

from __future__ import annotations

import random
from pathlib import Path

import note_seq
import numpy as np
import pytest

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.melody import (
    NO_EVENT,
    NOTE_OFF,
    Melody,
    extract_melodies,
    extract_melody,
    major_key,
)
from bridge.music.midi import read_midi
from bridge.music.notesequence import clip_to_note_sequence
from bridge.music.quantize import quantize

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[2] / "examples"
_ = NO_EVENT


def _quantized_sequence(clip: Clip, steps_per_quarter: int = 4, is_drum: bool = False):
    sequence = clip_to_note_sequence(clip, is_drum=is_drum)
    return note_seq.quantize_note_sequence(sequence, steps_per_quarter)


def _note_seq_primer(clip: Clip, steps_per_quarter: int = 4) -> list[int]:
    """What Magenta's melody generators extract from a primer, from step 0, ending in NOTE_OFF."""
    melody = note_seq.Melody()
    melody.from_quantized_sequence(
        _quantized_sequence(clip, steps_per_quarter),
        gap_bars=float("inf"),
        ignore_polyphonic_notes=True,
    )
    melody.set_length(len(melody) + 1)  # the generator's first step ends the last note
    return [NO_EVENT] * melody.start_step + list(melody)


def _magenta_extract_melodies(sequence, **options) -> list[list[int]]:
    """magenta.pipelines.melody_pipelines.extract_melodies for one instrument, on note_seq.

    magenta itself needs TensorFlow; its loop is restated here over note_seq's own Melody.
    """
    min_bars = options.pop("min_bars")
    max_steps_truncate = options.pop("max_steps_truncate")
    min_unique_pitches = options.pop("min_unique_pitches")
    steps_per_bar = int(note_seq.steps_per_bar_in_quantized_sequence(sequence))
    melodies: list[list[int]] = []
    search_start_step = 0
    while sequence.notes:
        melody = note_seq.Melody()
        try:
            melody.from_quantized_sequence(sequence, search_start_step=search_start_step, **options)
        except note_seq.PolyphonicMelodyError:
            break
        search_start_step = melody.end_step + (-melody.end_step) % steps_per_bar
        if not melody:
            break
        if len(melody) < melody.steps_per_bar * min_bars:
            continue
        if max_steps_truncate is not None and len(melody) > max_steps_truncate:
            length = max_steps_truncate
            if options["pad_end"]:
                length -= max_steps_truncate % melody.steps_per_bar
            melody.set_length(length)
        if np.count_nonzero(melody.get_note_histogram()) < min_unique_pitches:
            continue
        melodies.append(list(melody))
    return melodies


def _phrases(seed: int) -> Clip:
    """A long, mostly monophonic line in phrases, with chords, overlaps and gaps of any size."""
    rng = random.Random(seed)
    time_signature = rng.choice([(4, 4), (3, 4), (6, 8)])
    notes = []
    beat = rng.choice([0.0, 0.5, 3.0, 5.0])
    for _ in range(rng.randint(20, 150)):
        duration = rng.choice([0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0])
        pitch = rng.randint(48, 84)
        notes.append(Note(pitch, beat, duration, rng.randint(1, 127), rng.random() < 0.05))
        if rng.random() < 0.15:  # a chord tone on the same onset
            notes.append(Note(pitch + rng.choice([-7, -3, 4, 12]), beat, rng.choice([0.5, 3.0])))
        beat += duration * rng.choice([1, 1, 1, 0.5, 0.75])  # sometimes overlapping
        if rng.random() < 0.1:  # a rest of up to about three bars
            beat += rng.choice([0.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0])
    return Clip.from_notes(notes, time_signature=time_signature)


def test_primer_melody_by_hand() -> None:
    clip = Clip(
        (
            Note(72, 0.0, 1.0, mute=True),  # muted: ignored
            Note(60, 4.0, 1.0),  # shares its onset with a higher note: dropped
            Note(64, 4.0, 0.5),
            Note(67, 5.5, 2.0),  # cut short by the next onset
            Note(65, 6.0, 0.5),
        ),
        8.0,
    )
    melody = extract_melody(clip)
    assert melody.events.tolist() == [_] * 16 + [64, _, NOTE_OFF, _, _, _, 67, _, 65, _, NOTE_OFF]
    assert (melody.steps_per_quarter, melody.steps_per_bar) == (4, 16)
    assert melody.to_notes() == [Note(64, 4.0, 0.5), Note(67, 5.5, 0.5), Note(65, 6.0, 0.5)]
    assert melody.to_notes(start_beat=8.0, velocity=90)[0] == Note(64, 12.0, 0.5, 90)


def test_an_all_rest_melody_has_no_notes() -> None:
    # What a greedy decoder gives when it hears silence: no note-on at all.
    for events in ([_] * 32, [NOTE_OFF, _, _, NOTE_OFF], []):
        assert Melody(events).to_notes() == []
    assert Melody([_, NOTE_OFF, 60, _]).to_notes() == [Note(60, 0.5, 0.5)]


def test_primer_melody_equals_note_seq_on_random_clips(random_clip) -> None:
    for seed in range(150):
        clip = random_clip(seed, grid=[None, 8, 480][seed % 3], pitches=(40, 90))
        if not clip.audible_notes:
            continue
        steps_per_quarter = [4, 4, 2, 3][seed % 4]
        if not (clip.beats_per_bar * steps_per_quarter).is_integer():
            continue
        melody = extract_melody(clip, steps_per_quarter)
        assert melody.events.tolist() == _note_seq_primer(clip, steps_per_quarter), seed


def test_primer_melody_of_real_music_equals_note_seq() -> None:
    for path in (DATA / "bach_bwv66_6.mid", EXAMPLES / "folk_melody.mid"):
        clip = read_midi(path)
        assert extract_melody(clip).events.tolist() == _note_seq_primer(clip)


@pytest.mark.parametrize(
    "clip",
    [
        Clip((Note(60, 0.0, 1.0, mute=True), Note(62, 1.0, 1.0, mute=True)), 4.0),
        Clip((), 4.0),
    ],
    ids=["only muted notes", "no notes"],
)
def test_no_usable_melody(clip: Clip) -> None:
    with pytest.raises(ClipError, match="clip has no usable melody: it has no audible notes"):
        extract_melody(clip)


OPTIONS = [
    {},
    {"min_bars": 0, "min_unique_pitches": 1},
    {"min_bars": 2, "gap_bars": 0.5, "pad_end": True},
    {"min_bars": 1, "gap_bars": 2.0, "max_steps_truncate": 64, "pad_end": True},
    {"min_bars": 1, "max_steps_truncate": 37, "min_unique_pitches": 3},
    {"min_bars": 0, "min_unique_pitches": 1, "ignore_polyphonic_notes": False},
    {"min_bars": 3, "ignore_polyphonic_notes": False, "gap_bars": 1.5},
]
DEFAULTS = {
    "min_bars": 7,
    "max_steps_truncate": None,
    "min_unique_pitches": 5,
    "gap_bars": 1.0,
    "ignore_polyphonic_notes": True,
    "pad_end": False,
    "filter_drums": True,
}


@pytest.mark.parametrize("options", OPTIONS, ids=range(len(OPTIONS)))
def test_extract_melodies_equals_magenta(options: dict) -> None:
    found = 0
    for seed in range(40):
        clip = _phrases(seed)
        ours = extract_melodies(quantize(clip), **options)
        theirs = _magenta_extract_melodies(_quantized_sequence(clip), **{**DEFAULTS, **options})
        assert [melody.events.tolist() for melody in ours] == theirs, seed
        assert all(melody.steps_per_bar == quantize(clip).steps_per_bar for melody in ours)
        found += len(ours)
    assert found  # the options must let some melodies through, or nothing was compared


def test_extract_melodies_from_a_real_chorale_equals_magenta() -> None:
    clip = read_midi(DATA / "bach_bwv66_6.mid")
    options = {"min_bars": 2, "gap_bars": 1.0}
    ours = extract_melodies(quantize(clip), **options)
    theirs = _magenta_extract_melodies(_quantized_sequence(clip), **{**DEFAULTS, **options})
    assert [melody.events.tolist() for melody in ours] == theirs
    assert len(ours) == 1


def test_drum_clips_yield_no_melodies_unless_asked() -> None:
    clip = _phrases(1)
    drums = quantize(clip, is_drum=True)
    assert extract_melodies(drums, min_bars=0) == []
    sequence = _quantized_sequence(clip, is_drum=True)
    unfiltered = {**DEFAULTS, "min_bars": 0, "filter_drums": False}
    assert [m.events.tolist() for m in extract_melodies(drums, **unfiltered)] == (
        _magenta_extract_melodies(sequence, **unfiltered)
    )
    assert _magenta_extract_melodies(sequence, **{**unfiltered, "filter_drums": True}) == []


def test_gaps_split_melodies_by_hand() -> None:
    notes = [Note(60 + i, float(i), 1.0) for i in range(8)]  # bars 1-2
    notes += [Note(70 + i, 16.0 + i, 1.0) for i in range(4)]  # bar 5, after two silent bars
    melodies = extract_melodies(quantize(Clip.from_notes(notes)), min_bars=1, min_unique_pitches=1)
    assert len(melodies) == 2
    first, second = (melody.events.tolist() for melody in melodies)
    assert first == [pitch for i in range(8) for pitch in (60 + i, _, _, _)]
    assert second == [pitch for i in range(4) for pitch in (70 + i, _, _, _)]


def _random_melody(rng: random.Random, steps_per_quarter: int = 4) -> Melody:
    events = [rng.randint(20, 110)]
    for _step in range(rng.randint(0, 60)):
        events.append(rng.choice([NO_EVENT] * 3 + [NOTE_OFF, rng.randint(0, 127)]))
    return Melody(events, steps_per_quarter, 4 * steps_per_quarter)


@pytest.mark.parametrize(
    ("low", "high", "key"), [(48, 84, 0), (48, 84, None), (0, 128, 0), (60, 72, 5), (36, 96, 9)]
)
def test_squash_equals_note_seq(low: int, high: int, key: int | None) -> None:
    rng = random.Random(low * 1000 + high)
    for _case in range(200):
        melody = _random_melody(rng)
        reference = note_seq.Melody(melody.events.tolist())
        amount = reference.squash(low, high, key)
        squashed, our_amount = melody.squash(low, high, key)
        assert (squashed.events.tolist(), our_amount) == (list(reference), amount)
        assert isinstance(our_amount, int)


def test_squash_of_a_melody_without_notes_is_a_no_op() -> None:
    melody = Melody([NO_EVENT, NOTE_OFF, NO_EVENT])
    assert melody.squash(48, 84) == (melody, 0)


def test_transpose_equals_note_seq() -> None:
    rng = random.Random(7)
    for _case in range(200):
        melody = _random_melody(rng)
        amount, low, high = rng.randint(-30, 30), rng.choice([0, 36, 48]), rng.choice([84, 128])
        reference = note_seq.Melody(melody.events.tolist())
        reference.transpose(amount, low, high)
        assert melody.transpose(amount, low, high).events.tolist() == list(reference)
    assert Melody([60, _, NOTE_OFF]).transpose(2).events.tolist() == [62, _, NOTE_OFF]


def test_major_key_equals_note_seq() -> None:
    rng = random.Random(3)
    for _case in range(100):
        melody = _random_melody(rng)
        reference = note_seq.Melody(melody.events.tolist())
        assert major_key(melody.events[melody.events >= 0]) == reference.get_major_key()


@pytest.mark.parametrize("steps_per_quarter", [4, 3])
def test_to_notes_equals_note_seq(steps_per_quarter: int) -> None:
    rng = random.Random(steps_per_quarter)
    for _case in range(100):
        melody = _random_melody(rng, steps_per_quarter)
        reference = note_seq.Melody(
            melody.events.tolist(), steps_per_quarter=steps_per_quarter
        ).to_sequence(velocity=80, qpm=60.0)  # at 60 qpm a second is a beat
        theirs = [(n.pitch, n.start_time, n.end_time - n.start_time) for n in reference.notes]
        ours = [(n.pitch, n.start, n.duration) for n in melody.to_notes(velocity=80)]
        assert [o[0] for o in ours] == [t[0] for t in theirs]
        assert [t for o in ours for t in o[1:]] == pytest.approx([t for x in theirs for t in x[1:]])


def test_melody_values() -> None:
    melody = Melody([60, _, NOTE_OFF])
    assert len(melody) == 3
    assert melody == Melody(np.array([60, -2, -1]), 4, 16)
    assert melody != Melody([60, _, NOTE_OFF], 4, 12)
    assert melody != Melody([61, _, NOTE_OFF])
    with pytest.raises(ValueError, match="read-only"):
        melody.events[0] = 61


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (([60, 128],), "melody event 128 at step 1 is outside -2-127"),
        (([60, -3],), "melody event -3 at step 1 is outside -2-127"),
        (([[60]],), r"melody events have shape \(1, 1\); expected one per step"),
        (([60], 0), "melody steps per quarter 0 is not a positive whole number"),
        (([60], 4, 2.5), "melody steps per bar 2.5 is not a positive whole number"),
    ],
)
def test_bad_melodies(arguments: tuple, message: str) -> None:
    with pytest.raises(ClipError, match=message):
        Melody(*arguments)
