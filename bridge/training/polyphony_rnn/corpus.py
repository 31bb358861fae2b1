"""Polyphony training data: music files -> the event streams Magenta's PolyphonyRNN trains on.

Reproduces magenta's ``polyphony_rnn_pipeline.get_pipeline`` with note_seq, with the
arguments ``polyphony_rnn_create_dataset`` gives it: split on time-signature/tempo changes
and quantize at 4 steps per quarter (both in ``corpus``), transpose each quantized piece
by -4..+4 semitones (its TranspositionPipeline: drums stay, and a transposition taking a
pitch outside 0-127 is skipped), then ``polyphony_lib.extract_polyphonic_sequences`` as its
PolyphonicSequenceExtractor calls it: one sequence per piece, of all its notes, from step 0
to the piece's last step, discarded (never cut) when shorter than ``min_steps=80`` or longer
than ``max_steps=512``, or when its notes use more than one program. Arrays hold the
events as PolyphonyOneHotEncoding classes (``bridge.music.polyphony``: START, each step's
notes and its STEP_END, then END), which is what the network reads and predicts.

The transposition is data augmentation, and magenta applies it to its eval split as well.
Here it is ``transpositions``, Magenta's nine by default; held-out corpora are better built
with ``transpositions=(0,)``, so that each piece is scored once, in its own key.
Magenta's random eval partition is left out: corpora come in train/valid/test folders.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from bridge.music.polyphony import END, polyphonic_events
from bridge.music.quantize import QuantizedClip, QuantizedNote

# note_seq as `corpus` imports it, with pydub's warning about ffmpeg silenced.
from bridge.training.corpus import EVENT_DTYPE, note_seq, sequences_lib

# polyphony_rnn_pipeline: "Transpose up to a major third in either direction."
MAGENTA_TRANSPOSITIONS = tuple(range(-4, 5))
MIN_PITCH, MAX_PITCH = 0, 127


@dataclass(frozen=True)
class PolyphonyExtractionRules:
    """Settings of magenta's polyphony_rnn pipeline; the defaults are Magenta's."""

    kind: ClassVar[str] = "polyphonic_tracks"

    steps_per_quarter: int = 4
    min_steps: int = 80
    max_steps: int = 512
    transpositions: tuple[int, ...] = MAGENTA_TRANSPOSITIONS

    def extract(self, quantized: note_seq.NoteSequence, stats: Counter[str]) -> list[np.ndarray]:
        """TranspositionPipeline, then extract_polyphonic_sequences on each transposition."""
        sequences = []
        programs = {note.program for note in quantized.notes}
        for amount in self.transpositions:
            notes = _transposed(quantized, amount)
            if notes is None:
                stats["skipped_due_to_range_exceeded"] += 1
                continue
            stats["transpositions_generated"] += 1
            if len(programs) > 1:  # counted per transposition, as magenta does
                stats["polyphonic_tracks_discarded_more_than_1_program"] += 1
                continue
            steps = quantized.total_quantized_steps
            if steps < self.min_steps:
                stats["polyphonic_tracks_discarded_too_short"] += 1
                continue
            if steps > self.max_steps:
                stats["polyphonic_tracks_discarded_too_long"] += 1
                continue
            # Only the notes matter to the event stream; the grid facts are the piece's.
            clip = QuantizedClip(
                notes,
                self.steps_per_quarter,
                round(sequences_lib.steps_per_bar_in_quantized_sequence(quantized)),
                steps,
                steps,
                quantized.tempos[0].qpm if quantized.tempos else 120.0,
            )
            events = [*polyphonic_events(clip, 0, steps), END]
            sequences.append(np.array(events, dtype=EVENT_DTYPE))
        return sequences


def _transposed(quantized: note_seq.NoteSequence, amount: int) -> tuple[QuantizedNote, ...] | None:
    """The piece's notes moved by ``amount`` semitones (drums stay), or None when one leaves
    MIDI's pitch range, as TranspositionPipeline does even for an amount of zero."""
    notes = []
    for note in quantized.notes:
        pitch = note.pitch if note.is_drum else note.pitch + amount
        if not note.is_drum and not MIN_PITCH <= pitch <= MAX_PITCH:
            return None
        notes.append(
            QuantizedNote(pitch, note.quantized_start_step, note.quantized_end_step, note.velocity)
        )
    return tuple(notes)
