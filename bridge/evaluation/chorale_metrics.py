"""Part-writing statistics of four-voice chorales: what Coconet's samples are measured by,
beside real chorales.

Pure functions on [time, voice] arrays of MIDI pitches, one row per 16th, soprano to bass,
NaN where a voice rests (Coconet's pieces, `bridge.models.coconet.pianoroll`). A piano
roll cannot tell a held note from a repeated one, so a voice's *note* starts where its
pitch differs from the step before (or follows a rest), as lib_pianoroll's merge_held reads
it. A voice *moves* between two steps when both sound and the pitch changes.

Per piece:
- `voice_ranges`: each voice's lowest and highest pitch.
- `out_of_range_share`: share of notes outside their voice's textbook range (`VOICE_RANGES`).
- `crossing_share`: of the steps where all four voices sound, the share where a voice sounds
  above the voice written above it.
- `parallel_share`: of the moves of pairs of voices (both voices move between two steps),
  the share that keep a perfect interval class: fifths (7) or octaves and unisons (0),
  compound or not, by similar or contrary motion ("consecutive fifths/octaves").
- `in_key_ratio`: share of notes in the best-fitting major scale (any of the 12; minor keys
  are their relative major's set, so a raised leading tone counts as out).
`chorale_statistics` pools them over a set of pieces (each count summed, then divided).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from bridge.music.melody import MAJOR_SCALE

VOICES = ("soprano", "alto", "tenor", "bass")
# Textbook choir ranges (Aldwell & Schachter): C4-G5, G3-D5, C3-G4, E2-C4.
VOICE_RANGES = ((60, 79), (55, 74), (48, 67), (40, 60))
FIFTH, OCTAVE = 7, 0  # interval classes


def note_starts(piece: np.ndarray) -> np.ndarray:
    """[time, voice] booleans: where a note starts (a new pitch, or a pitch after a rest)."""
    piece = np.asarray(piece, dtype=float)
    before = np.vstack([np.full((1, piece.shape[1]), np.nan), piece[:-1]])
    sounding = ~np.isnan(piece)
    return sounding & (np.isnan(before) | (piece != before))


def voice_ranges(piece: np.ndarray) -> list[tuple[float, float]]:
    """(lowest, highest) pitch of each voice; NaNs for a voice that never sounds."""
    ranges = []
    for column in np.asarray(piece, dtype=float).T:
        sounding = column[~np.isnan(column)]
        ranges.append(
            (float(sounding.min()), float(sounding.max()))
            if sounding.size
            else (math.nan, math.nan)
        )
    return ranges


def _out_of_range_counts(piece: np.ndarray, ranges: Sequence[tuple[int, int]]) -> tuple[int, int]:
    starts = note_starts(piece)
    outside = 0
    for voice, (low, high) in enumerate(ranges):
        pitches = np.asarray(piece, dtype=float)[starts[:, voice], voice]
        outside += int(((pitches < low) | (pitches > high)).sum())
    return outside, int(starts.sum())


def out_of_range_share(
    piece: np.ndarray, ranges: Sequence[tuple[int, int]] = VOICE_RANGES
) -> float:
    """Share of notes outside their voice's range; NaN without notes."""
    outside, notes = _out_of_range_counts(piece, ranges)
    return outside / notes if notes else math.nan


def _crossing_counts(piece: np.ndarray) -> tuple[int, int]:
    piece = np.asarray(piece, dtype=float)
    full = ~np.isnan(piece).any(axis=1)
    crossed = (np.diff(piece[full], axis=1) > 0).any(axis=1)  # a lower voice above its upper
    return int(crossed.sum()), int(full.sum())


def crossing_share(piece: np.ndarray) -> float:
    """Share of four-voice steps where some voice sounds above the voice above it."""
    crossed, steps = _crossing_counts(piece)
    return crossed / steps if steps else math.nan


def _parallel_counts(piece: np.ndarray, interval_class: int) -> tuple[int, int]:
    piece = np.asarray(piece, dtype=float)
    before, after = piece[:-1], piece[1:]
    moves = ~np.isnan(before) & ~np.isnan(after) & (before != after)
    parallel = pairs = 0
    for upper, lower in itertools.combinations(range(piece.shape[1]), 2):
        both = moves[:, upper] & moves[:, lower]
        first = (before[both, upper] - before[both, lower]) % 12 == interval_class
        second = (after[both, upper] - after[both, lower]) % 12 == interval_class
        parallel += int((first & second).sum())
        pairs += int(both.sum())
    return parallel, pairs


def parallel_share(piece: np.ndarray, interval_class: int) -> float:
    """Share of pair moves that keep the perfect interval class (FIFTH or OCTAVE)."""
    parallel, pairs = _parallel_counts(piece, interval_class)
    return parallel / pairs if pairs else math.nan


def _in_key_counts(piece: np.ndarray) -> tuple[int, int]:
    piece = np.asarray(piece, dtype=float)
    pitches = piece[note_starts(piece)].astype(int)
    counts = np.bincount(pitches % 12, minlength=12)
    best = max(sum(counts[(tonic + degree) % 12] for degree in MAJOR_SCALE) for tonic in range(12))
    return int(best), len(pitches)


def in_key_ratio(piece: np.ndarray) -> float:
    """Share of notes in the best-fitting major scale; NaN without notes."""
    inside, notes = _in_key_counts(piece)
    return inside / notes if notes else math.nan


def chorale_statistics(pieces: Sequence[np.ndarray]) -> dict[str, float]:
    """The statistics above pooled over `pieces` (counts summed first, so long pieces weigh
    more), with each voice's overall lowest, highest and mean pitch."""
    totals = np.zeros((5, 2))
    for piece in pieces:
        totals += [
            _out_of_range_counts(piece, VOICE_RANGES),
            _crossing_counts(piece),
            _parallel_counts(piece, FIFTH),
            _parallel_counts(piece, OCTAVE),
            _in_key_counts(piece),
        ]
    names = (
        "out_of_range_share",
        "crossing_share",
        "parallel_fifths_share",
        "parallel_octaves_share",
        "in_key_ratio",
    )
    stats = {
        name: float(a / b) if b else math.nan for name, (a, b) in zip(names, totals, strict=True)
    }
    stacked = (
        np.concatenate([np.asarray(piece, dtype=float) for piece in pieces])
        if pieces
        else np.zeros((0, 4))
    )
    for voice, name in enumerate(VOICES):
        column = stacked[~np.isnan(stacked[:, voice]), voice] if len(stacked) else np.zeros(0)
        for label, value in (("lowest", np.min), ("highest", np.max), ("mean", np.mean)):
            stats[f"{name}_{label}"] = float(value(column)) if column.size else math.nan
    return stats
