"""Beats <-> seconds, done one way everywhere so quantization agrees with note_seq bit for bit.

Clips count time in beats (quarter notes, as Live does); NoteSequences count seconds. note_seq
quantizes from seconds, so our own quantizer must compute seconds with the very same expression.
"""

# Every common grid divides this many ticks per beat: PPQ 96, 220 (Magenta), 240, 480, 960,
# triplets, quintuplets, septuplets, and beats written with three decimals.
_FINE_TICKS_PER_BEAT = 2**8 * 3**2 * 5**3 * 7 * 11
# How close (in fine ticks) a converted value must be to a grid point to be snapped onto it.
_SNAP_TOLERANCE = 1e-3


def beats_to_seconds(beats: float, qpm: float) -> float:
    """Seconds from the clip start; the expression note_seq's own conversions would use."""
    return beats * 60.0 / qpm


def seconds_to_beats(seconds: float, qpm: float) -> float:
    """Beats from seconds, with conversion noise removed so grid values round-trip exactly."""
    return snap_beats(seconds * qpm / 60.0)


def snap_beats(beats: float) -> float:
    """Put a value within float noise of a grid point back on that point.

    `beats * 60 / qpm * qpm / 60` misses the original by an ulp about one time in ten; a value
    within a thousandth of a fine tick of a grid point is moved onto it, anything else is kept.
    """
    ticks = beats * _FINE_TICKS_PER_BEAT
    nearest = round(ticks)
    if abs(ticks - nearest) < _SNAP_TOLERANCE:
        return nearest / _FINE_TICKS_PER_BEAT
    return beats
