"""Coconet's training data: chorales as four voices of MIDI pitches on the 16th grid.

Magenta's `lib_data.Jsb16thSeparated` reads `Jsb16thSeparated.npz`: for each of train,
valid and test a list of [time, 4] arrays, one row per 16th, soprano to bass, the MIDI
pitch each voice sounds (NaN where it rests), pitches 36-81. That is what a chorale
becomes here: each voice is a track of a MIDI file (music21's rendering, as
`models/training/export_bach_chorales.py` writes it), its notes quantized to 16ths as
note_seq does (a time rounds up once past half a step; a note lasts at least a step).

Stored without pickles: magenta's file holds object arrays, which numpy can only pickle,
so `save_chorales` writes each split as one [steps, 4] array plus offsets and names;
`save_magenta_npz` writes magenta's own layout for magenta's tools, and nothing here
reads it back.
"""

from __future__ import annotations

import io
import itertools
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from bridge.models.coconet.config import JSB_MAX_PITCH, JSB_MIN_PITCH, JSB_VOICES

SPLITS = ("train", "valid", "test")
STEPS_PER_QUARTER = 4  # magenta's quantization_level 0.125 of a whole note: 16ths
QUANTIZE_CUTOFF = 0.5  # note_seq's


class ChoraleError(ValueError):
    """A piece that is not four voices within Coconet's pitch range."""


@dataclass(frozen=True)
class Chorales:
    """One split: each chorale's [time, voice] pitches (NaN: rest), and its name."""

    pieces: tuple[np.ndarray, ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.pieces) != len(self.names):
            raise ValueError(f"{len(self.pieces)} pieces but {len(self.names)} names")

    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def steps(self) -> int:
        return sum(len(piece) for piece in self.pieces)


def quantize_time(quarters: float) -> int:
    """note_seq's quantize_to_step at 4 steps per quarter."""
    return int(quarters * STEPS_PER_QUARTER + (1 - QUANTIZE_CUTOFF))


def voice_notes(midi: bytes | Path) -> list[list[tuple[int, int, int]]]:
    """Each track that has notes, in track order: its (start step, end step, pitch)."""
    source = (
        mido.MidiFile(file=io.BytesIO(midi)) if isinstance(midi, bytes) else mido.MidiFile(midi)
    )
    beat = source.ticks_per_beat
    voices = []
    for track in source.tracks:
        tick, sounding, notes = 0, {}, []
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                sounding.setdefault(message.note, []).append(tick)
            elif message.type in ("note_on", "note_off") and sounding.get(message.note):
                start = quantize_time(sounding[message.note].pop(0) / beat)
                end = max(quantize_time(tick / beat), start + 1)
                notes.append((start, end, message.note))
        if notes:
            voices.append(notes)
    return voices


def chorale_pitches(midi: bytes | Path, stats: Counter[str] | None = None) -> np.ndarray:
    """A four-track MIDI file (soprano first) as [time, 4] pitches, NaN where a voice rests.

    Where one voice holds two pitches at a step (a divided part, a grace note squeezed onto
    the grid), the higher is kept, and `stats` counts it. ChoraleError for another number of
    voices or a pitch outside 36-81 (lib_pianoroll cannot encode it)."""
    voices = voice_notes(midi)
    if len(voices) != JSB_VOICES:
        raise ChoraleError(f"{len(voices)} voices, not {JSB_VOICES}")
    pitches = [pitch for notes in voices for _, _, pitch in notes]
    if min(pitches) < JSB_MIN_PITCH or max(pitches) > JSB_MAX_PITCH:
        raise ChoraleError(
            f"pitches {min(pitches)}-{max(pitches)} leave Coconet's {JSB_MIN_PITCH}-{JSB_MAX_PITCH}"
        )
    length = max(end for notes in voices for _, end, _ in notes)
    rolls = np.full((length, JSB_VOICES), np.nan, np.float32)
    for voice, notes in enumerate(voices):
        for start, end, pitch in sorted(notes, key=lambda note: note[2]):
            if stats is not None:
                stats["steps_with_two_pitches_in_a_voice"] += int(
                    np.count_nonzero(~np.isnan(rolls[start:end, voice]))
                )
            rolls[start:end, voice] = pitch
    return rolls


def save_chorales(path: Path, splits: dict[str, Chorales]) -> None:
    """Write each split as `<split>_pitches` [steps, 4] float32, `<split>_offsets` and
    `<split>_names` (atomically; readable without pickles)."""
    arrays = {}
    for split, chorales in splits.items():
        lengths = [len(piece) for piece in chorales.pieces]
        arrays[f"{split}_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        arrays[f"{split}_pitches"] = (
            np.concatenate(chorales.pieces).astype(np.float32)
            if chorales.pieces
            else np.zeros((0, JSB_VOICES), np.float32)
        )
        arrays[f"{split}_names"] = np.array(chorales.names, dtype=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    os.replace(tmp, path)


def load_chorales(path: Path) -> dict[str, Chorales]:
    """The splits `save_chorales` wrote, each piece a read-only view of one array."""
    splits = {}
    with np.load(path) as data:
        names = sorted({key.rsplit("_", 1)[0] for key in data.files})
        for split in names:
            pitches, offsets = data[f"{split}_pitches"], data[f"{split}_offsets"]
            labels = tuple(str(name) for name in data[f"{split}_names"])
            _check(path, split, pitches, offsets, len(labels))
            pitches.flags.writeable = False
            pieces = tuple(pitches[a:b] for a, b in itertools.pairwise(offsets))
            splits[split] = Chorales(pieces, labels)
    return splits


def _check(path: Path, split: str, pitches: np.ndarray, offsets: np.ndarray, count: int) -> None:
    if pitches.ndim != 2 or pitches.shape[1] != JSB_VOICES:
        raise ValueError(f"{path}: {split} pitches are {pitches.shape}, not [steps, 4]")
    if offsets[0] != 0 or offsets[-1] != len(pitches) or np.any(np.diff(offsets) < 0):
        raise ValueError(f"{path}: {split} offsets do not describe its pitches")
    if len(offsets) != count + 1:
        raise ValueError(f"{path}: {split} has {len(offsets) - 1} pieces and {count} names")
    sounding = pitches[~np.isnan(pitches)]
    if sounding.size and (sounding.min() < JSB_MIN_PITCH or sounding.max() > JSB_MAX_PITCH):
        raise ValueError(f"{path}: {split} has pitches outside {JSB_MIN_PITCH}-{JSB_MAX_PITCH}")


def save_magenta_npz(path: Path, splits: dict[str, Chorales]) -> None:
    """magenta's own layout (`lib_data` reads `np.load(path, allow_pickle=True)[fold]`): a
    float64 [time, 4] array per chorale, in object arrays, which numpy stores pickled. Only
    for magenta's tools in their own environment; nothing in this project loads it."""
    arrays = {}
    for split, chorales in splits.items():
        column = np.empty(len(chorales), dtype=object)
        for index, piece in enumerate(chorales.pieces):
            column[index] = np.asarray(piece, dtype=np.float64)
        arrays[split] = column
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def read_midi_folder(folder: Path) -> tuple[Chorales, dict[str, str]]:
    """Every MIDI file under `folder` of four tracks with notes (soprano first) as a
    chorale; the others are skipped, with the reason."""
    pieces, names, skipped = [], [], {}
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi")):
        name = path.relative_to(folder).as_posix()
        try:
            pieces.append(chorale_pitches(path))
        except (ChoraleError, OSError, ValueError, EOFError) as error:
            skipped[name] = str(error)
            continue
        names.append(name)
    return Chorales(tuple(pieces), tuple(names)), skipped


def read_splits(path: Path) -> dict[str, Chorales]:
    """A corpus `.npz` (`save_chorales`), or a folder whose train/, valid/ (and test/)
    folders hold four-track MIDI files."""
    if path.is_file():
        return load_chorales(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is neither a corpus .npz nor a folder")
    splits = {}
    for split in SPLITS:
        if (path / split).is_dir():
            splits[split], _ = read_midi_folder(path / split)
    return splits
