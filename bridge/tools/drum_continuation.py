"""Continue drums: extend a clip's drum groove by a number of bars, in several variations.

The clip is read as Magenta's DrumsRNN generator reads a primer (from the bar of its first
hit to the clip's end), so the continuation starts exactly at the clip's end. Results are
new clips holding only the added bars, from beat 0, on the clip's grid, played on the
user's own kit: each drum class keeps the pitch and mean velocity the clip gave it.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.models.drums_rnn.model import DrumsRnn
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.music.clip import Clip
from bridge.music.drums import DrumKit, DrumTrack, extract_drum_track
from bridge.music.errors import ClipError
from bridge.tools.counts import check_counts


def continue_drums(
    model: DrumsRnn,
    clip: Clip,
    bars: int = 2,
    variations: int = 1,
    sampling_options: SamplingOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Clip]:
    """`variations` continuations of the clip's drums, each `bars` bars long.

    `progress(done, total)` is called after each generated step (see extend_batch).
    """
    check_counts(bars=bars, variations=variations)
    primer = extract_drum_track(clip, model.config.steps_per_quarter)
    kit = DrumKit.from_clip(clip)
    try:
        results = model.generate(
            primer, bars * primer.steps_per_bar, variations, sampling_options, progress
        )
    except ValueError as error:
        raise ClipError(str(error)) from error
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
