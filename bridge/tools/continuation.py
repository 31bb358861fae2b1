"""Continue: extend a clip's melody by a number of bars, in several variations.

The whole clip is the primer, silence included, up to the first bar line at or after its end
(`Clip.bar_end`): continuations of every family start on that bar line, so a loop whose file
ended a 16th short of it still lands on the bar grid. Results are new clips holding only the
added bars, starting at beat 0, to be placed at that bar line. A note sounding across it
belongs to the result, from beat 0 (a melody holding its last note goes on with it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bridge.config import Limits
from bridge.models.drums_rnn.model import DrumsRnn
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.magenta_backend.backend import MagentaBackend
from bridge.models.melody_rnn.encoding import NO_EVENT, NOTE_OFF
from bridge.models.melody_rnn.model import Generation, MelodyRnn
from bridge.models.performance_rnn.model import PerformanceRnn
from bridge.models.polyphony_rnn.model import PolyphonyRnn
from bridge.music.clip import Clip
from bridge.music.drums import extract_drum_track
from bridge.music.errors import ClipError
from bridge.music.melody import Melody, extract_melody
from bridge.music.performance import extract_performance
from bridge.music.polyphony import extract_polyphonic_sequence
from bridge.music.scales import Key
from bridge.tools.drum_continuation import continue_drums
from bridge.tools.performance_continuation import continue_performance
from bridge.tools.polyphony_continuation import continue_polyphony

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
    quantize: bool = False  # performance models: snap results to the clip's 16th grid

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
    model: MelodyRnn | MagentaBackend,
    request: ContinueRequest,
    limits: Limits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Clip]:
    """Generate `request.variations` continuations of the clip's melody.

    `progress(done, total)` is called after each generated step (see extend_batch).
    """
    return continue_clips(model, [request], limits, progress)[0]


def batch_key(request: ContinueRequest) -> tuple:
    """Requests with equal keys can be continued together in one batch of rows."""
    sampling = request.sampling
    return (
        _primer_steps(request.clip),
        request.bars * _steps_per_bar(request.clip),
        sampling.beam_size,
        sampling.branch_factor,
        sampling.steps_per_iteration,
    )


def continue_clips(
    model: MelodyRnn | MagentaBackend,
    requests: Sequence[ContinueRequest],
    limits: Limits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[Clip]]:
    """Several requests with the same batch key, as one batch: one list of clips each."""
    if len({batch_key(request) for request in requests}) > 1:
        raise ValueError("only requests with the same batch_key can be continued together")
    if isinstance(model, MagentaBackend):
        return [_continue_with_magenta(model, request, limits, progress) for request in requests]
    one_at_a_time = _continuer(model)
    if one_at_a_time is not None:
        results = []
        for request in requests:
            check_request(_family(model), request, limits)
            results.append(one_at_a_time(request, progress))
        return results
    generations = []
    for request in requests:
        request.check(limits or Limits())
        melody = extract_melody(request.clip, STEPS_PER_QUARTER)
        primer = _fit_length(melody, _primer_steps(request.clip))
        generations.append(
            Generation(primer, request.variations, request.sampling, allowed_pitches(request))
        )
    new_steps = batch_key(requests[0])[1]
    try:
        results = model.generate_batch(generations, new_steps, progress)
    except ValueError as error:
        raise ClipError(str(error)) from error
    return [_clips(request, melodies) for request, melodies in zip(requests, results, strict=True)]


def _continue_with_magenta(
    model: MagentaBackend,
    request: ContinueRequest,
    limits: Limits | None,
    progress: Callable[[int, int], None] | None,
) -> list[Clip]:
    """A request served by magenta's own generator, which takes no key or range constraint."""
    request.check(limits or Limits())
    if request.key is not None or request.pitch_range is not None:
        raise ClipError("key and pitch range need a native model; the magenta backend has neither")
    return model.continue_clip(
        request.clip, request.bars, request.variations, request.sampling, progress
    )


Progress = Callable[[int, int], None] | None


def _continuer(model: object) -> Callable[[ContinueRequest, Progress], list[Clip]] | None:
    """How a non-melody family continues one request (they batch variations, not requests)."""
    if isinstance(model, DrumsRnn):
        return lambda r, p: continue_drums(model, r.clip, r.bars, r.variations, r.sampling, p)
    if isinstance(model, PolyphonyRnn):
        return lambda r, p: continue_polyphony(model, r.clip, r.bars, r.variations, r.sampling, p)
    if isinstance(model, PerformanceRnn):
        return lambda r, p: continue_performance(
            model, r.clip, r.bars, r.variations, r.sampling, r.quantize, progress=p
        )
    return None


def _family(model: object) -> str:
    return {DrumsRnn: "drums_rnn", PolyphonyRnn: "polyphony_rnn"}.get(
        type(model), "performance_rnn"
    )


def check_request(family: str, request: ContinueRequest, limits: Limits | None = None) -> None:
    """Refuse, before any work, what the family's model cannot honour or read."""
    request.check(limits or Limits())
    if family == "melody_rnn":
        allowed_pitches(request)
        extract_melody(request.clip)  # a clip with no usable melody is refused now
        return
    if request.key is not None or request.pitch_range is not None:
        raise ClipError(f"key and pitch range apply to melody models, not to a {family} model")
    readers = {
        "drums_rnn": extract_drum_track,
        "polyphony_rnn": extract_polyphonic_sequence,
        "performance_rnn": extract_performance,
    }
    if family in readers:
        readers[family](request.clip)


def _clips(request: ContinueRequest, results: list[Melody]) -> list[Clip]:
    """The new bars of each result as a clip from beat 0, at the primer's mean velocity."""
    clip = request.clip
    velocity = round(float(np.mean([n.velocity for n in clip.audible_notes]))) or 100
    length = request.bars * clip.beats_per_bar
    clips = []
    steps, allowed = _primer_steps(clip), allowed_pitches(request)
    for result in results:
        new_events = result.events[steps:].copy()
        held = _sounding(result.events[:steps])
        if held is not None and new_events[0] == NO_EVENT and (allowed is None or held in allowed):
            new_events[0] = held  # the note sounding at the bar line goes on from beat 0
        continuation = Melody(new_events, STEPS_PER_QUARTER, _steps_per_bar(clip))
        notes = continuation.to_notes(start_beat=0.0, velocity=velocity)
        clips.append(
            Clip.from_notes(notes, length=length, qpm=clip.qpm, time_signature=clip.time_signature)
        )
    return clips


def _sounding(events: np.ndarray) -> int | None:
    """The pitch still sounding after these melody events, if any."""
    changes = events[events != NO_EVENT]
    return int(changes[-1]) if len(changes) and changes[-1] >= 0 else None


def _primer_steps(clip: Clip) -> int:
    """The primer's steps: to the bar line the continuation starts on."""
    return round(clip.bar_end * STEPS_PER_QUARTER)


def _steps_per_bar(clip: Clip) -> int:
    return round(clip.beats_per_bar * STEPS_PER_QUARTER)


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
