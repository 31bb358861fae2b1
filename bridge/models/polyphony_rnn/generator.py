"""Continue polyphony: extend a clip's chords, piano or pad part by a number of bars.

The clip is read as Magenta's PolyphonyRNN generator reads a primer (every audible note,
from step 0), up to the first bar line at or after the clip's end (`Clip.bar_end`), where
the continuation starts, as for every family; notes still sounding there are held in the
primer, and the model continues it as Magenta does when conditioned on the primer. Results
are new clips holding the notes that sound in the added bars, from beat 0, on the clip's
tempo and meter, at the mean velocity of the clip's notes (Magenta writes 100): a chord the
model holds across the bar line is in the result, from beat 0. Magenta's decoding lets the
model start one pitch twice on a step; such doubles sound as one note, the longer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

import numpy as np

from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.events_rnn.texture import Texture, texture_rule
from bridge.models.generation import (
    Continuation,
    Progress,
    check_counts,
    one_at_a_time,
    refused_as_clip_errors,
)
from bridge.models.polyphony_rnn.encoding import PolyphonyEncoder
from bridge.models.polyphony_rnn.model import PolyphonyRnn
from bridge.music.clip import Clip, Note
from bridge.music.polyphony import extract_polyphonic_sequence

PITCH_CONSTRAINTS = True  # a key and a pitch range mask every note the model starts or holds
TEXTURE = frozenset({"density", "polyphony"})  # notes started per bar, notes held at once


def read(continuation: Continuation) -> None:
    """Refuse a clip (or a key and range leaving no pitch) the model cannot take."""
    extract_polyphonic_sequence(continuation.clip)
    continuation.allowed_pitches()


@one_at_a_time
def continue_clips(model: PolyphonyRnn, c: Continuation, progress: Progress) -> list[Clip]:
    """One continuation's variations, as one batch."""
    return continue_polyphony(
        model, c.clip, c.bars, c.variations, c.sampling, progress, c.allowed_pitches(), c.texture
    )


def continue_polyphony(
    model: PolyphonyRnn,
    clip: Clip,
    bars: int = 2,
    variations: int = 1,
    sampling_options: SamplingOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    allowed_pitches: Collection[int] | None = None,
    texture: Texture | None = None,
) -> list[Clip]:
    """`variations` continuations of the clip's polyphony, each `bars` bars long, every new
    note at one of `allowed_pitches` if given (a note held from the clip across the bar line
    ends there if its pitch is not among them), with the density and polyphony of `texture`.

    `progress(done, total)` is called after each generated event (see
    PolyphonyRnn.generate_batch).
    """
    check_counts(bars=bars, variations=variations)
    spq = model.config.steps_per_quarter
    primer = extract_polyphonic_sequence(clip, spq, steps=round(clip.bar_end * spq))
    velocity = round(float(np.mean([note.velocity for note in clip.audible_notes])))
    with refused_as_clip_errors():
        results = model.generate(
            primer,
            bars * primer.steps_per_bar,
            variations,
            sampling_options,
            progress,
            allowed_pitches=allowed_pitches,
            texture=texture_rule(
                texture,
                PolyphonyEncoder.effects(),
                primer.steps_per_bar,
                first_step=primer.num_steps,
            ),
        )
    length = bars * clip.beats_per_bar
    return [
        Clip.from_notes(
            _without_doubles(result.to_notes(velocity, first_step=primer.num_steps)),
            length=length,
            qpm=clip.qpm,
            time_signature=clip.time_signature,
        )
        for result in results
    ]


def _without_doubles(notes: Iterable[Note]) -> list[Note]:
    """One note per pitch and start: the longest of those the model started together."""
    longest: dict[tuple[int, float], Note] = {}
    for note in notes:
        kept = longest.get((note.pitch, note.start))
        if kept is None or note.duration > kept.duration:
            longest[note.pitch, note.start] = note
    return list(longest.values())
