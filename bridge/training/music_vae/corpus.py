"""MusicVAE training data: music files -> the fixed-length windows its converters train on,
and those windows as the network reads them.

Magenta's OneHotMelodyConverter and DrumsConverter (configs cat-mel_2bar_* and
cat-drums_2bar_*) extract melodies or drum tracks as the RNN pipelines do, but with
`min_bars=1`, padded to a bar line and (melodies) unsquashed, keep only 4/4 pieces (16
steps a bar), and then slide a window of `slice_bars` over each, a bar at a time, keeping
each distinct window of a piece once. Melody notes outside the piano or played by
programs other than 0-31 (piano to guitar) are dropped first, as the melody converter does.

Deviation, on purpose: magenta samples at most 5 windows of a piece per epoch; every
window is kept here, since the corpus is built once and the data sets are small.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from bridge.models.music_vae.config import MusicVaeConfig, config_named
from bridge.models.music_vae.data import MAX_PITCH, MIN_PITCH, drum_rolls, melody_event_classes
from bridge.models.music_vae.groove_data import groove_tensors
from bridge.music.drums import NUM_DRUM_CLASSES
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.music.quantize import STEPS_PER_QUARTER
from bridge.training.corpus import EVENT_DTYPE, load_corpus, note_seq, read_folder, sequences_lib
from bridge.training.drums_rnn.corpus import DrumExtractionRules
from bridge.training.melody_rnn.corpus import ExtractionRules

PIANO = (21, 108)
MELODY_PROGRAMS = (0, 31)
STEPS_PER_BAR = 16  # 4/4 at 4 steps per quarter: the only metre MusicVAE's converters take


def melody_rules() -> ExtractionRules:
    """OneHotMelodyConverter's melody extractor (max_bars=100)."""
    return ExtractionRules(
        min_bars=1,
        max_steps=100 * STEPS_PER_BAR,
        min_unique_pitches=1,
        ignore_polyphonic_notes=True,  # skip_polyphony=False: the highest note is kept
        squash=False,
        pad_end=True,
    )


def drum_rules() -> DrumExtractionRules:
    """DrumsConverter's drum track extractor (max_bars=100)."""
    return DrumExtractionRules(min_bars=1, max_steps=100 * STEPS_PER_BAR, pad_end=True)


@dataclass(frozen=True)
class SliceRules:
    """Windows of `slice_bars` bars of what `tracks` extracts (an Extraction, see corpus)."""

    kind: ClassVar[str] = "slices"

    tracks: ExtractionRules | DrumExtractionRules = field(default_factory=melody_rules)
    slice_bars: int = 2
    pitch_range: tuple[int, int] | None = PIANO  # None: keep every note (drums)
    programs: tuple[int, int] | None = MELODY_PROGRAMS

    @property
    def steps_per_quarter(self) -> int:
        return self.tracks.steps_per_quarter

    def extract(self, quantized: note_seq.NoteSequence, stats: Counter[str]) -> list[np.ndarray]:
        """The piece's distinct windows, in order of first appearance."""
        if sequences_lib.steps_per_bar_in_quantized_sequence(quantized) != STEPS_PER_BAR:
            stats["sequences_discarded_not_4_4"] += 1
            return []
        if self.pitch_range or self.programs:
            quantized = self._kept_notes(quantized)
        span = self.slice_bars * STEPS_PER_BAR
        windows: dict[bytes, np.ndarray] = {}
        for track in self.tracks.extract(quantized, stats):
            for end in range(span, len(track) + 1, STEPS_PER_BAR):
                window = np.asarray(track[end - span : end], dtype=EVENT_DTYPE)
                windows.setdefault(window.tobytes(), window)
        stats["slices"] += len(windows)
        return list(windows.values())

    def _kept_notes(self, quantized: note_seq.NoteSequence) -> note_seq.NoteSequence:
        kept = note_seq.NoteSequence()
        kept.CopyFrom(quantized)
        del kept.notes[:]
        kept.notes.extend(
            note
            for note in quantized.notes
            if (not self.pitch_range or self.pitch_range[0] <= note.pitch <= self.pitch_range[1])
            and (not self.programs or self.programs[0] <= note.program <= self.programs[1])
        )
        return kept


def drum_slice_rules(slice_bars: int = 2) -> SliceRules:
    """DrumsConverter's windows: every drum note counts, whatever its program or pitch."""
    return SliceRules(drum_rules(), slice_bars, pitch_range=None, programs=None)


class Slices:
    """Training windows as the network reads them: `inputs`, `targets` `[n, steps, depth]`
    made per batch from compact arrays (melody or drum classes), or stored whole (grooves)."""

    def __init__(self, config: MusicVaeConfig, windows: np.ndarray | tuple[np.ndarray, np.ndarray]):
        self.config = config
        self.windows = windows
        if isinstance(windows, tuple):
            self.size = len(windows[0])
        else:
            if config.data not in ("melody", "drums"):
                raise ValueError(f"{config.name} trains on {config.data} tensors, not events")
            self.size = len(windows)
        if self.size == 0:
            raise ValueError("no training window")

    def __len__(self) -> int:
        return self.size

    def tensors(
        self, rows: np.ndarray, transpose: np.ndarray | None = None
    ) -> tuple[Tensor, Tensor]:
        """Inputs and targets of the windows `rows` (melodies transposed by `transpose`)."""
        if isinstance(self.windows, tuple):
            inputs, targets = self.windows
            return torch.from_numpy(inputs[rows]), torch.from_numpy(targets[rows])
        events = self.windows[rows].astype(np.int64)
        if self.config.data == "drums":
            classes = events
            targets = np.eye(self.config.output_depth, dtype=np.float32)[classes]
            return torch.from_numpy(drum_rolls(classes)), torch.from_numpy(targets)
        if transpose is not None:
            events = _transposed(events, transpose)
        targets = np.eye(self.config.output_depth, dtype=np.float32)[melody_event_classes(events)]
        return torch.from_numpy(targets), torch.from_numpy(targets)

    def batches(self, size: int) -> Iterator[tuple[Tensor, Tensor]]:
        """Every window once, in order (evaluation)."""
        for start in range(0, len(self), size):
            yield self.tensors(np.arange(start, min(start + size, len(self))))


def _transposed(events: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Each row moved by its shift, or left as it is where a note would leave the piano."""
    pitched = events >= 0
    moved = np.where(pitched, events + shift[:, None], events)
    fits = np.all(~pitched | ((moved >= MIN_PITCH) & (moved <= MAX_PITCH)), axis=1)
    return np.where(fits[:, None], moved, events)


def read_slices(source: Path, config_name: str, limit: int | None = None) -> Slices:
    """Training windows of a config from a `.npz` corpus or a folder of music files
    (grooves: a folder of MIDI drum parts)."""
    config = config_named(config_name)
    if config.data == "groove":
        inputs, targets = groove_windows(source, config)
        return Slices(config, (inputs[:limit], targets[:limit]))
    if source.suffix == ".npz":
        windows = load_corpus(source)
    else:
        rules = drum_slice_rules() if config.data == "drums" else SliceRules()
        windows = read_folder(source, rules, progress=True).sequences
    if not windows:
        raise ValueError(f"no 2-bar {config.data} window found in {source}")
    return Slices(config, np.stack(windows[:limit]))


def groove_windows(folder: Path, config: MusicVaeConfig) -> tuple[np.ndarray, np.ndarray]:
    """GrooveConverter's training windows of every 4/4 MIDI drum part under `folder`: whole
    spans, a span apart (magenta's hop for these configs), distinct, each with a hit.

    Drums are classed as at inference (note_seq's nine classes, bridge.models.music_vae.
    groove_data), so a model trained here reads a clip as it was trained; magenta trains on
    Roland's classes instead and infers with these.
    """
    inputs, targets, seen = [], [], set()
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    for path in tqdm(paths, desc="grooves", unit="file"):
        try:
            clip = read_midi(path)
            if clip.time_signature != (4, 4):
                continue
            spans = groove_tensors(clip, config)
        except ClipError:  # unreadable, no drums, or no hit the converter knows
            continue
        whole = round(clip.length * STEPS_PER_QUARTER) // config.max_seq_len
        for span_inputs, span_targets in zip(*(s[:whole] for s in spans), strict=True):
            key = span_targets.tobytes()
            if span_targets[:, :NUM_DRUM_CLASSES].any() and key not in seen:
                seen.add(key)
                inputs.append(span_inputs)
                targets.append(span_targets)
    if not inputs:
        raise ValueError(f"no {config.bars}-bar 4/4 groove with drum hits found in {folder}")
    return np.stack(inputs).astype(np.float32), np.stack(targets).astype(np.float32)
