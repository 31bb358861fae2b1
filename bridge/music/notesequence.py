"""Clip <-> note_seq.NoteSequence, the representation Magenta's models and pipelines consume.

Muted notes are left out of the NoteSequence: they are the user's parked ideas, and a model must
not hear them. Callers that send results back merge them in from the original clip if they want.
`total_time` carries the clip length (Live's loop length, which notes may run past).
note_seq is imported inside the functions: importing it takes seconds, the rest of the package not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from bridge.music.clip import DEFAULT_QPM, DEFAULT_TIME_SIGNATURE, Clip, Note
from bridge.music.errors import ClipError
from bridge.music.timing import beats_to_seconds, seconds_to_beats, snap_beats

if TYPE_CHECKING:
    from note_seq.protobuf.music_pb2 import NoteSequence

T = TypeVar("T")


def clip_to_note_sequence(clip: Clip, *, is_drum: bool = False) -> NoteSequence:
    """The clip's audible notes as an unquantized NoteSequence (drum models want is_drum=True)."""
    from note_seq import constants
    from note_seq.protobuf import music_pb2

    sequence = music_pb2.NoteSequence(ticks_per_quarter=constants.STANDARD_PPQ)
    sequence.tempos.add(time=0.0, qpm=clip.qpm)
    numerator, denominator = clip.time_signature
    sequence.time_signatures.add(time=0.0, numerator=numerator, denominator=denominator)
    for note in clip.audible_notes:
        sequence.notes.add(
            pitch=note.pitch,
            velocity=note.velocity,
            start_time=beats_to_seconds(note.start, clip.qpm),
            end_time=beats_to_seconds(note.end, clip.qpm),
            is_drum=is_drum,
        )
    sequence.total_time = beats_to_seconds(clip.length, clip.qpm)
    return sequence


def note_sequence_to_clip(sequence: NoteSequence, length: float | None = None) -> Clip:
    """A clip from a NoteSequence with one tempo and one time signature.

    The length is `length` beats if given, else `total_time`, else the notes rounded up to a bar.
    """
    qpm = _only("tempo", [tempo.qpm for tempo in sequence.tempos], DEFAULT_QPM)
    time_signature = _only(
        "time signature",
        [(ts.numerator, ts.denominator) for ts in sequence.time_signatures],
        DEFAULT_TIME_SIGNATURE,
    )
    notes = []
    for note in sequence.notes:
        start = seconds_to_beats(note.start_time, qpm)
        end = seconds_to_beats(note.end_time, qpm)
        notes.append(Note(note.pitch, start, snap_beats(end - start), note.velocity))
    if length is None and sequence.total_time > 0:
        length = seconds_to_beats(sequence.total_time, qpm)
    try:
        return Clip.from_notes(notes, length, qpm, time_signature)
    except ClipError as error:
        raise ClipError(f"NoteSequence: {error}") from None


def _only(what: str, values: list[T], default: T) -> T:
    """The single value a clip can hold; a change mid-sequence has no place in a clip."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        raise ClipError(
            f"NoteSequence changes {what} ({distinct[0]} then {distinct[1]}); a clip has one"
        )
    return distinct[0] if distinct else default
