"""MelodyRNN's generator: continue a clip's melody by some bars, in several variations.

The whole clip is the primer, silence included, up to the first bar line at or after its end
(`Clip.bar_end`), where the continuation starts, as for every family. Results are new clips
holding only the added bars, from beat 0, at the primer's mean velocity. A note sounding
across the bar line belongs to the result, from beat 0 (a melody holding its last note goes
on with it). Continuations of equally long clips by equally many bars share one batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bridge.models.events_rnn.texture import texture_rule
from bridge.models.generation import (
    Continuation,
    Progress,
    check_counts,
    refused_as_clip_errors,
)
from bridge.models.melody_rnn.encoding import NO_EVENT, MelodyEncoder
from bridge.models.melody_rnn.model import Generation, MelodyRnn
from bridge.music.clip import Clip
from bridge.music.melody import Melody, extract_melody

STEPS_PER_QUARTER = 4
PITCH_CONSTRAINTS = True
TEXTURE = frozenset({"density"})  # one note at a time: polyphony is always 1


def read(continuation: Continuation) -> None:
    """Refuse a clip with no usable melody, or constraints that leave no pitch, now."""
    continuation.allowed_pitches()
    extract_melody(continuation.clip)


def continue_clips(
    model: MelodyRnn, continuations: Sequence[Continuation], progress: Progress
) -> list[list[Clip]]:
    """Continuations of clips that end on the same bar line, by the same bars, as one batch."""
    if len({(primer_steps(c.clip), _new_steps(c)) for c in continuations}) > 1:
        raise ValueError("one batch continues equally long clips by equally many bars")
    generations = []
    for continuation in continuations:
        check_counts(bars=continuation.bars, variations=continuation.variations)
        melody = extract_melody(continuation.clip, STEPS_PER_QUARTER)
        primer = melody.with_length(primer_steps(continuation.clip))
        allowed = continuation.allowed_pitches()
        steps = primer_steps(continuation.clip)
        holding = _held_on(primer.events, allowed) is not None
        texture = texture_rule(
            continuation.texture,
            MelodyEncoder.effects(holding),
            _steps_per_bar(continuation.clip),
            first_step=steps,
        )
        generations.append(
            Generation(primer, continuation.variations, continuation.sampling, allowed, texture)
        )
    with refused_as_clip_errors():
        results = model.generate_batch(generations, _new_steps(continuations[0]), progress)
    return [_clips(c, melodies) for c, melodies in zip(continuations, results, strict=True)]


def primer_steps(clip: Clip) -> int:
    """The primer's steps: to the bar line the continuation starts on."""
    return round(clip.bar_end * STEPS_PER_QUARTER)


def _new_steps(continuation: Continuation) -> int:
    return continuation.bars * _steps_per_bar(continuation.clip)


def _steps_per_bar(clip: Clip) -> int:
    return round(clip.beats_per_bar * STEPS_PER_QUARTER)


def _clips(continuation: Continuation, results: list[Melody]) -> list[Clip]:
    """The new bars of each result as a clip from beat 0, at the primer's mean velocity."""
    clip = continuation.clip
    velocity = round(float(np.mean([n.velocity for n in clip.audible_notes]))) or 100
    length = continuation.bars * clip.beats_per_bar
    clips = []
    steps, allowed = primer_steps(clip), continuation.allowed_pitches()
    for result in results:
        new_events = result.events[steps:].copy()
        held = _held_on(result.events[:steps], allowed)
        if held is not None and new_events[0] == NO_EVENT:
            new_events[0] = held  # the note sounding at the bar line goes on from beat 0
        added = Melody(new_events, STEPS_PER_QUARTER, _steps_per_bar(clip))
        notes = added.to_notes(start_beat=0.0, velocity=velocity)
        clips.append(
            Clip.from_notes(notes, length=length, qpm=clip.qpm, time_signature=clip.time_signature)
        )
    return clips


def _held_on(events: np.ndarray, allowed: set[int] | None) -> int | None:
    """The pitch still sounding after these melody events, if any and allowed: a result that
    starts with no event goes on with it."""
    changes = events[events != NO_EVENT]
    held = int(changes[-1]) if len(changes) and changes[-1] >= 0 else None
    return held if held is not None and (allowed is None or held in allowed) else None
