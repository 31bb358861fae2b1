"""The musical statistics against values worked out by hand on tiny clips."""

import math

import numpy as np
import pytest

from bridge.evaluation.heldout import excerpt
from bridge.evaluation.metrics import (
    bar_note_counts,
    clip_distance,
    histogram_distance,
    in_key_ratio,
    in_scale_ratio,
    interpolation_smoothness,
    note_density,
    onset_position_histogram,
    onsets,
    pitch_class_histogram,
    pitch_range,
    repeated_bar_rate,
    sample_statistics,
    simultaneous_notes,
)
from bridge.music.clip import Clip, Note
from bridge.music.scales import parse_key

ARPEGGIO = [(60, 0.0), (64, 1.0), (67, 2.0), (72, 3.0)]  # C E G C, one bar of quarters


def melody(notes, length, mute=()):
    return Clip.from_notes([Note(p, s, 1.0, 100, (p, s) in mute) for p, s in notes], length=length)


@pytest.fixture
def three_bars():
    """Bar 1 an arpeggio, bar 2 the same, bar 3 one C# (and a muted note nobody hears)."""
    bar2 = [(p, s + 4) for p, s in ARPEGGIO]
    return melody([*ARPEGGIO, *bar2, (61, 8.0), (90, 9.0)], 12.0, mute={(90, 9.0)})


def test_per_clip_statistics(three_bars):
    assert onsets(three_bars)[:2] == [(0, 60), (4, 64)] and len(onsets(three_bars)) == 9
    assert pitch_range(three_bars) == 12  # 60 to 72; the muted 90 does not count
    assert note_density(three_bars) == 3.0  # 9 onsets over 3 bars
    # C major holds C, E and G (8 onsets), not C#; no major scale holds C, C#, E and G.
    assert in_scale_ratio(three_bars) == pytest.approx(8 / 9)
    # Of bars 2 and 3, bar 2 repeats bar 1.
    assert repeated_bar_rate(three_bars) == 0.5


def test_what_continue_controls_measured_per_clip(three_bars):
    assert bar_note_counts(three_bars) == [4, 4, 1]
    assert simultaneous_notes(three_bars) == 1  # quarter notes one after another
    # C major holds 8 of the 9 onsets; C# major (C#, D#, F, F#, G#, A#, C) holds the 4 Cs and C#.
    assert in_key_ratio(three_bars, parse_key("C:major")) == pytest.approx(8 / 9)
    assert in_key_ratio(three_bars, parse_key("C#:major")) == pytest.approx(5 / 9)
    assert math.isnan(in_key_ratio(three_bars, None))
    # C and G held a beat, an E from their last 16th: three sound at step 3; drums sound once.
    chord = Clip.from_notes(
        [Note(48, 0.0, 1.0), Note(67, 0.0, 1.0), Note(64, 0.75, 0.5), Note(60, 2.0, 0.1)],
        length=8.0,
    )
    assert simultaneous_notes(chord) == 3 and bar_note_counts(chord) == [4, 0]
    assert math.isnan(simultaneous_notes(Clip((), 4.0)))
    kick_and_hats = Clip.from_notes(
        [Note(36, 0.0, 2.0), Note(42, 0.0, 0.1), Note(44, 0.0, 0.1), Note(38, 1.0, 0.1)],
        length=4.0,
        drums=True,
    )
    assert simultaneous_notes(kick_and_hats) == 2  # kick and closed hi-hat (42 and 44): one class
    assert math.isnan(in_key_ratio(kick_and_hats, parse_key("C:major")))


def test_histograms(three_bars):
    expected = np.zeros(12)
    expected[[0, 1, 4, 7]] = [4, 1, 2, 2]
    np.testing.assert_allclose(pitch_class_histogram([three_bars]), expected / 9)
    rhythm = np.zeros(16)
    rhythm[[0, 4, 8, 12]] = [3, 2, 2, 2]  # steps of the bar: the C# is on a downbeat too
    np.testing.assert_allclose(onset_position_histogram([three_bars]), rhythm / 9)
    assert histogram_distance(np.array([0.5, 0.5, 0]), np.array([0, 0.5, 0.5])) == 0.5
    assert histogram_distance(np.array([1.0]), np.array([0.0, 1.0])) == 1.0  # padded
    assert math.isnan(histogram_distance(np.zeros(3), np.array([1.0, 0, 0])))


def test_onsets_snap_to_the_sixteenth_grid():
    clip = Clip.from_notes([Note(60, 0.13, 0.5), Note(62, 0.37, 0.5)], length=4.0)
    assert onsets(clip) == [(1, 60), (1, 62)]  # 0.52 and 1.48 steps both round to 1


def test_drums_are_counted_by_drum_class():
    hits = [Note(36, 0.0, 0.25), Note(38, 1.0, 0.25), Note(42, 0.0, 0.25), Note(44, 0.5, 0.25)]
    hits.append(Note(21, 2.0, 0.25))  # outside Magenta's drum map: not counted
    kit = Clip.from_notes(hits, length=4.0, drums=True)
    assert onsets(kit) == [(0, 0), (0, 2), (2, 2), (4, 1)]  # 42 and 44 are both closed hats
    np.testing.assert_allclose(pitch_class_histogram([kit]), [0.25, 0.25, 0.5, 0, 0, 0, 0, 0, 0])
    assert note_density(kit) == 4.0
    assert math.isnan(pitch_range(kit)) and math.isnan(in_scale_ratio(kit))


def test_distances_and_interpolation_smoothness():
    a = melody([(60, 0.0), (64, 1.0)], 4.0)
    b = melody([(60, 0.0), (67, 2.0)], 4.0)
    assert clip_distance(a, b) == pytest.approx(2 / 3)  # 1 shared of 3 distinct onsets
    assert clip_distance(a, a) == 0.0
    assert clip_distance(Clip((), 4.0), Clip((), 4.0)) == 0.0
    smooth = interpolation_smoothness([a, b, a])
    assert smooth == pytest.approx(
        {"neighbour_distance": 2 / 3, "largest_jump": 2 / 3, "endpoint_distance": 0.0}
    )


def test_sample_statistics_skip_what_a_clip_cannot_have(three_bars):
    silent = Clip((), 12.0)
    one_bar = melody(ARPEGGIO, 12.0)
    stats = sample_statistics([three_bars, silent, one_bar], [three_bars])
    assert stats["silent_share"] == pytest.approx(1 / 3)
    assert stats["pitch_range"] == 12.0  # the silent clip has none
    assert stats["repeated_bar_rate"] == 0.5  # one_bar has a single bar with notes: none
    assert stats["note_density"] == pytest.approx((3 + 0 + 4 / 3) / 3)
    # Bars: 4, 4, 1 | 0, 0, 0 | 4, 0, 0.
    assert stats["note_density_sd"] == pytest.approx(np.std([4, 4, 1, 0, 0, 0, 4, 0, 0]))
    assert stats["simultaneous_notes"] == stats["max_simultaneous_notes"] == 1
    assert math.isnan(stats["in_primer_key_ratio"])  # no keys given
    c_major = parse_key("C")
    keyed = sample_statistics([three_bars, one_bar], [three_bars], [c_major, None])
    assert keyed["in_primer_key_ratio"] == pytest.approx(8 / 9)
    # Samples: C 6, C# 1, E 3, G 3 of 13 onsets; reference: C 4, C# 1, E 2, G 2 of 9.
    expected = 0.5 * sum(
        abs(x - y) for x, y in ((6 / 13, 4 / 9), (1 / 13, 1 / 9), (3 / 13, 2 / 9), (3 / 13, 2 / 9))
    )
    assert stats["pitch_class_distance"] == pytest.approx(expected)


def test_excerpt_moves_notes_to_zero_and_cuts_them_at_its_end(three_bars):
    cut = excerpt(three_bars, 3.0, 2.0)
    assert [(n.pitch, n.start, n.duration) for n in cut.notes] == [(72, 0.0, 1.0), (60, 1.0, 1.0)]
    held = excerpt(Clip.from_notes([Note(60, 3.5, 2.0)], length=8.0), 2.0, 2.0)
    assert held.notes[0].duration == 0.5 and held.length == 2.0
