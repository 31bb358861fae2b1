"""MIDI files -> events by the reference's reading rules, so a file gives exactly the tokens
the released models were trained on.

The file plays as mido plays it (every track merged, tempo changes followed, seconds summed
message by message); a note's onset and length are those seconds at 10 ms, rounded. A
channel plays the program last set on it (0 before any), channel 10 plays drums; a note-off
ends the oldest sounding note of its instrument, pitch and channel; a note never ended
lasts vocab.UNKNOWN_DURATION, one longer than the vocabulary's longest is cut to it.
Velocity is not modelled. Events come in the order their notes start in playback.
"""

from __future__ import annotations

import io
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import mido

from bridge.models.transformer.events import Event
from bridge.models.transformer.vocab import (
    DRUMS,
    MAX_DURATION,
    TIME_RESOLUTION,
    UNKNOWN_DURATION,
    note_index,
)
from bridge.music.errors import ClipError

DRUM_CHANNEL = 9  # channel 10 as musicians count


@dataclass(frozen=True)
class MidiEvents:
    """A file's events, and how many notes were cut to the longest duration."""

    events: list[Event]
    truncated: int


def read_midi_events(source: str | Path | bytes) -> MidiEvents:
    """The events of a MIDI file (a path or its bytes); ClipError names a file that cannot
    be read."""
    name = "MIDI data" if isinstance(source, bytes) else f"MIDI file '{source}'"
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        midi = mido.MidiFile(file=io.BytesIO(data))
        messages = list(midi)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as error:
        raise ClipError(f"{name} cannot be read as MIDI: {error}") from None
    if midi.ticks_per_beat <= 0:
        raise ClipError(f"{name} does not count time in beats")

    onsets: list[tuple[int, int]] = []  # (ticks, note index), in order of starting
    durations: list[int | None] = []
    sounding: dict[tuple[int, int, int], deque[tuple[int, float]]] = defaultdict(deque)
    programs = [0] * 16
    seconds = 0.0
    for message in messages:
        seconds += message.time
        if message.type == "program_change":
            programs[message.channel] = message.program
        if message.type not in ("note_on", "note_off"):
            continue
        instrument = DRUMS if message.channel == DRUM_CHANNEL else programs[message.channel]
        key = (instrument, message.note, message.channel)
        if message.type == "note_on" and message.velocity > 0:
            sounding[key].append((len(onsets), seconds))
            onsets.append((round(TIME_RESOLUTION * seconds), note_index(*key[:2])))
            durations.append(None)
        elif sounding[key]:
            index, started = sounding[key].popleft()
            durations[index] = round(TIME_RESOLUTION * (seconds - started))

    truncated = sum(1 for ticks in durations if ticks is not None and ticks >= MAX_DURATION)
    events = [
        Event(time, UNKNOWN_DURATION if ticks is None else min(ticks, MAX_DURATION - 1), note)
        for (time, note), ticks in zip(onsets, durations, strict=True)
    ]
    return MidiEvents(events, truncated)
