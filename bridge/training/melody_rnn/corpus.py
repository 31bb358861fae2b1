"""Melody training data: music files -> the event arrays Magenta's MelodyRNN trains on.

Reproduces magenta's training pipeline (``melody_rnn_pipeline.get_pipeline``) with
note_seq, Magenta's own representation library, so a model trained here sees what
Magenta's would: split on time-signature/tempo changes, quantize (both in ``corpus``),
extract melodies (``melody_pipelines.extract_melodies`` with the MelodyExtractor
settings that pipeline uses), then ``Melody.squash`` into the model's pitch range as its
EncoderPipeline does.  Arrays hold Magenta's melody events: -2 no event, -1 note off,
else a pitch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

# note_seq as `corpus` imports it, with pydub's warning about ffmpeg silenced.
from bridge.training.corpus import EVENT_DTYPE, note_seq, sequences_lib


@dataclass(frozen=True)
class ExtractionRules:
    """Settings of magenta's melody_rnn pipeline; the defaults are Magenta's.

    ``ignore_polyphonic_notes`` is False as in ``melody_rnn_pipeline.get_pipeline``
    (tracks where two notes start together are discarded), not True as in the
    ``extract_melodies`` function default, which only Magenta's generators use.
    """

    kind: ClassVar[str] = "melodies"

    steps_per_quarter: int = 4
    min_bars: int = 7
    max_steps: int = 512
    min_unique_pitches: int = 5
    gap_bars: float = 1.0
    ignore_polyphonic_notes: bool = False
    min_note: int = 48
    max_note: int = 84
    transpose_to_key: int | None = 0
    squash: bool = True  # False: melodies keep their pitches (MusicVAE's converter)
    pad_end: bool = False  # True: melodies end on a bar line (MusicVAE's converter)

    def extract(self, quantized: note_seq.NoteSequence, stats: Counter[str]) -> list[np.ndarray]:
        """magenta.pipelines.melody_pipelines.extract_melodies, then the encoder's squash."""
        steps_per_bar = int(sequences_lib.steps_per_bar_in_quantized_sequence(quantized))
        melodies = []
        for instrument in sorted({note.instrument for note in quantized.notes}):
            start = 0
            while True:
                melody = note_seq.Melody()
                try:
                    melody.from_quantized_sequence(
                        quantized,
                        instrument=instrument,
                        search_start_step=start,
                        gap_bars=self.gap_bars,
                        ignore_polyphonic_notes=self.ignore_polyphonic_notes,
                        pad_end=self.pad_end,
                        filter_drums=True,
                    )
                except note_seq.PolyphonicMelodyError:
                    stats["polyphonic_tracks_discarded"] += 1
                    break
                # The next search starts on the bar boundary at or after this melody's end.
                start = melody.end_step + (-melody.end_step) % steps_per_bar
                if not melody:
                    break
                if len(melody) < melody.steps_per_bar * self.min_bars:
                    stats["melodies_discarded_too_short"] += 1
                    continue
                if len(melody) > self.max_steps:
                    melody.set_length(self.max_steps)
                    stats["melodies_truncated"] += 1
                if np.count_nonzero(melody.get_note_histogram()) < self.min_unique_pitches:
                    stats["melodies_discarded_too_few_pitches"] += 1
                    continue
                if self.squash:
                    melody.squash(self.min_note, self.max_note, self.transpose_to_key)
                melodies.append(np.fromiter(melody, dtype=EVENT_DTYPE, count=len(melody)))
        return melodies
