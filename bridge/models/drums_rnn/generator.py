"""Continue drums: extend a clip's drum groove by a number of bars, in several variations.

The clip is read as Magenta's DrumsRNN generator reads a primer (from the bar of its first
hit to the clip's end), with silence up to the first bar line at or after the clip's end,
where the continuation starts (`Clip.bar_end`, as for every family): a loop whose file ended
a 16th short of the bar still continues on the beat. A hit rounding onto that bar line (a
downbeat played early) is the continuation's to write, not the primer's. Results are new
clips holding only the added bars, from beat 0, on the clip's grid, played on the user's own
kit: each drum class keeps the pitch and mean velocity the clip gave it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from bridge.models.drums_rnn.encoding import DrumEncoder
from bridge.models.drums_rnn.model import DrumsRnn
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.events_rnn.texture import Texture, texture_rule
from bridge.models.generation import (
    Continuation,
    Progress,
    check_counts,
    one_at_a_time,
    refused_as_clip_errors,
)
from bridge.music.clip import Clip
from bridge.music.drums import DrumKit, DrumTrack, extract_drum_track

PITCH_CONSTRAINTS = False
TEXTURE = frozenset({"density", "polyphony"})  # hits per bar, drums hit at once


def read(continuation: Continuation) -> None:
    """Refuse a clip the model cannot read, before any work."""
    extract_drum_track(continuation.clip)


@one_at_a_time
def continue_clips(model: DrumsRnn, c: Continuation, progress: Progress) -> list[Clip]:
    """One continuation's variations, as one batch."""
    return continue_drums(model, c.clip, c.bars, c.variations, c.sampling, progress, c.texture)


def continue_drums(
    model: DrumsRnn,
    clip: Clip,
    bars: int = 2,
    variations: int = 1,
    sampling_options: SamplingOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    texture: Texture | None = None,
) -> list[Clip]:
    """`variations` continuations of the clip's drums, each `bars` bars long, with the
    density and polyphony `texture` asks for, if given.

    `progress(done, total)` is called after each generated step (see extend_batch).
    """
    check_counts(bars=bars, variations=variations)
    spq = model.config.steps_per_quarter
    primer = _to_step(extract_drum_track(clip, spq), round(clip.bar_end * spq))
    kit = DrumKit.from_clip(clip)
    with refused_as_clip_errors():
        rule = texture_rule(texture, DrumEncoder.effects(), primer.steps_per_bar)
        steps = bars * primer.steps_per_bar
        options = sampling_options
        results = model.generate(primer, steps, variations, options, progress, texture=rule)
    length = bars * clip.beats_per_bar
    clips = []
    for result in results:
        added = DrumTrack(result.events[len(primer) :], primer.steps_per_quarter)
        clips.append(
            Clip.from_notes(
                added.to_notes(kit),
                length=length,
                qpm=clip.qpm,
                time_signature=clip.time_signature,
                drums=True,
            )
        )
    return clips


def _to_step(track: DrumTrack, end: int) -> DrumTrack:
    """The track ending at clip step `end`: padded with silent steps, or cut; at least a bar
    long (a clip whose only hits round onto `end` leaves a bar of silence)."""
    start = min(track.start_step, end - track.steps_per_bar)
    kept = track.events[: max(0, end - track.start_step)]
    events = np.zeros(end - start, dtype=track.events.dtype)
    events[track.start_step - start :][: len(kept)] = kept
    return replace(track, events=events, start_step=start)
