"""Harmonize and infill: Coconet's tools over chorales of up to four voices.

- `harmonize`: a melody becomes the top voice of four; every note of it stays as given.
  `key`, `pitch_low` and `pitch_high` keep the new voices in a key and range (by masking
  what the model may sample); the given notes are kept as they are.
- `infill`: a span of a one- to four-voice clip is written again, every note outside it kept.
  The span is given in beats (`start`, `end`) or in bars (`from_bar` to `to_bar`, counted from
  1, both included): a DAW sends its selection or loop region, a composer types bars.

Results come variation by variation. With `voices_apart` (the default) each variation is its
voices from the top down (soprano first), one clip each, so a DAW can give each voice its own
clip or track and a file a track per voice; the number of clips per variation is the result
count divided by the variations. Without it each variation is one clip holding every voice,
for a DAW that writes the span back into the clip it came from. The voices of a clip are read,
and written back, by Coconet's generator (bridge/models/coconet/generator.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bridge.models.generation import Progress
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.tools.params import ParamError
from bridge.tools.pitch_lock import pitch_lock


def harmonize_clip(
    model: Any, melody: Clip, params: Mapping[str, Any], progress: Progress = None
) -> list[Clip]:
    """Four-voice harmonizations of the melody (see the module's docstring for the order)."""
    from bridge.models.coconet.generator import harmonize

    chorales = harmonize(
        model,
        melody,
        params["variations"],
        params["temperature"],
        params["seed"],
        progress,
        gibbs_steps=params["gibbs_steps"],
        allowed_pitches=pitch_lock(params),
    )
    return _delivered(chorales, params["voices_apart"], melody)


def infill_clip(
    model: Any, clip: Clip, params: Mapping[str, Any], progress: Progress = None
) -> list[Clip]:
    """The clip with its span written again, in `variations` ways."""
    from bridge.models.coconet.generator import infill, read_voices

    start, end = span(clip, params)
    chorales = infill(
        model,
        read_voices(clip),
        start,
        end,
        params["variations"],
        params["temperature"],
        params["seed"],
        progress,
        gibbs_steps=params["gibbs_steps"],
        allowed_pitches=pitch_lock(params),
    )
    return _delivered(chorales, params["voices_apart"], clip)


def check_chorale(tool: str, clip: Clip, params: Mapping[str, Any]) -> None:
    """Refuse, before any work, a clip the model cannot read, a span that does not fit or a
    key and range that leave no pitch."""
    from bridge.models.coconet.generator import read_voices

    read_voices(clip)
    if tool == "infill":
        span(clip, params)
    pitch_lock(params)


def span(clip: Clip, params: Mapping[str, Any]) -> tuple[float, float]:
    """The span to write again, in beats: from `start`/`end`, or from bars, checked."""
    beats = (params["start"], params["end"])
    bars = (params["from_bar"], params["to_bar"])
    given = sum(value is not None for value in (*beats, *bars))
    if given != 2 or (None in beats and None in bars):
        raise ParamError(
            "give the span to infill either as start and end (beats) or as from_bar and "
            "to_bar (bars, from 1), each pair complete"
        )
    if None in beats:
        first, last = bars
        if last < first:
            raise ParamError(f"to_bar ({last}) must not be before from_bar ({first})")
        beats = ((first - 1) * clip.beats_per_bar, last * clip.beats_per_bar)
    start, end = beats
    if not 0 <= start < end <= clip.length:
        raise ClipError(
            f"the span {start:g}-{end:g} beats must lie inside the clip (0-{clip.length:g}) "
            "and not be empty"
        )
    return start, end


def _delivered(chorales: Sequence[Sequence[Clip]], apart: bool, like: Clip) -> list[Clip]:
    """Each chorale as its voices, or as one clip holding them all."""
    if apart:
        return [voice for chorale in chorales for voice in chorale]
    return [
        Clip.from_notes(
            [note for voice in chorale for note in voice.notes],
            length=like.length,
            qpm=like.qpm,
            time_signature=like.time_signature,
        )
        for chorale in chorales
    ]
