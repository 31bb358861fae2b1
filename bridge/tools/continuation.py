"""Continue: extend a clip's melody by a number of bars, in several variations.

The whole clip is the primer, silence included, so the continuation starts exactly at the
clip's end and keeps its place in the bar. Results are new clips holding only the added
bars, starting at beat 0, ready to be placed right after the source clip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bridge.config import Limits
from bridge.models.melody_rnn.encoding import NO_EVENT, NOTE_OFF
from bridge.models.melody_rnn.model import MelodyRnn
from bridge.models.melody_rnn.sampling import SamplingOptions
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.music.melody import Melody, extract_melody
from bridge.music.scales import Key

STEPS_PER_QUARTER = 4


@dataclass(frozen=True)
class ContinueRequest:
    """What a producer asks for when pressing Continue."""

    clip: Clip
    bars: int = 4
    variations: int = 1
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    key: Key | None = None
    pitch_range: tuple[int, int] | None = None

    def check(self, limits: Limits) -> None:
        """Reject requests beyond the configured limits with a message naming the limit."""
        if not 1 <= self.bars <= limits.max_bars:
            raise ClipError(f"bars must be between 1 and {limits.max_bars}, got {self.bars}")
        if not 1 <= self.variations <= limits.max_variations:
            raise ClipError(
                f"variations must be between 1 and {limits.max_variations}, got {self.variations}"
            )
        if self.sampling.beam_size > limits.max_beam_size:
            raise ClipError(f"beam size must be at most {limits.max_beam_size}")
        if len(self.clip.notes) > limits.max_notes:
            raise ClipError(
                f"clip has {len(self.clip.notes)} notes; the limit is {limits.max_notes}"
            )
        if self.pitch_range is not None:
            low, high = self.pitch_range
            if not 0 <= low <= high <= 127:
                raise ClipError(f"pitch range {low}-{high} must lie within 0-127, low to high")


def continue_clip(
    model: MelodyRnn,
    request: ContinueRequest,
    limits: Limits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Clip]:
    """Generate `request.variations` continuations of the clip's melody.

    `progress(done, total)` is called after each generated step (see extend_melodies).
    """
    request.check(limits or Limits())
    clip = request.clip
    melody = extract_melody(clip, STEPS_PER_QUARTER)
    primer_steps = max(1, round(clip.length * STEPS_PER_QUARTER))
    primer = _fit_length(melody, primer_steps)
    steps_per_bar = round(clip.beats_per_bar * STEPS_PER_QUARTER)
    new_steps = request.bars * steps_per_bar
    try:
        results = model.generate(
            primer,
            new_steps,
            request.variations,
            request.sampling,
            allowed_pitches(request),
            progress,
        )
    except ValueError as error:
        raise ClipError(str(error)) from error
    velocity = round(float(np.mean([n.velocity for n in clip.audible_notes]))) or 100
    length = request.bars * clip.beats_per_bar
    clips = []
    for result in results:
        continuation = Melody(result.events[primer_steps:], STEPS_PER_QUARTER, steps_per_bar)
        notes = continuation.to_notes(start_beat=0.0, velocity=velocity)
        clips.append(
            Clip.from_notes(notes, length=length, qpm=clip.qpm, time_signature=clip.time_signature)
        )
    return clips


def _fit_length(melody: Melody, steps: int) -> Melody:
    """Pad with silence or cut to `steps`, ending a held note as Magenta's set_length does."""
    events = melody.events[:steps]
    if len(events) < steps:
        pad = np.full(steps - len(events), NO_EVENT, dtype=events.dtype)
        last = events[events != NO_EVENT]
        if len(last) and last[-1] != NOTE_OFF:
            pad[0] = NOTE_OFF
        events = np.concatenate([events, pad])
    return Melody(events, melody.steps_per_quarter, melody.steps_per_bar)


def allowed_pitches(request: ContinueRequest) -> set[int] | None:
    """The pitches the key and range leave, or None when neither is set."""
    if request.key is None and request.pitch_range is None:
        return None
    low, high = request.pitch_range or (0, 127)
    classes = request.key.pitch_classes if request.key else frozenset(range(12))
    allowed = {p for p in range(low, high + 1) if p % 12 in classes}
    if not allowed:
        raise ClipError(f"key and pitch range {low}-{high} leave no pitch to play")
    return allowed
