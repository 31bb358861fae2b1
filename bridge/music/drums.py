"""Drum tracks as Magenta's drum models see them: on each step, the set of drum classes hit.

note_seq folds every General MIDI drum into nine classes (DEFAULT_DRUM_TYPE_PITCHES). A step
is stored as a 9-bit number, bit c set when class c is hit: exactly the index of note_seq's
MultiDrumOneHotEncoding, so a track is ready for the network as it is. Pitches outside the map
are ignored, as note_seq's encoder ignores them. Going back to notes, each class plays the pitch
the user's clip already used for it, so results keep the user's kit; classes the clip never
played fall back to Magenta's own choice, the first pitch of the class.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.events import frozen_events
from bridge.music.quantize import STEPS_PER_QUARTER, quantize

# note_seq.drums_encoder_decoder.DEFAULT_DRUM_TYPE_PITCHES, in its order: the first pitch of
# each class is the one Magenta writes when it decodes.
DRUM_CLASS_PITCHES: tuple[tuple[int, ...], ...] = (
    (36, 35),
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),
    (46, 67, 72, 74, 79, 81, 26),
    (45, 29, 41, 43, 61, 64, 84),
    (48, 47, 60, 63, 77, 86, 87),
    (50, 30, 62, 76, 83),
    (49, 52, 55, 57, 58),
    (51, 53, 59, 82),
)
DRUM_CLASS_NAMES = (
    "kick",
    "snare",
    "closed hi-hat",
    "open hi-hat",
    "low tom",
    "mid tom",
    "high tom",
    "crash",
    "ride",
)
NUM_DRUM_CLASSES = len(DRUM_CLASS_PITCHES)
NUM_DRUM_EVENTS = 2**NUM_DRUM_CLASSES  # every subset of the classes, the empty step included
DEFAULT_VELOCITY = 100
_CLASS_OF = {pitch: c for c, pitches in enumerate(DRUM_CLASS_PITCHES) for pitch in pitches}


def drum_class(pitch: int) -> int | None:
    """The class Magenta files a drum pitch under, or None for a pitch it ignores."""
    return _CLASS_OF.get(pitch)


def encode_hits(pitches: Iterable[int]) -> int:
    """The step value for pitches struck together (note_seq's encode_event)."""
    event = 0
    for pitch in pitches:
        drum = _CLASS_OF.get(pitch)
        if drum is not None:
            event |= 1 << drum
    return event


def event_classes(event: int) -> tuple[int, ...]:
    """The classes a step value hits, lowest first."""
    return _CLASSES_OF_EVENT[event]


_CLASSES_OF_EVENT = tuple(
    tuple(c for c in range(NUM_DRUM_CLASSES) if event >> c & 1) for event in range(NUM_DRUM_EVENTS)
)


@dataclass(frozen=True)
class DrumKit:
    """Which pitch plays each class, and how hard, when a track becomes notes again."""

    pitches: tuple[int, ...] = tuple(p[0] for p in DRUM_CLASS_PITCHES)
    velocities: tuple[int, ...] = (DEFAULT_VELOCITY,) * NUM_DRUM_CLASSES

    @classmethod
    def from_clip(cls, clip: Clip) -> DrumKit:
        """The clip's own kit: per class its most played pitch (earliest on a tie) and the
        mean velocity of that class; Magenta's pitch and velocity 100 where the clip is silent.
        """
        pitches, velocities = list(cls.pitches), list(cls.velocities)
        counts: dict[int, Counter[int]] = {}
        heard: dict[int, list[int]] = {}
        for note in clip.audible_notes:
            drum = _CLASS_OF.get(note.pitch)
            if drum is not None:
                counts.setdefault(drum, Counter())[note.pitch] += 1
                heard.setdefault(drum, []).append(note.velocity)
        for drum, counter in counts.items():
            pitches[drum] = counter.most_common(1)[0][0]  # Counter keeps first-seen order
            velocities[drum] = round(sum(heard[drum]) / len(heard[drum]))
        return cls(tuple(pitches), tuple(velocities))

    def notes(self, event: int, start: float, duration: float) -> list[Note]:
        """The notes of one step, lowest class first."""
        return [
            Note(self.pitches[c], start, duration, self.velocities[c]) for c in event_classes(event)
        ]


@dataclass(frozen=True, eq=False)
class DrumTrack:
    """Step values (read-only ints, one per step), the grid, and where in the clip they start.

    `start_step` is a bar line: Magenta starts a drum track at the bar of its first hit.
    """

    events: np.ndarray
    steps_per_quarter: int = STEPS_PER_QUARTER
    steps_per_bar: int = 4 * STEPS_PER_QUARTER
    start_step: int = 0

    def __post_init__(self) -> None:
        events = frozen_events(self.events, 0, NUM_DRUM_EVENTS - 1, "drum")
        object.__setattr__(self, "events", events)

    def __len__(self) -> int:
        return len(self.events)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DrumTrack)
            and np.array_equal(self.events, other.events)
            and (self.steps_per_quarter, self.steps_per_bar, self.start_step)
            == (other.steps_per_quarter, other.steps_per_bar, other.start_step)
        )

    def to_notes(self, kit: DrumKit | None = None, start_beat: float = 0.0) -> list[Note]:
        """Notes with event 0 at `start_beat`, one step long each, as note_seq writes drums."""
        kit = kit or DrumKit()
        step = 1 / self.steps_per_quarter
        return [
            note
            for index, event in enumerate(self.events.tolist())
            for note in kit.notes(event, start_beat + index * step, step)
        ]


def extract_drum_track(clip: Clip, steps_per_quarter: int = STEPS_PER_QUARTER) -> DrumTrack:
    """The clip's drums as Magenta's DrumsRNN generator reads a primer.

    As note_seq's DrumTrack.from_quantized_sequence with no gap limit: onsets quantized to
    the grid, simultaneous hits merged into one step, the track starting at the bar of the
    first hit and running to the clip's end. Hits from the clip's end on are left out, but a
    hit before it that rounds onto it is kept, the track running a step past the clip's
    length for it, as note_seq keeps it.
    """
    quantized = quantize(clip, steps_per_quarter, is_drum=True)
    end = quantized.end_step
    steps: dict[int, set[int]] = {}
    for note in quantized.notes:
        if note.start_step < end:
            steps.setdefault(note.start_step, set()).add(note.pitch)
    if not steps:
        raise ClipError("clip has no drum hits: it has no audible notes within its length")
    if not any(encode_hits(pitches) for pitches in steps.values()):
        unknown = sorted({p for pitches in steps.values() for p in pitches})
        raise ClipError(
            f"clip has no drum hits Magenta knows: pitches {', '.join(map(str, unknown[:8]))} "
            f"are not General MIDI drums (Magenta's drum map covers {min(_CLASS_OF)}-"
            f"{max(_CLASS_OF)})"
        )
    spb = quantized.steps_per_bar
    origin = min(steps) - min(steps) % spb
    events = np.zeros(end - origin, dtype=np.int64)
    for step, pitches in steps.items():
        events[step - origin] = encode_hits(pitches)
    return DrumTrack(events, steps_per_quarter, spb, origin)
