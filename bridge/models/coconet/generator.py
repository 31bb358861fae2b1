"""Clips <-> Coconet's four voices: read a clip's voices, harmonize a melody, infill a span.

A Clip has no voices, so a chorale travels as a tuple of voice clips, soprano first (as
Magenta's coconet_sample reads a primer MIDI file: one instrument per voice, top down).
Coconet works on the 16th grid (Magenta's 4 steps per quarter, quantized as note_seq does);
every voice plays one pitch at a time, and a voice's roll cannot tell a held note from a
repeated one, so generated notes join equal neighbouring 16ths (lib_pianoroll's
`merge_held`). The model always sounds a pitch where it fills a voice: results have no rests
where they were generated, and are never empty.

What the user gave is never changed: harmonize returns the melody clip itself, infill keeps
every note outside the span as it was (off-grid notes too; the model hears them on the
grid). Muted notes are the user's, not the music's: the model does not hear them, and infill
keeps them where they are. Inputs outside the model's pitch range (36-81 for every released
Coconet) are moved by whole octaves for the model and the generated notes moved back, a
documented reduction that keeps every interval; a clip that spans more than that range is
refused.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Collection, Sequence
from dataclasses import replace

import numpy as np

from bridge.models.coconet.config import JSB_MAX_PITCH, JSB_MIN_PITCH, JSB_VOICES, CoconetConfig
from bridge.models.coconet.model import Coconet
from bridge.models.coconet.pianoroll import decode, encode, held_notes
from bridge.models.coconet.sampling import Progress
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.quantize import STEPS_PER_QUARTER, QuantizedNote, quantize

VOICE_NAMES = ("soprano", "alto", "tenor", "bass")
SOPRANO_RANGE = (60, 81)  # where the chorales' soprano sings: a melody is placed there
DEFAULT_VELOCITY = 100  # what lib_pianoroll writes
_EPSILON = 1e-6  # beats: float noise in spans and note ends

Placed = tuple[Note, QuantizedNote]  # a clip's note and where it lies on the step grid


def read_voices(clip: Clip) -> tuple[Clip, ...]:
    """Split a clip of one to four voices into voice clips, top voice first.

    The number of voices is the most notes that sound together on the 16th grid (notes that
    overlap by less than half a 16th do not count as together). At each onset the new notes
    go, highest first, to voices that are free, keeping the voices in pitch order with
    the notes still held where possible and each voice close to its previous pitch
    (Magenta's coconet_sample instead takes one MIDI instrument per voice, which a clip
    does not have). Notes keep their exact start, duration and velocity; muted notes are
    left out. ClipError for no notes, more than four voices, a pitch span wider than the
    model's range (36-81), a time signature off the 16th grid, or notes closer than a 16th
    that would fall on one step.
    """
    placed = _placed(clip)
    if not placed:
        raise ClipError("the clip has no notes to split into voices")
    _check_span([note.pitch for note, _ in placed], JSB_MIN_PITCH, JSB_MAX_PITCH)
    count = _voice_count(placed)
    voices: list[list[Note]] = [[] for _ in range(count)]
    for (note, _), voice in zip(placed, _assign_voices(placed, count), strict=True):
        voices[voice].append(note)
    return tuple(replace(clip, notes=tuple(notes)) for notes in voices)


def voice_pitches(voices: Sequence[Clip], length: float) -> np.ndarray:
    """[16th step, voice] MIDI pitches (NaN: rest) of voice clips over `length` beats, as
    the model reads them: what chorale statistics are measured on."""
    steps = _steps(length)
    columns = [
        _column(_placed(voice), steps, name)
        for voice, name in zip(voices, VOICE_NAMES[: len(voices)], strict=True)
    ]
    return np.column_stack(columns)


def harmonize(
    model: Coconet,
    melody: Clip,
    variations: int,
    temperature: float,
    seed: int | None,
    progress: Progress | None = None,
    *,
    gibbs_steps: int | None = None,
    allowed_pitches: Collection[int] | None = None,
) -> list[tuple[Clip, Clip, Clip, Clip]]:
    """Three voices (alto, tenor, bass) under a melody, `variations` times in one batch.

    The melody is the soprano and comes back as the very clip given. It must play one note
    at a time (a later note cuts a held one short for the model). It is moved by octaves to
    where a chorale soprano sings (60-81) if it lies elsewhere; the other voices are moved
    back. Generated notes play at the melody's median velocity. `gibbs_steps` (keyword):
    the Gibbs steps after the first fill, by default coconet_sample's 16ths x 4 voices;
    fewer are faster (each is one pass of the network) and rougher. `allowed_pitches`
    (keyword; a key's notes within a range): the only pitches the new voices may sing.
    """
    _check_variations(variations)
    config = _four_voices(model.config)
    placed = _placed(melody)
    if not placed:
        raise ClipError("the melody has no notes to harmonize")
    steps = _steps(melody.length)
    soprano = _column(placed, steps, "the melody")
    if np.isnan(soprano).all():
        raise ClipError("the melody has no notes before its end to harmonize")
    shift = _soprano_shift(soprano, config)
    columns = [soprano + shift] + [_silent(steps)] * (config.num_instruments - 1)
    rolls = _rolls(columns, config, variations)
    results = model.harmonize(
        rolls,
        temperature=temperature,
        seed=seed,
        steps=gibbs_steps,
        progress=progress,
        allowed=_allowed(allowed_pitches, shift, config),
    )
    pitches = decode(results, config.min_pitch)
    velocity = _velocity([note for note, _ in placed])
    harmonies = []
    for row in pitches:
        alto, tenor, bass = (
            _generated(melody, [], row[:, voice], np.ones(steps, bool), shift, velocity)
            for voice in (1, 2, 3)
        )
        harmonies.append((melody, alto, tenor, bass))
    return harmonies


def infill(
    model: Coconet,
    voices: Sequence[Clip],
    start: float,
    end: float,
    variations: int,
    temperature: float,
    seed: int | None,
    progress: Progress | None = None,
    *,
    gibbs_steps: int | None = None,
    allowed_pitches: Collection[int] | None = None,
) -> list[tuple[Clip, ...]]:
    """Regenerate the beats [start, end) of every voice, `variations` times in one batch.

    `voices` are one to four voice clips, top voice first (read_voices makes them), sharing
    a tempo and time signature; each result has as many voices as given, every one the
    longest input's length. Fewer than four: the given voices are the top ones (as
    coconet_sample fills instruments) and the model also writes the missing lower voices,
    over the whole clip, to hear a full texture; they are not returned. A note lying wholly
    in the span is regenerated; every other note is kept exactly, and a kept note that rings
    into the span is heard there (that voice is filled only where nothing sounds). The span
    is widened to whole 16ths. ClipError for a span outside the clip or a span that kept
    notes cover completely. `gibbs_steps` and `allowed_pitches` as for harmonize (the
    missing lower voices sing them too).
    """
    _check_variations(variations)
    config = _four_voices(model.config)
    voices = _checked_voices(voices, config)
    length = max(voice.length for voice in voices)
    steps = _steps(length)
    first, last = _span_steps(start, end, length)
    in_span = np.zeros(steps, bool)
    in_span[first:last] = True
    columns, free, kept = [], [], []
    for index, voice in enumerate(voices):
        heard = [p for p in _placed(voice) if not _inside(p[0], start, end)]
        columns.append(_column(heard, steps, f"voice {index + 1} ({VOICE_NAMES[index]})"))
        free.append(in_span & np.isnan(columns[-1]))
        kept.append([n for n in voice.notes if n.mute or not _inside(n, start, end)])
    if not any(steps_free.any() for steps_free in free):
        raise ClipError(
            f"nothing to regenerate in beats {start:g}-{end:g}: notes that also sound "
            "outside the span fill it in every voice"
        )
    shift = _fit_shift(np.array([n.pitch for n in _all_notes(voices)], float), config)
    missing = config.num_instruments - len(voices)
    columns = [column + shift for column in columns] + [_silent(steps)] * missing
    masks = np.stack(free + [np.ones(steps, bool)] * missing, axis=1)
    masks = np.broadcast_to(masks[None, :, None, :], model.shape(variations, steps))
    results = model.sample(
        _rolls(columns, config, variations),
        masks.astype(np.float32),
        temperature,
        seed,
        gibbs_steps,
        progress,
        allowed=_allowed(allowed_pitches, shift, config),
    )
    fallback = _velocity(_all_notes(voices))
    velocities = [_velocity(v.audible_notes) if v.audible_notes else fallback for v in voices]
    return [
        tuple(
            _generated(
                replace(voice, length=length), kept[i], row[:, i], free[i], shift, velocities[i]
            )
            for i, voice in enumerate(voices)
        )
        for row in decode(results, config.min_pitch)
    ]


# --------------------------------------------------------------------------
# Reading clips
# --------------------------------------------------------------------------


def _placed(clip: Clip) -> list[Placed]:
    """The audible notes with their grid steps (ClipError for a meter off the 16th grid or
    a drum clip, whose pitches name drums)."""
    if clip.drums:
        raise ClipError("this is a drum clip; Coconet writes pitched voices")
    quantized = quantize(clip, STEPS_PER_QUARTER)
    return list(zip(clip.audible_notes, quantized.notes, strict=True))


def _steps(length: float) -> int:
    """Roll steps of a clip: its length in 16ths, rounded up."""
    return max(1, math.ceil(length * STEPS_PER_QUARTER - _EPSILON))


def _beat(step: int) -> float:
    return step / STEPS_PER_QUARTER


def _check_span(pitches: list[int], low: int, high: int) -> None:
    lowest, highest = min(pitches), max(pitches)
    if highest - lowest > high - low:
        raise ClipError(
            f"pitches {lowest}-{highest} span {highest - lowest} semitones; Coconet's voices "
            f"sing {low}-{high} ({high - low} semitones), even moved by octaves"
        )


def _check_onsets(group: list[Placed], what: str) -> None:
    """Notes sharing a grid onset must have overlapped in the clip (a chord), else the grid
    is too fine for the model."""
    ordered = sorted(group, key=lambda p: p[0].start)
    for (before, _), (after, _) in itertools.pairwise(ordered):
        if before.end <= after.start + _EPSILON:
            raise ClipError(
                f"{what}: the notes at beats {before.start:g} and {after.start:g} fall on one "
                "16th; Coconet's grid is the 16th note"
            )


def _onset_groups(placed: list[Placed], what: str) -> list[list[int]]:
    """Indices of notes sharing a grid onset, in time order, highest pitch first."""
    order = sorted(range(len(placed)), key=lambda i: (placed[i][1].start_step, -placed[i][0].pitch))
    groups = [
        list(group) for _, group in itertools.groupby(order, key=lambda i: placed[i][1].start_step)
    ]
    for group in groups:
        _check_onsets([placed[i] for i in group], what)
    return groups


def _voice_count(placed: list[Placed]) -> int:
    """The most notes sounding together on the grid; ClipError past four."""
    changes: dict[int, int] = {}
    for _, grid in placed:
        changes[grid.start_step] = changes.get(grid.start_step, 0) + 1
        changes[grid.end_step] = changes.get(grid.end_step, 0) - 1
    count, most, where = 0, 0, 0
    for step in sorted(changes):
        count += changes[step]
        if count > most:
            most, where = count, step
    if most > JSB_VOICES:
        raise ClipError(
            f"{most} notes sound together at beat {_beat(where):g}; Coconet writes at most "
            f"{JSB_VOICES} voices (soprano, alto, tenor, bass)"
        )
    return most


def _assign_voices(placed: list[Placed], count: int) -> list[int]:
    """A voice for every note (see read_voices)."""
    centres = [72, 64, 57, 48] if count == 4 else list(np.linspace(72, 48, count))
    last_pitch = [float(c) for c in centres]
    held_until = [0] * count
    voice_of = [0] * len(placed)
    for group in _onset_groups(placed, "the clip"):
        step = placed[group[0]][1].start_step
        held = {v: last_pitch[v] for v in range(count) if held_until[v] > step}
        free = [v for v in range(count) if v not in held]
        pitches = [placed[i][0].pitch for i in group]

        def badness(choice: tuple[int, ...], held=held, pitches=pitches) -> tuple[int, float]:
            crossings = sum(
                (other < voice and held[other] < pitch) or (other > voice and held[other] > pitch)
                for voice, pitch in zip(choice, pitches, strict=True)
                for other in held
            )
            leaps = sum(abs(p - last_pitch[v]) for v, p in zip(choice, pitches, strict=True))
            return crossings, leaps

        choice = min(itertools.combinations(free, len(group)), key=badness)
        for voice, index in zip(choice, group, strict=True):
            voice_of[index] = voice
            held_until[voice] = placed[index][1].end_step
            last_pitch[voice] = placed[index][0].pitch
    return voice_of


def _column(placed: list[Placed], steps: int, what: str) -> np.ndarray:
    """One voice's pitch per step (NaN: rest); a later note cuts a held one short.
    ClipError for two notes starting on one step."""
    column = _silent(steps)
    groups = _onset_groups(placed, what)
    for group in groups:
        if len(group) > 1:
            note = placed[group[0]][0]
            raise ClipError(
                f"{what} has {len(group)} notes starting at beat {note.start:g}; a voice plays "
                "one note at a time (read_voices splits a clip into voices)"
            )
    starts = [placed[g[0]][1].start_step for g in groups] + [steps]
    for group, cut in zip(groups, starts[1:], strict=True):
        note, grid = placed[group[0]]
        column[grid.start_step : min(grid.end_step, cut, steps)] = note.pitch
    return column


def _silent(steps: int) -> np.ndarray:
    return np.full(steps, np.nan)


def _inside(note: Note, start: float, end: float) -> bool:
    return note.start >= start - _EPSILON and note.end <= end + _EPSILON


def _all_notes(voices: Sequence[Clip]) -> tuple[Note, ...]:
    return tuple(note for voice in voices for note in voice.audible_notes)


def _checked_voices(voices: Sequence[Clip], config: CoconetConfig) -> tuple[Clip, ...]:
    voices = tuple(voices)
    if not 1 <= len(voices) <= config.num_instruments:
        raise ClipError(f"infill takes 1 to {config.num_instruments} voices, not {len(voices)}")
    if len({(voice.qpm, voice.time_signature) for voice in voices}) > 1:
        raise ClipError("the voices must share one tempo and one time signature")
    if not _all_notes(voices):
        raise ClipError("the voices have no notes: nothing to infill around")
    return voices


def _span_steps(start: float, end: float, length: float) -> tuple[int, int]:
    """The span in whole steps (widened to the grid); ClipError if it is not in the clip."""
    for value in (start, end):
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ClipError(f"span bound {value!r} is not a number of beats")
    if not (-_EPSILON <= start < end <= length + _EPSILON):
        raise ClipError(
            f"span beats {start:g}-{end:g} is not inside the clip (beats 0-{length:g}, start "
            "before end)"
        )
    first = math.floor(start * STEPS_PER_QUARTER + _EPSILON)
    last = math.ceil(end * STEPS_PER_QUARTER - _EPSILON)
    return max(0, first), min(_steps(length), last)


# --------------------------------------------------------------------------
# Rolls and results
# --------------------------------------------------------------------------


def _four_voices(config: CoconetConfig) -> CoconetConfig:
    if config.num_instruments != JSB_VOICES:
        raise ClipError(
            f"this Coconet writes {config.num_instruments} voices; the clip tools need "
            f"{JSB_VOICES} (soprano, alto, tenor, bass)"
        )
    return config


def _check_variations(variations: int) -> None:
    if isinstance(variations, bool) or not isinstance(variations, int) or variations < 1:
        raise ValueError(f"variations must be a whole number from 1, not {variations!r}")


def _allowed(
    pitches: Collection[int] | None, shift: int, config: CoconetConfig
) -> np.ndarray | None:
    """The allowed MIDI pitches as a mask over the model's, after the clip's octave move;
    ClipError when none of them is in the model's range there."""
    if pitches is None:
        return None
    model_pitches = np.arange(config.min_pitch, config.max_pitch + 1)
    allowed = np.isin(model_pitches - shift, list(pitches))
    if not allowed.any():
        raise ClipError(
            f"none of the allowed pitches lies where Coconet sings ({config.min_pitch}-"
            f"{config.max_pitch}, moved by {-shift:+d} semitones for this clip)"
        )
    return allowed


def _rolls(columns: list[np.ndarray], config: CoconetConfig, batch: int) -> np.ndarray:
    roll = encode(np.stack(columns, axis=1), config.min_pitch, config.max_pitch)
    return np.repeat(roll[None], batch, axis=0)


def _shifts() -> list[int]:
    """Octave moves, nearest first."""
    return [0] + [sign * 12 * k for k in range(1, 11) for sign in (1, -1)]


def _fit_shift(pitches: np.ndarray, config: CoconetConfig) -> int:
    """The nearest octave move that puts every pitch in the model's range."""
    pitches = pitches[~np.isnan(pitches)]
    if pitches.size == 0:
        return 0
    low, high = int(pitches.min()), int(pitches.max())
    _check_span([low, high], config.min_pitch, config.max_pitch)
    for shift in _shifts():
        if config.min_pitch <= low + shift and high + shift <= config.max_pitch:
            return shift
    raise AssertionError("a span within the range always fits")  # pragma: no cover


def _soprano_shift(column: np.ndarray, config: CoconetConfig) -> int:
    """The octave move that fits the melody in the model's range and puts it where a
    chorale soprano sings, or as near as it gets (no move when it already is)."""
    pitches = column[~np.isnan(column)]
    _fit_shift(pitches, config)
    low, high = SOPRANO_RANGE

    def outside(shift: int) -> float:
        moved = pitches + shift
        return float(np.maximum(low - moved, 0).sum() + np.maximum(moved - high, 0).sum())

    fitting = [
        shift
        for shift in _shifts()
        if config.min_pitch <= pitches.min() + shift and pitches.max() + shift <= config.max_pitch
    ]
    return min(fitting, key=lambda shift: (outside(shift), abs(shift)))


def _velocity(notes: Sequence[Note]) -> int:
    if not notes:
        return DEFAULT_VELOCITY
    return round(statistics.median(note.velocity for note in notes))


def _generated(
    clip: Clip,
    kept: Sequence[Note],
    pitches: np.ndarray,
    steps: np.ndarray,
    shift: int,
    velocity: int,
) -> Clip:
    """A voice clip: the kept notes and the model's notes on `steps`, moved back by
    `shift` (and by octaves into MIDI's 0-127 if that leaves it)."""
    notes = list(kept)
    for held in held_notes(pitches, steps):
        pitch = held.pitch - shift
        while pitch < 0:
            pitch += 12
        while pitch > 127:
            pitch -= 12
        duration = _beat(held.end - held.start)
        notes.append(Note(pitch, _beat(held.start), duration, velocity))
    return replace(clip, notes=tuple(notes))
