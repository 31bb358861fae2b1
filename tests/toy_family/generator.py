"""The looper family's generator: every new bar repeats the clip's last bar, transposed."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.models.generation import Continuation, Progress
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from toy_family.model import Looper

PITCH_CONSTRAINTS = False
TEXTURE: frozenset[str] = frozenset()


def read(continuation: Continuation) -> None:
    if not last_bar(continuation.clip):
        raise ClipError("a looper needs notes in the clip's last bar")


def continue_clips(
    model: Looper, continuations: Sequence[Continuation], progress: Progress
) -> list[list[Clip]]:
    return [[loop(model, c)] * c.variations for c in continuations]


def loop(model: Looper, continuation: Continuation) -> Clip:
    clip, bar = continuation.clip, continuation.clip.beats_per_bar
    notes = [
        Note(
            note.pitch + model.transpose,
            start + index * bar,
            min(note.duration, bar - start),
            note.velocity,
        )
        for index in range(continuation.bars)
        for note, start in last_bar(clip)
    ]
    return Clip.from_notes(notes, length=continuation.bars * bar, qpm=clip.qpm)


def last_bar(clip: Clip) -> list[tuple[Note, float]]:
    """The audible notes starting in the clip's last bar, with their start in that bar."""
    start = clip.bar_end - clip.beats_per_bar
    return [(note, note.start - start) for note in clip.audible_notes if note.start >= start]
