"""Performances: clips read as Magenta's PerformanceRNN generator reads them, and notes back.

note_seq is the reference throughout: its Performance of the clip quantized at 100 steps a
second, its set_length, its to_sequence and its velocity bins.
"""

from dataclasses import replace
from pathlib import Path

import note_seq
import numpy as np
import pytest

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.music.notesequence import clip_to_note_sequence
from bridge.music.performance import (
    NOTE_OFF,
    TIME_SHIFT,
    VELOCITY,
    Performance,
    bin_velocity,
    continuation_clip,
    extract_performance,
    generation_steps,
    num_events,
    performance_primer,
    velocity_bin,
)

BWV66 = Path(__file__).parent / "data" / "bach_bwv66_6.mid"


def encode(performance: note_seq.Performance, bins: int) -> list[int]:
    encoding = note_seq.PerformanceOneHotEncoding(num_velocity_bins=bins)
    return [encoding.encode_event(event) for event in performance]


def magenta(clip: Clip, bins: int) -> note_seq.Performance:
    quantized = note_seq.quantize_note_sequence_absolute(clip_to_note_sequence(clip), 100)
    return note_seq.Performance(quantized, num_velocity_bins=bins)


@pytest.fixture(scope="module")
def bwv66() -> Clip:
    return read_midi(BWV66)


def test_vocabulary_and_velocity_bins_are_note_seqs():
    from note_seq import performance_lib

    assert (num_events(0), num_events(32)) == (356, 388)
    encoding = note_seq.PerformanceOneHotEncoding(num_velocity_bins=32)
    assert encoding.decode_event(NOTE_OFF + 60) == performance_lib.PerformanceEvent(2, 60)
    assert encoding.decode_event(TIME_SHIFT + 1) == performance_lib.PerformanceEvent(3, 1)
    assert encoding.decode_event(VELOCITY + 1) == performance_lib.PerformanceEvent(4, 1)
    for bins in (1, 7, 32, 127):
        for velocity in range(1, 128):
            assert velocity_bin(velocity, bins) == performance_lib.velocity_to_bin(velocity, bins)
        for bin_ in range(1, bins + 1):
            expected = performance_lib.velocity_bin_to_velocity(bin_, bins)
            assert bin_velocity(bin_, bins) == expected


@pytest.mark.parametrize("seed", range(12))
def test_random_clips_perform_as_in_note_seq(random_clip, seed):
    clip = random_clip(seed, grid=None if seed % 3 == 0 else 480)
    if not clip.audible_notes:
        return
    for bins in (0, 32):
        assert extract_performance(clip, bins).events.tolist() == encode(magenta(clip, bins), bins)


def test_set_length_pads_and_cuts_as_note_seq(bwv66):
    reference = magenta(bwv66, 32)
    native = extract_performance(bwv66, 32)
    for steps in (reference.num_steps + 1, reference.num_steps + 250, 1234, 777, 3, 0):
        reference.set_length(steps)
        native = native.set_length(steps)
        assert native.events.tolist() == encode(reference, 32)
        assert native.num_steps == steps


def test_notes_come_back_as_to_sequence_makes_them(bwv66):
    for bins in (0, 32):
        reference = magenta(bwv66, bins)
        reference.set_length(reference.num_steps + 50)
        events = encode(reference, bins)
        # a stray NOTE_OFF, two of one pitch at once held past 5 s, a zero-length note
        events += [NOTE_OFF + 20, 60, 60] + [TIME_SHIFT + 100] * 6
        events += [NOTE_OFF + 60, 61, NOTE_OFF + 61, TIME_SHIFT + 3]
        performance = Performance(np.array(events), bins)
        # the same events, decoded by note_seq
        sequence = note_seq.Performance(steps_per_second=100, num_velocity_bins=bins)
        encoding = note_seq.PerformanceOneHotEncoding(num_velocity_bins=bins)
        for event in events:
            sequence.append(encoding.decode_event(event))
        expected = sorted(
            (n.pitch, round(n.start_time * 100), round(n.end_time * 100), n.velocity)
            for n in sequence.to_sequence(max_note_duration=5.0).notes
        )
        assert sorted(tuple(note) for note in performance.notes()) == expected


def test_a_primer_ends_at_the_clip_end_and_waits_one_step(bwv66):
    # The chorale's first two bars; notes run past the loop end: they are cut there.
    clip = replace(bwv66, notes=tuple(n for n in bwv66.notes if n.start < 8), length=8.0)
    primer = performance_primer(clip, 32)
    cut = Clip(
        tuple(replace(n, duration=min(n.end, 8.0) - n.start) for n in clip.notes if n.start < 8),
        8.0,
        clip.qpm,
    )
    seconds = 8.0 * 60 / clip.qpm  # 5 s at 96 qpm, exactly on a step
    assert generation_steps(clip, 2.0) == (501, 700)  # note_seq's cutoffs 0.0 and 1.0
    reference = magenta(cut, 32)
    reference.set_length(note_seq.quantize_to_step(seconds, 100, quantize_cutoff=0.0))
    assert primer.events.tolist() == encode(reference, 32)
    assert primer.num_steps == 501


def test_a_clip_without_audible_notes_in_its_length_is_refused():
    for notes in [(), (Note(60, 0.0, 1.0, mute=True),), (Note(60, 4.0, 1.0),)]:
        with pytest.raises(ClipError, match="no notes to continue"):
            performance_primer(Clip(notes, 4.0))


def test_continuations_keep_the_new_notes_from_the_clip_end():
    clip = Clip((Note(60, 0.0, 1.0),), 4.0, qpm=120.0)  # 2 s: the section starts at step 201
    events = [60, TIME_SHIFT + 100, NOTE_OFF + 60, TIME_SHIFT + 100, TIME_SHIFT + 1]
    events += [62, 64, TIME_SHIFT + 13, NOTE_OFF + 62, TIME_SHIFT + 40, NOTE_OFF + 64]
    performance = Performance(np.array(events))
    result = continuation_clip(performance, clip, 201, 4.0)
    assert result.notes == (Note(62, 0.02, 0.26), Note(64, 0.02, 1.06))
    assert (result.length, result.qpm) == (4.0, 120.0)
    snapped = continuation_clip(performance, clip, 201, 4.0, quantize=True)
    assert snapped.notes == (Note(62, 0.0, 0.25), Note(64, 0.0, 1.0))
    short = continuation_clip(performance, clip, 201, 0.5)
    assert [note.end for note in short.notes] == [0.28, 0.5]


def test_quantized_notes_of_one_pitch_and_start_merge():
    clip = Clip((Note(60, 0.0, 1.0),), 1.0, qpm=60.0)
    events = [TIME_SHIFT + 100, TIME_SHIFT + 2, 70, TIME_SHIFT + 3, NOTE_OFF + 70, 70]
    events += [TIME_SHIFT + 60, NOTE_OFF + 70]
    snapped = continuation_clip(Performance(np.array(events)), clip, 101, 4.0, quantize=True)
    assert snapped.notes == (Note(70, 0.0, 0.75),)
