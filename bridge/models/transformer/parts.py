"""The bridge's clips and parts <-> events: beats at the clip's tempo become 10 ms ticks.

A part is one General MIDI instrument (bridge.music.midi.MidiPart: a program, or a drum clip
on channel 10); its audible notes become events of that instrument, merged in time order
(parts in their order, then pitch, among notes starting together: how the bridge writes a
file of parts, so reading it by midi_events' rules gives the same order). Seconds round to
the nearest tick, halves to even as Python rounds; the reference sums mido's per-message
seconds, whose rounding error can put a note lying exactly on a half tick one tick away.

Back, each instrument becomes a part; the model has no velocity, so notes take one, and no
zero-length note, so one lasts at least a tick; a note still sounding when its instrument
plays its pitch again ends there, as one MIDI channel must have it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.models.transformer.events import Event
from bridge.models.transformer.vocab import (
    DRUMS,
    MAX_DURATION,
    MAX_TRACK_INSTRUMENTS,
    TIME_RESOLUTION,
    note_index,
)
from bridge.music.clip import DEFAULT_QPM, Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import MidiPart

DEFAULT_VELOCITY = 72  # what the reference writes: the model has no velocity
SECONDS_PER_MINUTE = 60.0


def instrument_of_part(part: MidiPart) -> int:
    """The vocabulary's instrument for a part: its program, or DRUMS for a drum clip."""
    if part.clip.drums:
        return DRUMS
    program = part.program
    if isinstance(program, bool) or not isinstance(program, int) or not 0 <= program <= 127:
        raise ClipError(
            f"part {part.name or '(unnamed)'!r}: program {program!r} is not a General MIDI "
            "program (0-127); the model's instruments are those and drums"
        )
    return program


def parts_to_events(parts: Sequence[MidiPart]) -> list[Event]:
    """The audible notes of parts that play together (one tempo: the first part's) as
    events in time order. ClipError for parts the vocabulary cannot hold."""
    if not parts:
        return []
    qpm = parts[0].clip.qpm
    instruments = [instrument_of_part(part) for part in parts]
    if len(set(instruments)) > MAX_TRACK_INSTRUMENTS:
        raise ClipError(
            f"{len(set(instruments))} instruments; the model plays at most "
            f"{MAX_TRACK_INSTRUMENTS} at once (MIDI's channels)"
        )
    keyed = []
    for order, (part, instrument) in enumerate(zip(parts, instruments, strict=True)):
        if part.clip.qpm != qpm:
            raise ClipError(
                f"part {part.name or order + 1!r} plays at {part.clip.qpm:g} qpm, the first "
                f"at {qpm:g}; parts given together share one tempo"
            )
        for note in part.clip.audible_notes:
            time = ticks(note.start, qpm)
            keyed.append(
                (
                    time,
                    order,
                    note.pitch,
                    Event(
                        time, duration_ticks(note.duration, qpm), note_index(instrument, note.pitch)
                    ),
                )
            )
    keyed.sort(key=lambda item: item[:3])
    return [event for *_, event in keyed]


def clip_to_events(clip: Clip, program: int = 0) -> list[Event]:
    """One clip as events of one instrument (drums for a drum clip, else `program`)."""
    return parts_to_events([MidiPart(clip, program)])


def events_to_parts(
    events: Sequence[Event],
    qpm: float = DEFAULT_QPM,
    length: float | None = None,
    velocity: int = DEFAULT_VELOCITY,
) -> list[MidiPart]:
    """Events (rests skipped; controls too are notes) as one part per instrument, in the
    order instruments first play, at `qpm`; `length` in beats (None: whole bars past the
    last note)."""
    notes: dict[int, list[Note]] = {}
    for event in _untangled([event for event in events if not event.is_rest]):
        note = Note(event.pitch, beats(event.time, qpm), beats(event.duration, qpm), velocity)
        notes.setdefault(event.instrument, []).append(note)
    if not notes:
        return []
    if length is None:
        length = Clip.from_notes([n for part in notes.values() for n in part], qpm=qpm).length
    return [
        MidiPart(
            Clip(tuple(part), length, qpm, drums=instrument == DRUMS),
            0 if instrument == DRUMS else instrument,
        )
        for instrument, part in notes.items()
    ]


def _untangled(events: Sequence[Event]) -> list[Event]:
    """Events a MIDI part can hold, in their order: of notes struck together on one pitch
    the longest, each at least a tick long and ending where its instrument plays its pitch
    again (a note-off cannot say which of two sounding notes of one pitch it ends)."""
    longest: dict[tuple[int, int], int] = {}
    for index, event in enumerate(events):
        key = (event.time, event.note)
        if key not in longest or event.duration > events[longest[key]].duration:
            longest[key] = index
    kept = sorted(longest.values())
    ends = {index: events[index].time + max(events[index].duration, 1) for index in kept}
    following: dict[int, int] = {}  # note -> time it is next struck
    for index in sorted(kept, key=lambda i: events[i].time, reverse=True):
        event = events[index]
        if event.note in following:
            ends[index] = min(ends[index], following[event.note])
        following[event.note] = event.time
    return [events[i]._replace(duration=ends[i] - events[i].time) for i in kept]


def span_ticks(clip: Clip, start: float, end: float) -> tuple[int, int]:
    """A span of the clip in beats (say, the DAW's selection to fill) as [start, end) ticks;
    ClipError when it is empty or reaches outside the clip."""
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ClipError(f"span {name} {value!r} is not a number of beats")
    if start < 0 or end > clip.length:
        raise ClipError(
            f"span {start:g}-{end:g} beats lies outside the clip (0-{clip.length:g} beats)"
        )
    if end <= start:
        raise ClipError(f"span {start:g}-{end:g} beats is empty")
    return ticks(start, clip.qpm), ticks(end, clip.qpm)


def ticks(beats_: float, qpm: float) -> int:
    """A time in beats at `qpm` as whole ticks."""
    return round(TIME_RESOLUTION * beats_ * SECONDS_PER_MINUTE / qpm)


def duration_ticks(beats_: float, qpm: float) -> int:
    """A note length in ticks, cut to the vocabulary's longest as the reference cuts it."""
    return min(ticks(beats_, qpm), MAX_DURATION - 1)


def beats(ticks_: int, qpm: float) -> float:
    """Ticks as beats at `qpm`."""
    return ticks_ * qpm / (SECONDS_PER_MINUTE * TIME_RESOLUTION)
