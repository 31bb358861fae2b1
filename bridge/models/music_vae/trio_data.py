"""Trios (melody, bass, drums) <-> the tensors of hierdec-trio_16bar, as magenta's
TrioConverter (music_vae/data.py: slice_bars 16, gap_bars 2, 4 steps a quarter) defines them.

A step is three one-hots side by side, 692 values: the melody and the bass as
OneHotMelodyConverter's 90 classes (no event, note off, pitches 21-108), the drums as
DrumsConverter's 512 (the set of the nine drum classes hit). Input and output are the same
tensor: this converter gives the encoder no drum roll. Each part is read from step 0 as magenta
reads one instrument: the highest note of a shared onset wins and a later onset cuts an earlier
note, pitches outside the piano are left out, drum pitches fold into the nine classes. 4/4 only.

Magenta finds trios in a song by its instruments' programs (counted from 0): 0-31 melody (piano,
chromatic percussion, organ, guitar), 32-39 bass, and drums by channel 10; other instruments are
ignored. `converter_tensors` is its `to_tensors` on a song's parts: for every (melody, bass,
drums) combination in instrument order, the 16-bar windows, slid bar by bar, where all three
play (gaps of up to 2 bars forgiven), the first five kept (infer mode, what TrainedModel.encode
sees; it refuses anything but exactly one). That is the reference the tools' encoding is checked
against and what a trio corpus is made of. The tools read one `Trio` instead (from a song: the
first instrument of each kind that has something to encode, the combination magenta lists first)
and cut it into 16-bar spans at bar lines, rejoined after decoding, as data.py does for melodies
and drums. Results play at the input parts' velocities, programs and drum kit (magenta writes
velocity 80, programs 0 and 33, each drum class's first pitch).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bridge.models.music_vae.chunks import Chunks
from bridge.models.music_vae.config import DRUM_CLASSES_DEPTH, MELODY_DEPTH, MusicVaeConfig
from bridge.models.music_vae.data import (
    FIRST_PITCH_CLASS,
    MAX_PITCH,
    MIN_PITCH,
    melody_event_classes,
)
from bridge.music.clip import Clip, Note
from bridge.music.drums import DrumKit, DrumTrack, drum_class
from bridge.music.errors import ClipError
from bridge.music.melody import NO_EVENT, NOTE_OFF, Melody, extract_melody
from bridge.music.midi import MidiPart
from bridge.music.quantize import STEPS_PER_QUARTER, quantize

PARTS = ("melody", "bass", "drums")
MELODY_PROGRAMS = range(0, 32)
BASS_PROGRAMS = range(32, 40)
ELECTRIC_BASS_PROGRAM = 33  # what magenta writes for a decoded bass
STEPS_PER_BAR = 4 * STEPS_PER_QUARTER
SLICE_BARS = 16
GAP_BARS = 2
MAX_BARS = 1024
MAX_TENSORS = 5  # max_tensors_per_notesequence: infer mode keeps the first ones
_NOTE_OFF_CLASS = NOTE_OFF + 2  # melody classes: 0 no event, 1 note off, then the pitches
_DEPTHS = (MELODY_DEPTH, MELODY_DEPTH, DRUM_CLASSES_DEPTH)
# The pitched parts' ranges, in step order: TrioConverter reads both with OneHotMelodyConverter's
# defaults, the piano (what a key lock keeps each part within).
PITCH_RANGES = {"melody": (MIN_PITCH, MAX_PITCH), "bass": (MIN_PITCH, MAX_PITCH)}


@dataclass(frozen=True)
class Trio:
    """A melody, a bass line and drums that play together, and the General MIDI programs of
    the melody and the bass (counted from 0, in magenta's ranges, so a written trio reads back
    as itself). The parts share a tempo and a time signature; each is given the trio's length
    (by default the longest part's)."""

    melody: Clip
    bass: Clip
    drums: Clip
    melody_program: int = 0
    bass_program: int = ELECTRIC_BASS_PROGRAM
    length: float | None = None

    def __post_init__(self) -> None:
        if len({(part.qpm, part.time_signature) for part in self.parts}) > 1:
            raise ClipError(
                "the melody, bass and drums of a trio must share one tempo and time signature"
            )
        for what, program, allowed in (
            ("melody", self.melody_program, MELODY_PROGRAMS),
            ("bass", self.bass_program, BASS_PROGRAMS),
        ):
            if program not in allowed:
                raise ClipError(
                    f"a trio's {what} plays a program in {allowed.start}-{allowed.stop - 1} "
                    f"(counted from 0), not {program}"
                )
        length = max(part.length for part in self.parts) if self.length is None else self.length
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "melody", replace(self.melody, length=length))
        object.__setattr__(self, "bass", replace(self.bass, length=length))
        object.__setattr__(self, "drums", replace(self.drums, length=length, drums=True))

    @property
    def parts(self) -> tuple[Clip, Clip, Clip]:
        return self.melody, self.bass, self.drums

    @property
    def qpm(self) -> float:
        return self.melody.qpm

    @property
    def time_signature(self) -> tuple[int, int]:
        return self.melody.time_signature


def part_role(part: MidiPart) -> str | None:
    """What an instrument plays in a trio as TrioConverter types it, by its program (drums by
    channel 10): "melody", "bass" or "drums"; None for an instrument it ignores."""
    if part.clip.drums:
        return "drums"
    if part.program in MELODY_PROGRAMS:
        return "melody"
    return "bass" if part.program in BASS_PROGRAMS else None


def trio_from_parts(parts: Sequence[MidiPart], source: str = "the song") -> Trio:
    """The trio the tools read from a song's instruments: the first melody, bass and drum
    instrument with something to encode; ClipError names what is missing."""
    chosen: dict[str, MidiPart] = {}
    for part in parts:
        role = part_role(part)
        if role is not None and role not in chosen and _encodable(role, part.clip):
            chosen[role] = part
    missing = [role for role in PARTS if role not in chosen]
    if missing:
        found = ", ".join(_described(part) for part in parts) or "no notes"
        raise ClipError(
            f"{source} has no {' and no '.join(missing)} that a trio model can read: it needs "
            f"a melody (programs 0-31 counted from 0, notes within {MIN_PITCH}-{MAX_PITCH}), a "
            f"bass (programs 32-39, same range) and drums (channel 10, General MIDI drums); "
            f"it has {found}"
        )
    melody, bass, drums = (chosen[role] for role in PARTS)
    return Trio(melody.clip, bass.clip, drums.clip, melody.program, bass.program)


def trio_parts(trio: Trio) -> list[MidiPart]:
    """The trio as the parts of a MIDI file, in magenta's order: melody, bass, drums."""
    return [
        MidiPart(trio.melody, trio.melody_program, "melody"),
        MidiPart(trio.bass, trio.bass_program, "bass"),
        MidiPart(trio.drums, 0, "drums"),
    ]


def trio_to_chunks(trio: Trio, config: MusicVaeConfig) -> Chunks:
    """The trio from its start, padded with silence to whole spans, cut into spans."""
    _check_metre(trio.time_signature, config)
    span = config.max_seq_len
    # The trio's steps: a last note rounding onto its end is kept, as note_seq keeps it.
    steps = max(quantize(part).end_step for part in trio.parts)
    total = -(-steps // span) * span
    classes = []
    for role, clip in zip(PARTS, trio.parts, strict=True):
        encoded = _part_classes(role, clip, steps, total)
        if encoded is None:
            raise ClipError(f"the trio's {role} part has {_nothing(role)}")
        classes.append(encoded)
    tensors = _one_hot(classes).reshape(-1, span, sum(_DEPTHS))
    return Chunks(tensors, tensors, STEPS_PER_BAR, DrumKit.from_clip(trio.drums))


def chunks_to_trio(outputs: np.ndarray, like: Clip | Trio, kit: DrumKit | None = None) -> Trio:
    """Decoded spans `[chunks, steps, 692]`, joined, as a trio with `like`'s tempo and time
    signature, and, when `like` is a trio, its parts' velocities and programs."""
    melody, bass, drums = (
        part.argmax(axis=-1).reshape(-1) for part in np.split(outputs, np.cumsum(_DEPTHS)[:2], -1)
    )
    length = len(melody) / STEPS_PER_QUARTER
    likes = like.parts if isinstance(like, Trio) else (like, like, like)
    melody_notes = _melody_notes(melody, _velocity(likes[0]))
    bass_notes = _melody_notes(bass, _velocity(likes[1]))
    drum_notes = DrumTrack(drums, STEPS_PER_QUARTER).to_notes(kit or DrumKit())
    clips = [
        Clip.from_notes(notes, length, like.qpm, like.time_signature)
        for notes in (melody_notes, bass_notes, drum_notes)
    ]
    if isinstance(like, Trio):
        return Trio(*clips, like.melody_program, like.bass_program)
    return Trio(*clips)


def converter_tensors(parts: Sequence[MidiPart]) -> np.ndarray:
    """`[windows, 256, 692]`: TrioConverter.to_tensors on a song of these parts (one length,
    tempo and time signature, as `read_midi_parts` gives them), in infer mode; no windows for
    a song without all three kinds of instrument, or not in 4/4."""
    windows = np.zeros((0, SLICE_BARS * STEPS_PER_BAR, sum(_DEPTHS)), np.float32)
    roles = [part_role(part) for part in parts]
    if set(PARTS) - set(roles) or any(p.clip.time_signature != (4, 4) for p in parts):
        return windows
    quantized = [quantize(part.clip, is_drum=part.clip.drums) for part in parts]
    bars = min(math.ceil(max(q.total_steps for q in quantized) / STEPS_PER_BAR), MAX_BARS)
    coverage = np.zeros((bars, len(parts)), bool)
    for index, part in enumerate(quantized):
        for note in part.notes:
            first, end = note.start_step // STEPS_PER_BAR, -(-note.end_step // STEPS_PER_BAR)
            if first < bars:
                coverage[first : min(end, bars), index] = True
    encoded: dict[int, np.ndarray] = {}
    for index, (part, role) in enumerate(zip(parts, roles, strict=True)):
        if role is not None:
            classes = _part_classes(role, part.clip, bars * STEPS_PER_BAR, bars * STEPS_PER_BAR)
            if classes is None:
                coverage[:, index] = False
            else:
                encoded[index] = classes
    filled = np.stack(
        [coverage[max(0, bar - GAP_BARS) : bar + GAP_BARS + 1].any(axis=0) for bar in range(bars)]
    )
    found = []
    candidates = [[i for i, r in enumerate(roles) if r == role] for role in PARTS]
    for group in itertools.product(*candidates):
        if not all(index in encoded for index in group):
            continue
        covered = filled[:, group].all(axis=1)
        covered[:GAP_BARS] = filled[:GAP_BARS, group].any()  # ends are forgiven more
        covered[-GAP_BARS:] = filled[-GAP_BARS:, group].any()
        for bar in range(bars - SLICE_BARS + 1):
            if covered[bar : bar + SLICE_BARS].all():
                steps = slice(bar * STEPS_PER_BAR, (bar + SLICE_BARS) * STEPS_PER_BAR)
                found.append([encoded[index][steps] for index in group])
    if not found:
        return windows
    return np.stack([_one_hot(classes) for classes in found[:MAX_TENSORS]])


def _part_classes(role: str, clip: Clip, steps: int, total: int) -> np.ndarray | None:
    """A part's classes from step 0: its first `steps` steps, then silence up to `total`
    (a note sounding at `steps` ends there); None when it has nothing to encode."""
    if role == "drums":
        events = np.zeros(total, np.int64)
        for note in quantize(clip, is_drum=True).notes:
            drum = drum_class(note.pitch)
            if drum is not None and note.start_step < steps:
                events[note.start_step] |= 1 << drum
        return events if events.any() else None
    in_range = [note for note in clip.audible_notes if MIN_PITCH <= note.pitch <= MAX_PITCH]
    if not in_range:
        return None
    events = extract_melody(replace(clip, notes=tuple(in_range))).events[:steps]
    classes = np.zeros(total, np.int64)
    classes[: len(events)] = melody_event_classes(events)
    changes = np.flatnonzero(events != NO_EVENT)
    if len(events) < total and changes.size and events[changes[-1]] >= 0:
        classes[len(events)] = _NOTE_OFF_CLASS  # as note_seq's Melody.set_length ends it
    return classes


def _encodable(role: str, clip: Clip) -> bool:
    steps = max(1, quantize(clip).total_steps)
    return _part_classes(role, clip, steps, steps) is not None


def _one_hot(classes: Sequence[np.ndarray]) -> np.ndarray:
    """`[steps, 692]`: melody, bass and drum classes as one-hots side by side."""
    return np.concatenate(
        [
            np.eye(depth, dtype=np.float32)[part]
            for depth, part in zip(_DEPTHS, classes, strict=True)
        ],
        axis=-1,
    )


def _melody_notes(classes: np.ndarray, velocity: int) -> list[Note]:
    pitches = classes - FIRST_PITCH_CLASS + MIN_PITCH
    events = np.where(classes >= FIRST_PITCH_CLASS, pitches, classes - 2)  # 0, 1: no event, off
    return Melody(events, STEPS_PER_QUARTER, STEPS_PER_BAR).to_notes(velocity=velocity)


def _velocity(clip: Clip) -> int:
    notes = clip.audible_notes
    return round(sum(n.velocity for n in notes) / len(notes)) if notes else 100


def _check_metre(time_signature: tuple[int, int], config: MusicVaeConfig) -> None:
    if time_signature != (4, 4):
        numerator, denominator = time_signature
        raise ClipError(
            f"{config.name} reads 4/4 trios only (Magenta's TrioConverter does); "
            f"this one is in {numerator}/{denominator}"
        )


def _nothing(role: str) -> str:
    if role == "drums":
        return "no General MIDI drum hits"
    return f"no notes within the piano range {MIN_PITCH}-{MAX_PITCH}"


def _described(part: MidiPart) -> str:
    name = f"{part.name!r} " if part.name else ""
    return f"{name}(drums)" if part.clip.drums else f"{name}(program {part.program})"
