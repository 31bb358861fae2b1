"""Note and Clip: the one musical value every layer passes around, in beats as Live counts them.

A Clip is checked once, on construction, so code below the frontends never meets a pitch of 130
or a NaN start; everything that can be wrong raises ClipError naming the note and the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Real

from bridge.music.errors import ClipError

MAX_NOTES = 10_000
# The longest clip and note: far past any DAW clip (25,000 bars of 4/4), yet every time still
# fits a MIDI file's ticks and every step count an array, so an absurd value is refused here
# rather than overflowing somewhere below.
MAX_BEATS = 100_000.0
DEFAULT_QPM = 120.0
DEFAULT_TIME_SIGNATURE = (4, 4)
# AbletonOSC's order for one note on the wire.
FLAT_FIELDS = ("pitch", "start", "duration", "velocity", "mute")
MAX_NUMERATOR = 99  # Live's limit
DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)  # MIDI can only say powers of two


@dataclass(frozen=True, slots=True)
class Note:
    """One note; start and duration in beats (quarter notes) from the clip start."""

    pitch: int
    start: float
    duration: float
    velocity: int = 100
    mute: bool = False

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Clip:
    """A validated, immutable MIDI clip; notes sorted by start, then pitch (then the rest).

    Notes start by `length`, the clip's loop length (one starting past it is a mistake), and
    may ring past it, as they can in Live. A note starting right at the end is the next
    loop's; the models leave it out.
    `drums` marks a percussion part (MIDI channel 10, a Drum Rack): its pitches name drums.
    """

    notes: tuple[Note, ...]
    length: float
    qpm: float = DEFAULT_QPM
    time_signature: tuple[int, int] = DEFAULT_TIME_SIGNATURE
    drums: bool = False

    def __post_init__(self) -> None:
        length = _beats(self.length, "clip length")
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "notes", _checked_notes(self.notes, length))
        object.__setattr__(self, "qpm", _positive(self.qpm, "qpm"))
        object.__setattr__(self, "time_signature", _checked_time_signature(self.time_signature))
        object.__setattr__(self, "drums", _flag(self.drums, "drums"))

    @classmethod
    def from_notes(
        cls,
        notes: Iterable[Note],
        length: float | None = None,
        qpm: float = DEFAULT_QPM,
        time_signature: tuple[int, int] = DEFAULT_TIME_SIGNATURE,
        drums: bool = False,
    ) -> Clip:
        """A clip whose length, when not given, is the last note's end rounded up to a bar."""
        if length is None:
            notes = _checked_notes(notes, None)
            numerator, denominator = _checked_time_signature(time_signature)
            length = _whole_bars_length(_end(notes), numerator * 4 / denominator)
        return cls(tuple(notes), length, qpm, time_signature, drums)

    @classmethod
    def from_flat(
        cls,
        values: Sequence[float],
        length: float | None = None,
        qpm: float = DEFAULT_QPM,
        time_signature: tuple[int, int] = DEFAULT_TIME_SIGNATURE,
        drums: bool = False,
    ) -> Clip:
        """A clip from flat 5-tuples as AbletonOSC sends them; whole floats like 60.0 are fine."""
        values = list(values)
        if len(values) % len(FLAT_FIELDS):
            raise ClipError(
                f"flat note list has {len(values)} values; expected a multiple of "
                f"{len(FLAT_FIELDS)} ({', '.join(FLAT_FIELDS)})"
            )
        _check_count(len(values) // len(FLAT_FIELDS))
        width = len(FLAT_FIELDS)
        notes = [Note(*values[i : i + width]) for i in range(0, len(values), width)]
        return cls.from_notes(notes, length, qpm, time_signature, drums)

    def to_flat(self) -> list[float]:
        """Flat 5-tuples in AbletonOSC's order; pitch, velocity and mute (0/1) stay ints."""
        flat: list[float] = []
        for note in self.notes:
            flat += [note.pitch, note.start, note.duration, note.velocity, int(note.mute)]
        return flat

    @property
    def beats_per_bar(self) -> float:
        numerator, denominator = self.time_signature
        return numerator * 4 / denominator

    @property
    def bar_end(self) -> float:
        """The first bar line at or after the clip's end: where a continuation starts, so that
        it keeps the clip's place in the bar whatever the clip's length."""
        return _whole_bars_length(self.length, self.beats_per_bar)

    @property
    def end(self) -> float:
        """Where the last note ends, in beats; 0.0 for a clip without notes."""
        return _end(self.notes)

    @property
    def audible_notes(self) -> tuple[Note, ...]:
        """The notes a model may hear: muted notes are the user's, not the music's."""
        return tuple(note for note in self.notes if not note.mute)


def _whole_bars_length(end: float, beats_per_bar: float) -> float:
    """`end` rounded up to whole bars, at least one bar, forgiving float noise at a barline."""
    bars = max(1, math.ceil(end / beats_per_bar - 1e-9))
    return bars * beats_per_bar


def _end(notes: Iterable[Note]) -> float:
    return max((note.start + note.duration for note in notes), default=0.0)


def _check_count(count: int) -> None:
    if count > MAX_NOTES:
        raise ClipError(f"clip has {count} notes; at most {MAX_NOTES} are allowed")


def _checked_notes(notes: Iterable[Note], length: float | None) -> tuple[Note, ...]:
    """The notes checked, each starting by `length` (None: by MAX_BEATS), sorted."""
    notes = tuple(notes)
    _check_count(len(notes))
    checked = [_checked_note(note, index, length) for index, note in enumerate(notes)]
    # (start, pitch) first; the other fields only make equal clips compare equal.
    checked.sort(key=lambda n: (n.start, n.pitch, n.duration, n.velocity, n.mute))
    return tuple(checked)


def _checked_note(note: Note, index: int, length: float | None) -> Note:
    if _is_canonical(note, MAX_BEATS if length is None else length):
        return note  # what the models make: no conversion, no message to format
    if not isinstance(note, Note):
        raise ClipError(f"note {index} is a {type(note).__name__}, not a Note")
    where = f"note {index}"
    start = _number(note.start, f"{where}: start")
    if start < 0:
        raise ClipError(f"{where}: start {start:g} is negative")
    if length is None and start > MAX_BEATS:
        raise ClipError(f"{where}: start {start:g} is past {MAX_BEATS:g} beats, the longest clip")
    if length is not None and start > length:
        raise ClipError(f"{where}: start {start:g} is past the clip's end at beat {length:g}")
    return Note(
        pitch=_whole(note.pitch, f"{where}: pitch", 0, 127),
        start=start,
        duration=_beats(note.duration, f"{where}: duration"),
        velocity=_whole(note.velocity, f"{where}: velocity", 1, 127),
        mute=_flag(note.mute, f"{where}: mute"),
    )


def _is_canonical(note: object, start_limit: float) -> bool:
    """A Note whose fields already have their exact types and lie in range (NaN fails)."""
    return (
        type(note) is Note
        and type(note.pitch) is int
        and 0 <= note.pitch <= 127
        and type(note.start) is float
        and 0.0 <= note.start <= start_limit
        and type(note.duration) is float
        and 0.0 < note.duration <= MAX_BEATS
        and type(note.velocity) is int
        and 1 <= note.velocity <= 127
        and type(note.mute) is bool
    )


def _checked_time_signature(time_signature: tuple[int, int]) -> tuple[int, int]:
    try:
        numerator, denominator = time_signature
    except (TypeError, ValueError):
        raise ClipError(
            f"time signature {time_signature!r} is not a (numerator, denominator) pair"
        ) from None
    numerator = _whole(numerator, "time signature numerator", 1, MAX_NUMERATOR)
    denominator = _whole(denominator, "time signature denominator", 1, DENOMINATORS[-1])
    if denominator not in DENOMINATORS:
        raise ClipError(
            f"time signature {numerator}/{denominator}: the denominator must be one of "
            f"{', '.join(map(str, DENOMINATORS))}"
        )
    return numerator, denominator


def _number(value: object, what: str) -> float:
    if type(value) not in (int, float) and (isinstance(value, bool) or not isinstance(value, Real)):
        raise ClipError(f"{what} {value!r} is not a number")
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ClipError(f"{what} {number} is not a finite number")
    return number


def _positive(value: object, what: str) -> float:
    number = _number(value, what)
    if number <= 0:
        raise ClipError(f"{what} {number:g} is not positive")
    return number


def _beats(value: object, what: str) -> float:
    """A positive time in beats, at most MAX_BEATS."""
    number = _positive(value, what)
    if number > MAX_BEATS:
        raise ClipError(f"{what} {number:g} is longer than {MAX_BEATS:g} beats, the longest clip")
    return number


def _whole(value: object, what: str, low: int, high: int) -> int:
    number = _number(value, what)
    if not number.is_integer():
        raise ClipError(f"{what} {number:g} is not a whole number")
    if not low <= number <= high:
        raise ClipError(f"{what} {number:g} is outside {low}-{high}")
    return int(number)


def _flag(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    number = _number(value, what)
    if number not in (0, 1):
        raise ClipError(f"{what} {number:g} is not 0 or 1")
    return bool(number)
