"""Quantization must give exactly what note_seq.quantize_note_sequence gives."""

from __future__ import annotations

import note_seq
import pytest

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.notesequence import clip_to_note_sequence
from bridge.music.quantize import QuantizedClip, QuantizedNote, quantize


def _note_seq_quantized(clip: Clip, steps_per_quarter: int) -> tuple[list[tuple], int, float]:
    sequence = note_seq.quantize_note_sequence(clip_to_note_sequence(clip), steps_per_quarter)
    notes = [
        (n.pitch, n.quantized_start_step, n.quantized_end_step, n.velocity) for n in sequence.notes
    ]
    steps_per_bar = note_seq.steps_per_bar_in_quantized_sequence(sequence)
    return notes, sequence.total_quantized_steps, steps_per_bar


@pytest.mark.parametrize("steps_per_quarter", [1, 2, 3, 4, 12])
def test_equals_note_seq_on_random_clips(random_clip, steps_per_quarter: int) -> None:
    # Grids at half a step and finer put many times right on the rounding cutoff.
    grids = [None, 2 * steps_per_quarter, 4 * steps_per_quarter, 480]
    for seed in range(60):
        clip = random_clip(seed, grid=grids[seed % len(grids)], max_duration=1.0)
        notes, total_steps, steps_per_bar = _note_seq_quantized(clip, steps_per_quarter)
        if not steps_per_bar.is_integer():  # e.g. 7/8 at 1 step per quarter
            with pytest.raises(ClipError, match="Magenta needs a whole number"):
                quantize(clip, steps_per_quarter)
            continue
        ours = quantize(clip, steps_per_quarter)
        assert [tuple(note) for note in ours.notes] == notes, seed
        assert (ours.total_steps, ours.steps_per_bar) == (total_steps, steps_per_bar)
        assert (ours.steps_per_quarter, ours.qpm) == (steps_per_quarter, clip.qpm)


def test_rounding_rule_by_hand() -> None:
    # 120 qpm, 4 steps per quarter: a step is 0.25 beat; past half a step rounds up.
    clip = Clip(
        (
            Note(60, 0.12, 0.01),  # starts before half a step: step 0; ends at 0 too: lasts one
            Note(61, 0.125, 0.5),  # exactly half a step: rounds up to step 1
            Note(62, 1.0, 0.3),  # ends at 1.3 beats = 5.2 steps: step 5
            Note(63, 0.5, 0.4, mute=True),  # muted: left out
        ),
        1.1,
    )
    quantized = quantize(clip)
    assert quantized.notes == (
        QuantizedNote(60, 0, 1, 100),
        QuantizedNote(61, 1, 3, 100),
        QuantizedNote(62, 4, 5, 100),
    )
    assert quantized.total_steps == 5  # the clip's 4.4 steps, extended by the last note
    assert quantized == QuantizedClip(quantized.notes, 4, 16, 5, 5, 120.0)


def test_real_chorale_equals_note_seq() -> None:
    from pathlib import Path

    from bridge.music.midi import read_midi

    clip = read_midi(Path(__file__).parent / "data" / "bach_bwv66_6.mid")
    notes, total_steps, _ = _note_seq_quantized(clip, 4)
    quantized = quantize(clip)
    assert [tuple(note) for note in quantized.notes] == notes
    assert quantized.total_steps == total_steps == 144


def test_drum_flag_is_carried() -> None:
    clip = Clip((Note(36, 0.0, 0.25),), 4.0)
    assert quantize(clip, is_drum=True).is_drum
    assert not quantize(clip).is_drum


def test_bars_that_are_not_whole_steps_are_refused() -> None:
    clip = Clip((Note(60, 0.0, 1.0),), 3.5, time_signature=(7, 32))
    with pytest.raises(ClipError, match=r"time signature 7/32 has 3\.5 steps per bar at 4 steps"):
        quantize(clip)
    assert quantize(clip, 8).steps_per_bar == 7


@pytest.mark.parametrize(("value", "message"), [(0, "is not positive"), (2.0, "is not a whole")])
def test_bad_steps_per_quarter(value: object, message: str) -> None:
    with pytest.raises(ClipError, match=f"steps per quarter {value} {message}"):
        quantize(Clip((Note(60, 0.0, 1.0),), 4.0), value)  # type: ignore[arg-type]
