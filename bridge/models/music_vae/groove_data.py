"""Drum clips <-> GrooVAE tensors, as Magenta's GrooveConverter defines them for the groovae
configs, in the infer mode TrainedModel sets.

A step is a 16th; for each of note_seq's nine drum classes (bridge.music.drums) it holds a hit
(0 or 1), the hit's velocity (/127) and its offset from the grid: (grid time - onset) in steps,
doubled to [-1, 1], so a hit played early is positive. Offsets are taken in beats, so the tempo
does not matter (magenta goes through seconds, and decodes at 120 qpm). Of several notes of a
class on one step the loudest counts (the first of equally loud ones). A config's input is
either that groove ("full"), its hits alone ("humanize": the model supplies velocities and
timing), or taps ("tap": each step's loudest hit moved onto the open hi-hat, velocity zeroed
with `fixed_velocities`).

In infer mode magenta files pitches by note_seq's classes (REDUCED_DRUM_PITCH_CLASSES), though
the models were trained on Roland's: that is why decoded toms are 45 and 48. Where magenta's
converter departs from what a DAW user expects, this one departs too, deliberately:
- pitches outside the map (23-25, below 22, above 87) are dropped where magenta raises KeyError;
  a clip left with no hit is refused with a ClipError;
- tap inputs read every note, in the map or not, so any rhythm can be drumified (a pitch outside
  the map loses ties to the nine classes, so drum clips read exactly as in magenta);
- the clip is read from beat 0 to its length, padded with silence to whole spans and cut at their
  bar lines (magenta reads to its last note and drops an incomplete last window);
- results keep the clip's kit (bridge.music.drums.DrumKit), tempo and meter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.models.music_vae.chunks import Chunks
from bridge.models.music_vae.config import MusicVaeConfig
from bridge.music.clip import Clip, Note
from bridge.music.content import guess_content
from bridge.music.drums import NUM_DRUM_CLASSES, DrumKit, drum_class
from bridge.music.errors import ClipError
from bridge.music.quantize import STEPS_PER_QUARTER, quantize

TAP_DRUM = 3  # GrooveConverter(tapify): every step's loudest hit goes to the open hi-hat
MAX_VELOCITY = 127
_OTHER = NUM_DRUM_CLASSES  # the column of pitches outside the map (tap inputs only)


@dataclass(frozen=True)
class GrooveHit:
    """One decoded hit, as magenta's from_tensors reads it."""

    step: int
    drum: int  # the class, 0-8
    velocity: int  # 0-127 (magenta writes 0 too; clips get 1: MIDI reads 0 as a note-off)
    offset: float  # in steps, -0.5..0.5: positive is early

    @property
    def start(self) -> float:
        """The onset in beats; before 0 for an early hit on the first step."""
        return (self.step - self.offset) / STEPS_PER_QUARTER


def groove_tensors(clip: Clip, config: MusicVaeConfig) -> tuple[np.ndarray, np.ndarray]:
    """Encoder inputs and decoder targets `[chunks, steps, 27]` (float64, as magenta's)."""
    if clip.time_signature != (4, 4):
        numerator, denominator = clip.time_signature
        raise ClipError(
            f"{config.name} reads 4/4 clips only (Magenta's GrooveConverter does); "
            f"this clip is in {numerator}/{denominator}"
        )
    quantized = quantize(clip, STEPS_PER_QUARTER, is_drum=True)
    steps = quantized.end_step  # a last hit rounding onto the clip's end is read, as magenta's
    total = -(-steps // config.max_seq_len) * config.max_seq_len
    loudest = np.zeros((total, NUM_DRUM_CLASSES + 1), np.int64)  # velocity of the chosen note
    offsets = np.zeros((total, NUM_DRUM_CLASSES + 1))
    unknown = set()
    for note, step_note in zip(clip.audible_notes, quantized.notes, strict=True):
        step = step_note.start_step
        if step >= steps:
            continue
        drum = drum_class(note.pitch)
        if drum is None:
            unknown.add(note.pitch)
        column = _OTHER if drum is None else drum
        if note.velocity > loudest[step, column]:
            loudest[step, column] = note.velocity
            offsets[step, column] = (step - note.start * STEPS_PER_QUARTER) * 2
    _check_hits(loudest, unknown, config)
    hits = (loudest > 0).astype(np.float64)
    velocities = loudest / MAX_VELOCITY
    outputs = np.concatenate(
        [hits[:, :_OTHER], velocities[:, :_OTHER], offsets[:, :_OTHER]], axis=1
    )
    inputs = _inputs(hits, velocities, offsets, config)
    shape = (-1, config.max_seq_len, config.input_depth)
    return inputs.reshape(shape), outputs.reshape(shape)


def groove_chunks(clip: Clip, config: MusicVaeConfig) -> Chunks:
    """The clip as the model reads it, with the kit its results play."""
    inputs, outputs = groove_tensors(clip, config)
    # Drumified melodies play Magenta's kit: their pitches name no drums.
    not_drums = config.groove_input == "tap" and guess_content(clip).content != "drums"
    kit = DrumKit() if not_drums else DrumKit.from_clip(clip)
    return Chunks(inputs.astype(np.float32), outputs.astype(np.float32), 16, kit)


def decoded_hits(steps: np.ndarray) -> list[GrooveHit]:
    """The hits of decoded steps `[steps, 27]`, step by step, classes in order: a hit where
    its value passes 0.5, velocity rounded (half to even) and offset halved, both clipped."""
    on = np.nonzero(steps[:, :NUM_DRUM_CLASSES] > 0.5)
    return [_hit(steps, int(step), int(drum)) for step, drum in zip(*on, strict=True)]


def groove_clip(
    outputs: np.ndarray, like: Clip, kit: DrumKit | None = None, length: float | None = None
) -> Clip:
    """Decoded chunks `[chunks, steps, 27]`, joined, as an expressive drum clip with `like`'s
    tempo and meter, `length` beats long (default: the whole spans); hits last a step, as
    magenta writes them, and play the kit's pitches."""
    steps = outputs.reshape(-1, outputs.shape[-1])
    length = len(steps) / STEPS_PER_QUARTER if length is None else length
    pitches = (kit or DrumKit()).pitches
    notes = [
        Note(pitches[hit.drum], max(0.0, hit.start), 1 / STEPS_PER_QUARTER, max(1, hit.velocity))
        for hit in decoded_hits(steps[: max(1, round(length * STEPS_PER_QUARTER))])
    ]
    return Clip.from_notes(notes, length, like.qpm, like.time_signature, drums=True)


def apply_groove(clip: Clip, outputs: np.ndarray) -> Clip:
    """The clip's own drum notes, each given the decoded velocity and timing of its step and
    class (`outputs`: decoded chunks of the clip). Notes outside the map are dropped; a pitch
    struck twice on one step keeps its first note; a note the groove would move past the clip's
    end keeps its own start."""
    steps = outputs.reshape(-1, outputs.shape[-1])
    quantized = quantize(clip, STEPS_PER_QUARTER, is_drum=True)
    limit = min(len(steps), quantized.end_step)
    notes, seen = [], set()
    for note, step_note in zip(clip.audible_notes, quantized.notes, strict=True):
        step, drum = step_note.start_step, drum_class(note.pitch)
        if drum is None or step >= limit or (step, note.pitch) in seen:
            continue
        seen.add((step, note.pitch))
        hit = _hit(steps, step, drum)
        start = max(0.0, hit.start) if hit.start <= clip.length else note.start
        notes.append(Note(note.pitch, start, note.duration, max(1, hit.velocity)))
    return Clip.from_notes(notes, clip.length, clip.qpm, clip.time_signature, drums=True)


def _inputs(
    hits: np.ndarray, velocities: np.ndarray, offsets: np.ndarray, config: MusicVaeConfig
) -> np.ndarray:
    """What the encoder reads: the groove, its hits, or its taps (columns: 9 classes + other)."""
    if config.groove_input == "tap":
        rows = np.arange(len(hits))
        loudest = velocities.argmax(axis=1)  # the lowest class of equally loud ones
        tapped = [np.zeros((len(hits), NUM_DRUM_CLASSES)) for _ in range(3)]
        for tensor, values in zip(tapped, (hits, velocities, offsets), strict=True):
            tensor[:, TAP_DRUM] = values[rows, loudest]
        in_hits, in_velocities, in_offsets = tapped
    else:
        in_hits, in_velocities, in_offsets = (
            values[:, :_OTHER].copy() for values in (hits, velocities, offsets)
        )
    if config.groove_input == "humanize":
        in_velocities[:], in_offsets[:] = 0.0, 0.0
    if config.fixed_velocities:
        in_velocities[:] = 0.0
    return np.concatenate([in_hits, in_velocities, in_offsets], axis=1)


def _check_hits(loudest: np.ndarray, unknown: set[int], config: MusicVaeConfig) -> None:
    """Refuse a clip the model would read as silence, saying why."""
    if config.groove_input == "tap" and loudest.any():
        return
    if loudest[:, :_OTHER].any():
        return
    if unknown:
        pitches = ", ".join(map(str, sorted(unknown)[:8]))
        raise ClipError(
            f"clip has no drum hits Magenta knows: pitches {pitches} are not in its drum map"
        )
    raise ClipError("clip has no notes to read: none is audible and starts within its length")


def _hit(steps: np.ndarray, step: int, drum: int) -> GrooveHit:
    """Velocity and offset of one class on one decoded step, rounded and clipped as magenta's
    from_tensors does (velocity half to even)."""
    velocity = np.round(steps[step, NUM_DRUM_CLASSES + drum] * MAX_VELOCITY)
    offset = steps[step, 2 * NUM_DRUM_CLASSES + drum] / 2
    return GrooveHit(
        step, drum, int(np.clip(velocity, 0, MAX_VELOCITY)), float(np.clip(offset, -0.5, 0.5))
    )
