"""Continue: extend a clip by some bars, in several variations, with any family that continues.

The tool checks what the model can honour and read, then hands the request on: to the
generator its family's row names (bridge/models/<family>/generator.py), which reads the clip
and generates, or, for a model on the magenta backend, to Google's own generator. Every
family continues from the first bar line at or after the clip's end (`Clip.bar_end`), so a
loop whose file ended a 16th short of it still lands on the bar grid; results hold only the
added bars, from beat 0, to be placed at that bar line.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from bridge.models.catalog import ModelSpec
from bridge.models.families import FAMILIES
from bridge.models.generation import Continuation, Generator, Progress
from bridge.music.clip import Clip
from bridge.music.errors import ClipError


def check_continuation(spec: ModelSpec, continuation: Continuation) -> None:
    """Refuse, before any work, what the model cannot honour or read. (The counts and their
    limits are the tool's parameter table's to check, once, as every frontend parses.)"""
    if spec.backend == "magenta":
        asked = (["key and pitch range"] if continuation.constrains_pitches else []) + sorted(
            continuation.texture_controls
        )
        if asked:
            raise ClipError(
                f"{' and '.join(asked)} need a native model; the magenta backend samples freely"
            )
        return
    generator = FAMILIES[spec.family].load_generator()
    if continuation.constrains_pitches and not generator.PITCH_CONSTRAINTS:
        takers = _contents_taking(lambda g: g.PITCH_CONSTRAINTS)
        raise ClipError(
            f"key and pitch range apply to {takers} models, not to a {spec.family} model"
        )
    for control in sorted(continuation.texture_controls - generator.TEXTURE):
        takers = _contents_taking(lambda g, control=control: control in g.TEXTURE)
        raise ClipError(f"{control} applies to {takers} models, not to a {spec.family} model")
    generator.read(continuation)


def _contents_taking(honours: Callable[[Generator], bool]) -> str:
    """What the models whose generator honours a control are made for, in words
    ("melody, chords or drums")."""
    *others, last = sorted(
        family.content_of(None)
        for family in FAMILIES.values()
        if family.generator is not None and honours(family.load_generator())
    )
    return f"{', '.join(others)} or {last}" if others else last


def continue_clips(
    model: Any,
    spec: ModelSpec,
    continuations: Sequence[Continuation],
    progress: Progress = None,
) -> list[list[Clip]]:
    """Continuations with the same batch key, each passed by `check_continuation` (the
    tool's check, before a job is accepted), together: one list of clips each.

    `progress(done, total)` is called after each generated step.
    """
    if len({batch_key(c) for c in continuations}) > 1:
        raise ValueError("only continuations with the same batch_key can run together")
    if spec.backend == "magenta":
        return [
            model.continue_clip(c.clip, c.bars, c.variations, c.sampling, progress)
            for c in continuations
        ]
    return FAMILIES[spec.family].load_generator().continue_clips(model, continuations, progress)


def batch_key(continuation: Continuation) -> Hashable:
    """Continuations with equal keys may share one batch: they start on the same bar line
    of their clips, add as many beats and search alike."""
    clip, sampling = continuation.clip, continuation.sampling
    return (
        clip.bar_end,
        continuation.bars * clip.beats_per_bar,
        sampling.beam_size,
        sampling.branch_factor,
        sampling.steps_per_iteration,
    )
