"""Clips as Magenta's polyphonic event sequences, and back, on small hand-checked parts.

tests/models/polyphony_rnn/test_polyphony_encoding.py checks the same code against magenta's own
polyphony_lib on real chorales.
"""

import numpy as np
import pytest

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.polyphony import (
    CONTINUED_NOTE,
    END,
    NEW_NOTE,
    START,
    STEP_END,
    PolyphonicSequence,
    extract_polyphonic_sequence,
)
from bridge.music.quantize import quantize


def new(pitch: int) -> int:
    return NEW_NOTE + pitch


def held(pitch: int) -> int:
    return CONTINUED_NOTE + pitch


def test_a_chord_and_a_melody_note_become_magentas_events():
    clip = Clip.from_notes(
        [Note(60, 0, 0.5), Note(64, 0, 0.5), Note(67, 0, 0.25), Note(72, 0.25, 0.5)], length=1
    )
    sequence = extract_polyphonic_sequence(clip)
    expected = [
        START,
        *(new(67), new(64), new(60), STEP_END),  # highest pitch first
        *(new(72), held(64), held(60), STEP_END),  # 67 not continued: it has ended
        *(held(72), STEP_END),
        STEP_END,  # silence up to the clip's end
    ]
    assert sequence.events.tolist() == expected
    assert sequence.num_steps == 4 and sequence.steps_per_bar == 16


def test_a_repeated_pitch_starts_a_new_note():
    clip = Clip.from_notes([Note(60, 0, 0.25), Note(60, 0.25, 0.25)], length=1)
    events = extract_polyphonic_sequence(clip).events.tolist()
    assert events[:5] == [START, new(60), STEP_END, new(60), STEP_END]


def test_notes_at_the_clip_end_are_left_out_and_held_notes_run_to_it():
    clip = Clip(
        (Note(48, 0, 4), Note(50, 0.75, 0.25), Note(52, 1.0, 1.0), Note(53, 0.9, 1)), length=1
    )
    events = extract_polyphonic_sequence(clip).events.tolist()
    # 53 starts at 0.9 beats, in the clip: step 3.6 rounds to 4, the clip's end, and the
    # sequence runs a step longer for it, as note_seq's does, and so holds 52, which starts
    # at the end, on that step too. Without 53, 52 is left out.
    assert events == [
        START,
        *(new(48), STEP_END, held(48), STEP_END, held(48), STEP_END),
        *(new(50), held(48), STEP_END),
        *(new(53), new(52), held(48), STEP_END),
    ]
    without = Clip(tuple(note for note in clip.notes if note.pitch != 53), length=1)
    assert extract_polyphonic_sequence(without).events.tolist() == events[:10]
    assert extract_polyphonic_sequence(clip, steps=4).num_steps == 4  # a length of one's own


def test_clips_without_notes_are_refused():
    with pytest.raises(ClipError, match="no audible notes"):
        extract_polyphonic_sequence(Clip((), 4))
    with pytest.raises(ClipError, match="no audible notes"):
        extract_polyphonic_sequence(Clip((Note(60, 0, 1, mute=True),), 4))
    with pytest.raises(ClipError, match="no audible notes"):
        extract_polyphonic_sequence(Clip((Note(60, 4, 1),), 4))


def test_set_length_cuts_pads_and_closes_like_magenta():
    sequence = PolyphonicSequence([START, new(60), STEP_END, held(60), STEP_END, new(62)])
    assert sequence.num_steps == 2  # the unfinished step does not count
    assert sequence.set_length(3).events.tolist() == [
        START,
        *(new(60), STEP_END, held(60), STEP_END, new(62), STEP_END),
        END,
    ]
    padded = sequence.set_length(5).events.tolist()
    assert padded == [START, new(60), STEP_END, held(60), STEP_END, new(62)] + [STEP_END] * 3 + [
        END
    ]
    assert sequence.set_length(1).events.tolist() == [START, new(60), STEP_END, END]
    assert sequence.set_length(0).events.tolist() == [START, END]
    closed = PolyphonicSequence([START, new(60), STEP_END, END, END])
    assert closed.without_trailing_end().events.tolist() == [START, new(60), STEP_END]


def test_events_become_notes_like_magentas_to_sequence():
    sequence = PolyphonicSequence(
        [
            START,
            *(new(64), new(60), STEP_END),
            *(held(60), held(61), new(64), START, STEP_END),  # 61 never sounded; 64 again
            *(held(64), END, held(60), STEP_END),  # an END before the last event is ignored
            STEP_END,
            END,
        ]
    )
    notes = sorted((n.pitch, n.start, n.duration) for n in sequence.to_notes(velocity=80))
    assert notes == [(60, 0.0, 0.75), (64, 0.0, 0.25), (64, 0.25, 0.5)]
    assert {n.velocity for n in sequence.to_notes(velocity=80)} == {80}
    later = sorted(sequence.to_notes(first_step=1, start_beat=2.0), key=lambda n: n.pitch)
    # The 60 held from step 0 across step 1 starts there, with what remains of it.
    assert [(n.pitch, n.start, n.duration) for n in later] == [(60, 2.0, 0.5), (64, 2.0, 0.5)]
    with pytest.raises(ClipError, match="STEP_END, END"):
        PolyphonicSequence([START, new(60), STEP_END]).to_notes()


def test_a_clip_survives_the_round_trip_on_the_grid():
    notes = [
        Note(60, 0, 2),
        Note(64, 0, 1),
        Note(67, 0.5, 0.25),
        Note(67, 0.75, 1),
        Note(72, 1.5, 2.5),
        Note(55, 3, 1),
    ]
    clip = Clip.from_notes(notes, length=4)
    sequence = extract_polyphonic_sequence(clip).set_length(16)
    decoded = sorted((n.pitch, n.start, n.duration) for n in sequence.to_notes())
    assert decoded == sorted((n.pitch, n.start, n.duration) for n in notes)
    quantized = quantize(clip)
    assert len(quantized.notes) == len(decoded)


def test_events_are_checked():
    with pytest.raises(ClipError, match="starting with START"):
        PolyphonicSequence([STEP_END])
    with pytest.raises(ClipError, match="outside 0-258"):
        PolyphonicSequence([START, 259])
    sequence = PolyphonicSequence(np.array([START, STEP_END]))
    with pytest.raises(ValueError):
        sequence.events[0] = 1
