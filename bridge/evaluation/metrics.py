"""Musical statistics of clips: what generated music is measured by, beside held-out music.

Pure functions on `Clip`, so any model, the baseline and the held-out data are measured by
the same code. Everything counts *onsets* of audible notes on the 16th grid (4 steps per
quarter, Magenta's): a note is (step, key), its step `round(start * 4)` and its key the pitch,
or for a drum clip the drum's class in Magenta's nine (pitches outside the drum map are not
counted). Statistics a clip cannot have (the pitch range of drums, anything of an empty clip)
are NaN and left out of means.

Per clip:
- `pitch_range`: highest minus lowest pitch, in semitones.
- `note_density`: onsets per bar (bars of the clip's time signature over its length).
- `bar_note_counts`: onsets in each bar, whose spread over every bar of a set shows how
  evenly a density is kept.
- `simultaneous_notes`: the most notes sounding on one 16th step (a note sounds from its
  onset step to the step its end rounds to, at least one; drums: classes hit on the step).
- `in_scale_ratio`: the share of onsets in the major scale (any of the 12) holding the most of
  them; natural minor and the church modes are the same sets, so folk modes score 1.
- `in_key_ratio`: the share of onsets in a given key (a comparison gives each sample its
  primer's estimated key, `bridge.music.scales.estimate_key`).
- `repeated_bar_rate`: of the bars after the first that hold a note, the share that repeat an
  earlier bar exactly (the same keys at the same steps of the bar).
Per set of clips:
- `pitch_class_histogram`: onsets per pitch class (drums: per drum class), summing to 1.
- `onset_position_histogram`: onsets per step of the bar (rhythm), summing to 1.
- `histogram_distance`: total variation between two histograms, 0 (same) to 1 (disjoint).
Between clips:
- `clip_distance`: 1 minus the Jaccard similarity of their onset sets.
- `interpolation_smoothness`: neighbour distances along an interpolation; lower is smoother.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from bridge.music.clip import Clip
from bridge.music.drums import NUM_DRUM_CLASSES, drum_class
from bridge.music.melody import MAJOR_SCALE
from bridge.music.scales import Key

STEPS_PER_QUARTER = 4
PITCH_CLASSES = 12
# Statistics `sample_statistics` reports; distances are to the reference set.
STATISTICS = (
    "pitch_class_distance",
    "onset_position_distance",
    "pitch_range",
    "note_density",
    "note_density_sd",
    "simultaneous_notes",
    "max_simultaneous_notes",
    "in_scale_ratio",
    "in_primer_key_ratio",
    "repeated_bar_rate",
    "silent_share",
)


def onsets(clip: Clip) -> list[tuple[int, int]]:
    """(step, key) of every audible note: its 16th step and its pitch (drums: drum class)."""
    found = []
    for note in clip.audible_notes:
        key = drum_class(note.pitch) if clip.drums else note.pitch
        if key is not None:
            found.append((round(note.start * STEPS_PER_QUARTER), key))
    return found


def steps_per_bar(clip: Clip) -> int:
    return round(clip.beats_per_bar * STEPS_PER_QUARTER)


def pitch_range(clip: Clip) -> float:
    """Semitones from the lowest pitch to the highest; NaN for drums or an empty clip."""
    pitches = [key for _, key in onsets(clip)]
    if clip.drums or not pitches:
        return math.nan
    return float(max(pitches) - min(pitches))


def note_density(clip: Clip) -> float:
    """Onsets per bar."""
    return len(onsets(clip)) / (clip.length / clip.beats_per_bar)


def bar_note_counts(clip: Clip) -> list[int]:
    """Onsets in each bar of the clip (a last, partial bar counts as one)."""
    per_bar = steps_per_bar(clip)
    bars = math.ceil(round(clip.length * STEPS_PER_QUARTER) / per_bar)
    counts = [0] * bars
    for step, _ in onsets(clip):
        if step < bars * per_bar:
            counts[step // per_bar] += 1
    return counts


def simultaneous_notes(clip: Clip) -> float:
    """The most notes sounding on one 16th step; NaN for an empty clip."""
    sounding: dict[int, set[int]] = {}
    for note in clip.audible_notes:
        key = drum_class(note.pitch) if clip.drums else note.pitch
        if key is None:
            continue
        start = round(note.start * STEPS_PER_QUARTER)
        end = start + 1 if clip.drums else round(note.end * STEPS_PER_QUARTER)
        for step in range(start, max(end, start + 1)):
            sounding.setdefault(step, set()).add(key)
    return float(max(map(len, sounding.values()))) if sounding else math.nan


def in_key_ratio(clip: Clip, key: Key | None) -> float:
    """Share of onsets whose pitch class is in `key`; NaN for drums, an empty clip or no key."""
    pitches = [pitch for _, pitch in onsets(clip)]
    if clip.drums or not pitches or key is None:
        return math.nan
    return sum(pitch % PITCH_CLASSES in key.pitch_classes for pitch in pitches) / len(pitches)


def in_scale_ratio(clip: Clip) -> float:
    """Share of onsets in the best-fitting major scale; NaN for drums or an empty clip."""
    pitches = [key for _, key in onsets(clip)]
    if clip.drums or not pitches:
        return math.nan
    counts = np.bincount(np.array(pitches) % PITCH_CLASSES, minlength=PITCH_CLASSES)
    best = max(
        sum(counts[(tonic + degree) % PITCH_CLASSES] for degree in MAJOR_SCALE)
        for tonic in range(PITCH_CLASSES)
    )
    return float(best / len(pitches))


def repeated_bar_rate(clip: Clip) -> float:
    """Share of the non-empty bars after the first non-empty one that repeat an earlier bar;
    NaN when fewer than two bars hold notes."""
    per_bar = steps_per_bar(clip)
    bars: dict[int, set[tuple[int, int]]] = {}
    for step, key in onsets(clip):
        bars.setdefault(step // per_bar, set()).add((step % per_bar, key))
    patterns = [frozenset(bars[bar]) for bar in sorted(bars)]
    if len(patterns) < 2:
        return math.nan
    repeats = sum(pattern in patterns[:index] for index, pattern in enumerate(patterns) if index)
    return repeats / (len(patterns) - 1)


def pitch_class_histogram(clips: Sequence[Clip]) -> np.ndarray:
    """Onsets per pitch class (12 bins), or per drum class (9) when the clips are drums."""
    drums = bool(clips) and all(clip.drums for clip in clips)
    bins = NUM_DRUM_CLASSES if drums else PITCH_CLASSES
    counts = np.zeros(bins)
    for clip in clips:
        for _, key in onsets(clip):
            counts[key if drums else key % PITCH_CLASSES] += 1
    return _normalised(counts)


def onset_position_histogram(clips: Sequence[Clip]) -> np.ndarray:
    """Onsets per 16th step of the bar, over the longest bar among the clips."""
    size = max((steps_per_bar(clip) for clip in clips), default=16)
    counts = np.zeros(size)
    for clip in clips:
        for step, _ in onsets(clip):
            counts[step % steps_per_bar(clip)] += 1
    return _normalised(counts)


def histogram_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance, half the L1 distance; NaN if either histogram is empty."""
    width = max(len(p), len(q))
    p, q = np.pad(p, (0, width - len(p))), np.pad(q, (0, width - len(q)))
    if not p.sum() or not q.sum():
        return math.nan
    return float(0.5 * np.abs(p - q).sum())


def clip_distance(a: Clip, b: Clip) -> float:
    """1 - |A & B| / |A | B| over onset sets: 0 for the same notes, 1 for none shared."""
    first, second = set(onsets(a)), set(onsets(b))
    union = first | second
    return 1.0 - len(first & second) / len(union) if union else 0.0


def interpolation_smoothness(path: Sequence[Clip]) -> dict[str, float]:
    """Distances between neighbours along an interpolation: their mean, the largest (a jump),
    and the distance between its ends, which the steps divide."""
    steps = [clip_distance(a, b) for a, b in itertools.pairwise(path)]
    return {
        "neighbour_distance": float(np.mean(steps)) if steps else math.nan,
        "largest_jump": max(steps, default=math.nan),
        "endpoint_distance": clip_distance(path[0], path[-1]) if path else math.nan,
    }


def sample_statistics(
    samples: Sequence[Clip],
    reference: Sequence[Clip],
    keys: Sequence[Key | None] | None = None,
) -> dict[str, float]:
    """Statistics of a set of samples: histogram distances to `reference`, the per-clip
    statistics averaged over the clips that have them, the spread of onsets per bar over
    every bar, the most notes at once in any sample, and the share in each sample's key of
    `keys` (none given: NaN)."""
    keys = keys if keys is not None else [None] * len(samples)
    bars = [count for clip in samples for count in bar_note_counts(clip)]
    simultaneous = [simultaneous_notes(clip) for clip in samples]
    return {
        "pitch_class_distance": histogram_distance(
            pitch_class_histogram(samples), pitch_class_histogram(reference)
        ),
        "onset_position_distance": histogram_distance(
            onset_position_histogram(samples), onset_position_histogram(reference)
        ),
        "pitch_range": _mean([pitch_range(clip) for clip in samples]),
        "note_density": _mean([note_density(clip) for clip in samples]),
        "note_density_sd": float(np.std(bars)) if bars else math.nan,
        "simultaneous_notes": _mean(simultaneous),
        "max_simultaneous_notes": max(_kept(simultaneous), default=math.nan),
        "in_scale_ratio": _mean([in_scale_ratio(clip) for clip in samples]),
        "in_primer_key_ratio": _mean(
            [in_key_ratio(clip, key) for clip, key in zip(samples, keys, strict=True)]
        ),
        "repeated_bar_rate": _mean([repeated_bar_rate(clip) for clip in samples]),
        "silent_share": _mean([float(not onsets(clip)) for clip in samples]),
    }


def _normalised(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts


def _mean(values: Sequence[float]) -> float:
    """Mean of the values that are not NaN; NaN if none is."""
    kept = _kept(values)
    return float(np.mean(kept)) if kept else math.nan


def _kept(values: Sequence[float]) -> list[float]:
    return [value for value in values if not math.isnan(value)]
