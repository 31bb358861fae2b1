"""Continue a performance: extend a clip's expressive polyphony by bars or seconds.

The clip is read as Magenta's PerformanceRNN generator reads a primer (on a clock of 10 ms
steps), as if it lasted to the first bar line at or after its end (`Clip.bar_end`), where the
continuation starts, as for every family; it is continued for the requested time, counted as
that generator counts it: its generate section starts one step after the bar line when that
falls on a step. Magenta's primer ends every note before its generate section, so no note can
sound across it: results hold the notes that start in the added time, from beat 0, with the
model's timing (or snapped to the clip's 16th grid with `quantize`) and, for
`performance_with_dynamics`, its velocities (others play at velocity 100, as Magenta's do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Literal

from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.events_rnn.texture import Texture, texture_rule
from bridge.models.generation import (
    Continuation,
    Progress,
    check_counts,
    one_at_a_time,
    refused_as_clip_errors,
)
from bridge.models.performance_rnn.model import PerformanceRnn
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.music.performance import (
    STEPS_PER_SECOND,
    continuation_clip,
    extract_performance,
    generation_steps,
    performance_primer,
)
from bridge.music.quantize import STEPS_PER_QUARTER
from bridge.music.timing import beats_to_seconds, seconds_to_beats

Unit = Literal["bars", "seconds"]
MAX_SECONDS = 600.0  # ten minutes of new music is far past what a DAW user asks for

PITCH_CONSTRAINTS = True  # a key and a pitch range mask every note the model starts
TEXTURE = frozenset({"density"})  # notes sounding together are held across time shifts


def read(continuation: Continuation) -> None:
    """Refuse a clip (or a key and range leaving no pitch) the model cannot take."""
    extract_performance(continuation.clip)
    continuation.allowed_pitches()


@one_at_a_time
def continue_clips(model: PerformanceRnn, c: Continuation, progress: Progress) -> list[Clip]:
    """One continuation's variations, as one batch."""
    return continue_performance(
        model,
        c.clip,
        c.bars,
        c.variations,
        c.sampling,
        c.quantize,
        progress=progress,
        allowed_pitches=c.allowed_pitches(),
        texture=c.texture,
    )


def continue_performance(
    model: PerformanceRnn,
    clip: Clip,
    amount: float = 2,
    variations: int = 1,
    sampling_options: SamplingOptions | None = None,
    quantize: bool = False,
    *,
    unit: Unit = "bars",
    progress: Callable[[int, int], None] | None = None,
    allowed_pitches: Collection[int] | None = None,
    texture: Texture | None = None,
) -> list[Clip]:
    """`variations` continuations of the clip, each `amount` bars (or seconds) long, every
    new note at one of `allowed_pitches` if given, `texture`'s notes per bar if given (on the
    clip's bars, one note per 16th at most when a bar catches up on its target).

    A result lasts `amount` whole bars of the clip's meter, or `amount` seconds at its
    tempo. `progress(done, total)` is called after each generated event (see extend_batch).
    """
    check_counts(variations=variations)
    length, seconds = _length(clip, amount, unit)
    clip = replace(clip, length=clip.bar_end)
    primer = performance_primer(clip, model.config.num_velocity_bins)
    start, end = generation_steps(clip, seconds)
    bar_steps = beats_to_seconds(clip.beats_per_bar, clip.qpm) * STEPS_PER_SECOND
    sixteenths = clip.beats_per_bar * STEPS_PER_QUARTER
    if end <= start:
        raise ClipError(f"{seconds:g} s is shorter than one 10 ms step after the clip's end")
    with refused_as_clip_errors():
        results = model.generate(
            primer,
            end - start,
            variations,
            sampling_options,
            progress,
            allowed_pitches=allowed_pitches,
            texture=texture_rule(
                texture, model.encoder.effects(), bar_steps, note_spacing=bar_steps / sixteenths
            ),
        )
    return [continuation_clip(result, clip, start, length, quantize=quantize) for result in results]


def _length(clip: Clip, amount: float, unit: Unit) -> tuple[float, float]:
    """The continuation's length in beats and in seconds, checked."""
    if unit == "bars":
        check_counts(bars=amount)
        length = amount * clip.beats_per_bar
        seconds = beats_to_seconds(length, clip.qpm)
    elif unit == "seconds":
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ClipError(f"seconds must be a number, got {amount!r}")
        if not (math.isfinite(amount) and amount > 0):
            raise ClipError(f"seconds must be above 0, got {amount}")
        seconds = float(amount)
        length = seconds_to_beats(seconds, clip.qpm)
    else:
        raise ClipError(f"unit must be 'bars' or 'seconds', got {unit!r}")
    if seconds > MAX_SECONDS:
        raise ClipError(
            f"{amount} {unit} last {seconds:g} s at {clip.qpm:g} qpm; at most "
            f"{MAX_SECONDS:g} s can be generated at once"
        )
    return length, seconds
