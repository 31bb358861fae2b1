"""Drum MIDI files as a step sequencer writes them: hits on channel 10, the file ending at
the last note-off unless an end of track says later. Shared by the tests of the rounding
of a clip's last hit and of its length."""

from __future__ import annotations

import io

import mido


def sequencer_drums(
    hits: list[tuple[int, float]],
    hit_beats: float,
    velocity: int = 100,
    end_of_track: float | None = None,
) -> bytes:
    """A format 1 file of (pitch, start beat) hits, each `hit_beats` long, at 480 ticks."""
    events = sorted(
        [(round(start * 480), 1, pitch) for pitch, start in hits]
        + [(round((start + hit_beats) * 480), 0, pitch) for pitch, start in hits]
    )
    track, tick = mido.MidiTrack(), 0
    for at, is_on, pitch in events:
        kind = "note_on" if is_on else "note_off"
        track.append(mido.Message(kind, channel=9, note=pitch, velocity=velocity, time=at - tick))
        tick = at
    if end_of_track is not None:
        track.append(mido.MetaMessage("end_of_track", time=round(end_of_track * 480) - tick))
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()
