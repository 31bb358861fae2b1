"""The chorale statistics against values worked out by hand on tiny four-voice pieces."""

import math

import numpy as np
import pytest

from bridge.evaluation.chorale_metrics import (
    FIFTH,
    OCTAVE,
    chorale_statistics,
    crossing_share,
    in_key_ratio,
    note_starts,
    out_of_range_share,
    parallel_share,
    voice_ranges,
)

NAN = math.nan
# C major to D minor: soprano and bass in parallel octaves (24 -> 24), alto and bass in
# parallel fifths (19 -> 19); the tenor rests on the last step.
PARALLELS = np.array(
    [
        [72, 67, 64, 48],
        [72, 67, 64, 48],
        [74, 69, 65, 50],
        [74, 69, NAN, 50],
    ]
)


def test_notes_start_at_a_new_pitch_or_after_a_rest():
    voice = np.array([[60], [60], [NAN], [60], [62]])
    assert note_starts(voice)[:, 0].tolist() == [True, False, False, True, True]
    assert int(note_starts(PARALLELS).sum()) == 8


def test_parallel_fifths_and_octaves_among_the_pairs_that_move():
    # Only steps 1 -> 2 move all four voices: 6 pairs, one in fifths, one in octaves.
    assert parallel_share(PARALLELS, FIFTH) == pytest.approx(1 / 6)
    assert parallel_share(PARALLELS, OCTAVE) == pytest.approx(1 / 6)
    # Contrary motion from a fifth to a twelfth still keeps the interval class.
    contrary = np.array([[67, 60], [79, 48]])  # G4 over C4 -> G5 over C3
    assert parallel_share(contrary, FIFTH) == 1.0
    held = np.array([[67, 60], [67, 62]])  # one voice holds: no pair move
    assert math.isnan(parallel_share(held, FIFTH))


def test_crossings_count_four_voice_steps_only():
    piece = np.array([[60, 64, 55, 48], [60, 59, 55, 48], [50, 59, NAN, 48]])
    assert crossing_share(piece) == 0.5  # step 0 crossed, step 1 not, step 2 has a rest
    assert crossing_share(PARALLELS) == 0.0


def test_in_key_ratio_and_ranges():
    assert in_key_ratio(PARALLELS) == 1.0  # C E G / D F A: all in C major
    chromatic = np.array([[60], [64], [67], [61]])  # C E G C#: any major scale holds 3
    assert in_key_ratio(chromatic) == 0.75
    assert voice_ranges(PARALLELS) == [(72, 74), (67, 69), (64, 65), (48, 50)]
    assert out_of_range_share(PARALLELS) == 0.0
    high = np.array([[81, 67, 64, 48], [81, 67, 64, 36]])  # an A5 soprano, a C2 bass
    assert out_of_range_share(high) == pytest.approx(2 / 5)


def test_statistics_pool_the_counts_of_all_pieces():
    crossed = np.array([[60, 64, 55, 48], [60, 64, 55, 48]])  # one held crossed chord
    stats = chorale_statistics([PARALLELS, crossed])
    assert stats["crossing_share"] == pytest.approx(2 / 5)  # 3 + 2 four-voice steps
    assert stats["parallel_fifths_share"] == pytest.approx(1 / 6)
    assert stats["in_key_ratio"] == 1.0  # 8 + 4 notes, all in C major
    assert (stats["soprano_lowest"], stats["soprano_highest"]) == (60, 74)
    assert stats["tenor_mean"] == pytest.approx((64 + 64 + 65 + 55 + 55) / 5)
