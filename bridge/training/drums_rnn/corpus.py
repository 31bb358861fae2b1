"""Drum training data: music files -> the drum tracks Magenta's DrumsRNN trains on.

Reproduces magenta's ``drums_rnn_pipeline.get_pipeline`` with note_seq: split on
time-signature/tempo changes and quantize at 4 steps per quarter (both in ``corpus``),
then ``drum_pipelines.extract_drum_tracks`` as its DrumsExtractor calls it
(``min_bars=7``, ``max_steps=512`` truncating, ``gap_bars=1.0``): every note marked as a
drum, from all tracks together, zero velocities left out, a track starting at the bar of
its first hit and ending after its last hit or at a gap of a bar without drums. Arrays
hold the steps as ``bridge.music.drums`` stores them (bit c set when class c is hit,
MultiDrumOneHotEncoding's index; pitches outside the drum map do not count), so the
encoder pipeline's encoding is already done.

Magenta's random eval partition is left out: corpora come in train/valid/test folders.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from bridge.music.drums import encode_hits

# note_seq as `corpus` imports it, with pydub's warning about ffmpeg silenced.
from bridge.training.corpus import EVENT_DTYPE, note_seq, sequences_lib


@dataclass(frozen=True)
class DrumExtractionRules:
    """Settings of magenta's drums_rnn pipeline (its DrumsExtractor); the defaults are Magenta's."""

    kind: ClassVar[str] = "drum_tracks"

    steps_per_quarter: int = 4
    min_bars: int = 7
    max_steps: int = 512
    gap_bars: float = 1.0
    pad_end: bool = False  # True: tracks end on a bar line (MusicVAE's converter)

    def extract(self, quantized: note_seq.NoteSequence, stats: Counter[str]) -> list[np.ndarray]:
        """magenta.pipelines.drum_pipelines.extract_drum_tracks, encoded as step values."""
        steps_per_bar = int(sequences_lib.steps_per_bar_in_quantized_sequence(quantized))
        tracks = []
        start = 0
        while True:
            track = note_seq.DrumTrack()
            track.from_quantized_sequence(
                quantized, search_start_step=start, gap_bars=self.gap_bars, pad_end=self.pad_end
            )
            # The next search starts on the bar line at or after this track's end.
            start = track.end_step + (start - track.end_step) % steps_per_bar
            if not track:
                break
            if len(track) < track.steps_per_bar * self.min_bars:
                stats["drum_tracks_discarded_too_short"] += 1
                continue
            if len(track) > self.max_steps:
                track.set_length(self.max_steps)
                stats["drum_tracks_truncated"] += 1
            tracks.append(np.array([encode_hits(step) for step in track], dtype=EVENT_DTYPE))
        return tracks
