"""Clips <-> MusicVAE tensors, as Magenta's data converters define them, in chunks of the
model's span: a clip longer than the span is cut at bar lines and the decoded chunks are
joined again, as Magenta Studio does.

- Melodies (OneHotMelodyConverter): one class per 16th, 0 no event, 1 note off, 2-89 the
  pitches 21-108; input and output are the same one-hot. The highest note wins where notes
  overlap, as Magenta's generators read a melody; pitches outside the piano are left out.
- Drums (DrumsConverter with `roll_input`): the output is the one-hot of the step's set of
  Magenta's nine drum classes (512 classes, the index DrumsRNN uses), the input those nine
  hits as bits plus a bit for "no hit". Results keep the clip's kit (bridge.music.drums).
- Grooves (GrooveConverter): hits, velocities and offsets per drum class, in groove_data.py.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bridge.models.music_vae.chunks import Chunks
from bridge.models.music_vae.config import MusicVaeConfig
from bridge.models.music_vae.groove_data import groove_chunks, groove_clip
from bridge.music.clip import Clip, Note
from bridge.music.drums import NUM_DRUM_CLASSES, DrumKit, DrumTrack, extract_drum_track
from bridge.music.errors import ClipError
from bridge.music.melody import NO_EVENT, NOTE_OFF, Melody, extract_melody
from bridge.music.quantize import STEPS_PER_QUARTER, quantize

MIN_PITCH, MAX_PITCH = 21, 108  # the piano, Magenta's melody range for MusicVAE
FIRST_PITCH_CLASS = 2


def clip_to_chunks(clip: Clip, config: MusicVaeConfig) -> Chunks:
    """The clip from its start, padded with silence to whole spans, cut into spans."""
    if config.data == "groove":
        return groove_chunks(clip, config)
    steps_per_bar = _steps_per_bar(clip, config)
    if config.data == "melody":
        classes = _melody_classes(clip)
        kit = None
    elif config.data == "drums":
        track = extract_drum_track(clip, STEPS_PER_QUARTER)
        classes = np.concatenate([np.zeros(track.start_step, np.int64), track.events])
        kit = DrumKit.from_clip(clip)
    else:
        raise ClipError(f"{config.name}: {config.data} data is not supported by this tool yet")
    # The clip's steps: a last note rounding onto its end is kept, as note_seq keeps it.
    span, steps = config.max_seq_len, quantize(clip).end_step
    total = -(-steps // span) * span  # the clip's length in whole spans
    classes = np.pad(classes[:steps], (0, total - min(steps, len(classes))))  # 0: silence
    if config.data == "melody" and steps < total:
        _end_held_note(classes, steps)
    chunks = classes.reshape(-1, span)
    outputs = np.eye(config.output_depth, dtype=np.float32)[chunks]
    inputs = drum_rolls(chunks) if config.data == "drums" else outputs
    return Chunks(inputs, outputs, steps_per_bar, kit)


def chunks_to_clip(
    outputs: np.ndarray, config: MusicVaeConfig, like: Clip, kit: DrumKit | None = None
) -> Clip:
    """Decoded chunks `[chunks, steps, depth]`, joined, as a clip on `like`'s grid."""
    if config.data == "groove":
        return groove_clip(outputs, like, kit)
    classes = outputs.argmax(axis=-1).reshape(-1)
    length = len(classes) / STEPS_PER_QUARTER
    if config.data == "melody":
        events = np.where(classes >= FIRST_PITCH_CLASS, classes - FIRST_PITCH_CLASS + MIN_PITCH, 0)
        events = np.where(classes == 1, NOTE_OFF, np.where(classes == 0, NO_EVENT, events))
        melody = Melody(events, STEPS_PER_QUARTER, 4 * STEPS_PER_QUARTER)
        notes: list[Note] = melody.to_notes(velocity=_velocity(like))
        drums = False
    else:
        notes = DrumTrack(classes, STEPS_PER_QUARTER).to_notes(kit or DrumKit())
        drums = True
    return Clip.from_notes(notes, length, like.qpm, like.time_signature, drums)


def _melody_classes(clip: Clip) -> np.ndarray:
    in_range = [n for n in clip.audible_notes if MIN_PITCH <= n.pitch <= MAX_PITCH]
    if not in_range:
        raise ClipError(f"clip has no notes within the piano range {MIN_PITCH}-{MAX_PITCH}")
    return melody_event_classes(extract_melody(replace(clip, notes=tuple(in_range))).events)


def _end_held_note(classes: np.ndarray, end: int) -> None:
    """A note still sounding at the clip's end stops there, not in the padding after it."""
    events = np.flatnonzero(classes[:end])
    if len(events) and classes[events[-1]] >= FIRST_PITCH_CLASS:
        classes[end] = 1  # note off


def melody_event_classes(events: np.ndarray) -> np.ndarray:
    """Melody events (-2 no event, -1 note off, else a pitch in 21-108) as the one-hot's classes."""
    return np.where(events >= 0, events - MIN_PITCH + FIRST_PITCH_CLASS, events + 2)


def drum_rolls(chunks: np.ndarray) -> np.ndarray:
    """Nine hit bits per step (bit c of the class) and a tenth set on steps with no hit."""
    bits = (chunks[..., None] >> np.arange(NUM_DRUM_CLASSES)) & 1
    return np.concatenate([bits, (chunks == 0)[..., None]], axis=-1).astype(np.float32)


def _steps_per_bar(clip: Clip, config: MusicVaeConfig) -> int:
    """MusicVAE's converters take bars of 16 steps only (4/4, or 2/2); refuse others clearly."""
    numerator, denominator = clip.time_signature
    if numerator != denominator:  # a bar of four quarter notes
        raise ClipError(
            f"{config.name} reads bars of four quarter notes only (4/4 or 2/2, as Magenta's "
            f"converters do); this clip is in {numerator}/{denominator}"
        )
    return 16


def _velocity(clip: Clip) -> int:
    notes = clip.audible_notes
    return round(sum(n.velocity for n in notes) / len(notes)) if notes else 100
