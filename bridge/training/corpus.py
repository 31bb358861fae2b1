"""Training corpora of any events-RNN family: music files -> event arrays -> one ``.npz``.

Magenta's training pipelines share their front half (read a NoteSequence, split it on
time-signature and tempo changes, quantize) and differ only in their extractor (melodies,
drum tracks, ...). This module is that front half, the per-file accounting (unreadable
files are skipped with a reason, extractor statistics keep magenta's names) and the
``.npz`` cache, so training never re-parses MIDI; a family supplies its ``Extraction``
rules (``melody_corpus.ExtractionRules``, ``drum_corpus.DrumExtractionRules``).
"""

from __future__ import annotations

import itertools
import json
import os
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from tqdm import tqdm

with warnings.catch_warnings():
    # note_seq imports pydub, which warns about a missing ffmpeg we never use.
    warnings.simplefilter("ignore", RuntimeWarning)
    import note_seq
    from note_seq import sequences_lib

MIDI_SUFFIXES = frozenset({".mid", ".midi"})
MUSICXML_SUFFIXES = frozenset({".xml", ".mxl", ".musicxml"})
ABC_SUFFIXES = frozenset({".abc"})
EVENT_DTYPE = np.int16

# Quantizer failures counted under the names magenta's pipeline statistics use.
_QUANTIZE_ERRORS = {
    sequences_lib.MultipleTimeSignatureError: "multiple_time_signatures",
    sequences_lib.MultipleTempoError: "multiple_tempos",
    sequences_lib.BadTimeSignatureError: "bad_time_signature",
}


class Extraction(Protocol):
    """A family's extractor settings (a dataclass, recorded in the corpus report)."""

    kind: ClassVar[str]  # what the sequences are, in magenta's statistic names: "melodies"

    @property
    def steps_per_quarter(self) -> int: ...

    def extract(self, quantized: note_seq.NoteSequence, stats: Counter[str]) -> list[np.ndarray]:
        """The family's training sequences in one quantized NoteSequence."""


@dataclass
class Corpus:
    """Event sequences read from a folder and an account of everything left out."""

    sequences: list[np.ndarray] = field(default_factory=list)
    files_read: int = 0
    skipped_files: dict[str, str] = field(default_factory=dict)  # relative path -> reason
    stats: Counter[str] = field(default_factory=Counter)  # magenta's statistic names

    @property
    def steps(self) -> int:
        """Total number of events over all sequences."""
        return sum(len(s) for s in self.sequences)


def sequences_from_note_sequence(
    sequence: note_seq.NoteSequence, rules: Extraction, stats: Counter[str]
) -> list[np.ndarray]:
    """Run one unquantized NoteSequence through magenta's pipeline for a family."""
    sequences = []
    for piece in sequences_lib.split_note_sequence_on_time_changes(sequence):
        try:
            quantized = sequences_lib.quantize_note_sequence(piece, rules.steps_per_quarter)
        except tuple(_QUANTIZE_ERRORS) as error:
            stats["sequences_discarded_because_" + _QUANTIZE_ERRORS[type(error)]] += 1
            continue
        try:
            sequences += rules.extract(quantized, stats)
        except note_seq.NonIntegerStepsPerBarError:
            stats["non_integer_steps_per_bar"] += 1
    return sequences


def _abc_sequences(path: Path, stats: Counter[str]) -> list[note_seq.NoteSequence]:
    """Tunes of an ABC tunebook via music21 (note_seq's own ABC parser rejects most folk tunes)."""
    from music21 import converter, midi

    parsed = converter.parse(path, format="abc")
    sequences = []
    for score in getattr(parsed, "scores", [parsed]):
        try:
            data = midi.translate.music21ObjectToMidiFile(score).writestr()
            sequences.append(note_seq.midi_to_note_sequence(data))
        except Exception:  # music21 fails on some single tunes; keep the rest of the book
            stats["abc_tunes_unconvertible"] += 1
    return sequences


def _read_sequences(path: Path, stats: Counter[str]) -> list[note_seq.NoteSequence]:
    suffix = path.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return [note_seq.midi_file_to_note_sequence(str(path))]
    if suffix in MUSICXML_SUFFIXES:
        return [note_seq.musicxml_file_to_sequence_proto(str(path))]
    return _abc_sequences(path, stats)


def _music_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` this module can read, in a stable order."""
    readable = MIDI_SUFFIXES | MUSICXML_SUFFIXES | ABC_SUFFIXES
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in readable and p.is_file())


def read_folder(folder: Path, rules: Extraction, *, progress: bool = False) -> Corpus:
    """Extract every training sequence under ``folder``; unreadable files are skipped."""
    corpus = Corpus()
    files = _music_files(folder)
    for path in tqdm(files, desc=rules.kind, unit="file", disable=not progress):
        stats: Counter[str] = Counter()
        try:
            sequences = [
                events
                for sequence in _read_sequences(path, stats)
                for events in sequences_from_note_sequence(sequence, rules, stats)
            ]
        except Exception as error:  # a file that fails anywhere is skipped, never a crash
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:160]
            corpus.skipped_files[path.relative_to(folder).as_posix()] = reason
            continue
        corpus.files_read += 1
        corpus.sequences += sequences
        corpus.stats += stats
    return corpus


def save_corpus(path: Path, sequences: Sequence[np.ndarray]) -> None:
    """Store sequences as one flat event array plus offsets (atomic write)."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    events = (
        np.concatenate(sequences).astype(EVENT_DTYPE) if sequences else np.zeros(0, EVENT_DTYPE)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        np.savez_compressed(handle, events=events, offsets=offsets)
    os.replace(tmp, path)


def load_corpus(path: Path) -> list[np.ndarray]:
    """Sequences saved by :func:`save_corpus`, as read-only views of one array."""
    with np.load(path) as data:
        events, offsets = data["events"], data["offsets"]
    if offsets[0] != 0 or offsets[-1] != len(events) or np.any(np.diff(offsets) < 0):
        raise ValueError(f"{path}: offsets do not describe the events array")
    events.flags.writeable = False
    return [events[a:b] for a, b in itertools.pairwise(offsets)]


def build_corpus(
    src_folder: Path, out_npz: Path, rules: Extraction, *, exclude: Path | None = None
) -> Corpus:
    """Extract ``src_folder`` into ``out_npz`` plus a ``.json`` account beside it.

    Sequences equal to one in the ``exclude`` corpus are dropped: pass the train corpus
    when building valid and test, because one piece written twice (in two collections,
    or in two keys that a melody's squash makes equal) would flatter held-out scores.
    """
    started = time.perf_counter()
    corpus = read_folder(src_folder, rules, progress=True)
    if exclude is not None:
        seen = {events.tobytes() for events in load_corpus(exclude)}
        kept = [events for events in corpus.sequences if events.tobytes() not in seen]
        dropped = len(corpus.sequences) - len(kept)
        corpus.stats[f"{rules.kind}_discarded_in_excluded_corpus"] += dropped
        corpus.sequences = kept
    save_corpus(out_npz, corpus.sequences)
    report: dict[str, Any] = {
        "source": str(src_folder),
        "excluded_corpus": None if exclude is None else str(exclude),
        "kind": rules.kind,
        "rules": asdict(rules),
        "sequences": len(corpus.sequences),
        "steps": corpus.steps,
        "files_read": corpus.files_read,
        "files_skipped": len(corpus.skipped_files),
        "skipped_files": corpus.skipped_files,
        "stats": dict(sorted(corpus.stats.items())),
        "seconds": round(time.perf_counter() - started, 1),
    }
    out_npz.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    return corpus
