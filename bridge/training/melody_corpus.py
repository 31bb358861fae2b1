"""Melody training data: music files -> the event arrays Magenta's MelodyRNN trains on.

Reproduces magenta's training pipeline (``melody_rnn_pipeline.get_pipeline``) with
note_seq, Magenta's own representation library, so a model trained here sees what
Magenta's would: split on time-signature/tempo changes, quantize, extract melodies
(``melody_pipelines.extract_melodies`` with the MelodyExtractor settings that pipeline
uses), then ``Melody.squash`` into the model's pitch range as its EncoderPipeline
does.  Arrays hold Magenta's melody events: -2 no event, -1 note off, else a pitch.
The arrays are cached as one ``.npz`` so training never re-parses MIDI.
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


@dataclass(frozen=True)
class ExtractionRules:
    """Settings of magenta's melody_rnn pipeline; the defaults are Magenta's.

    ``ignore_polyphonic_notes`` is False as in ``melody_rnn_pipeline.get_pipeline``
    (tracks where two notes start together are discarded), not True as in the
    ``extract_melodies`` function default, which only Magenta's generators use.
    """

    steps_per_quarter: int = 4
    min_bars: int = 7
    max_steps: int = 512
    min_unique_pitches: int = 5
    gap_bars: float = 1.0
    ignore_polyphonic_notes: bool = False
    min_note: int = 48
    max_note: int = 84
    transpose_to_key: int | None = 0


@dataclass
class MelodyCorpus:
    """Melodies read from a folder and an account of everything left out."""

    melodies: list[np.ndarray] = field(default_factory=list)
    files_read: int = 0
    skipped_files: dict[str, str] = field(default_factory=dict)  # relative path -> reason
    stats: Counter[str] = field(default_factory=Counter)  # magenta's statistic names

    @property
    def steps(self) -> int:
        """Total number of events over all melodies."""
        return sum(len(m) for m in self.melodies)


def melodies_from_sequence(
    sequence: note_seq.NoteSequence, rules: ExtractionRules, stats: Counter[str]
) -> list[np.ndarray]:
    """Run one unquantized NoteSequence through magenta's melody_rnn pipeline."""
    melodies = []
    for piece in sequences_lib.split_note_sequence_on_time_changes(sequence):
        try:
            quantized = sequences_lib.quantize_note_sequence(piece, rules.steps_per_quarter)
        except tuple(_QUANTIZE_ERRORS) as error:
            stats["sequences_discarded_because_" + _QUANTIZE_ERRORS[type(error)]] += 1
            continue
        try:
            melodies += _extract(quantized, rules, stats)
        except note_seq.NonIntegerStepsPerBarError:
            stats["non_integer_steps_per_bar"] += 1
    return melodies


def _extract(
    quantized: note_seq.NoteSequence, rules: ExtractionRules, stats: Counter[str]
) -> list[np.ndarray]:
    """magenta.pipelines.melody_pipelines.extract_melodies, then the encoder's squash."""
    steps_per_bar = int(sequences_lib.steps_per_bar_in_quantized_sequence(quantized))
    melodies = []
    for instrument in sorted({note.instrument for note in quantized.notes}):
        start = 0
        while True:
            melody = note_seq.Melody()
            try:
                melody.from_quantized_sequence(
                    quantized,
                    instrument=instrument,
                    search_start_step=start,
                    gap_bars=rules.gap_bars,
                    ignore_polyphonic_notes=rules.ignore_polyphonic_notes,
                    pad_end=False,
                    filter_drums=True,
                )
            except note_seq.PolyphonicMelodyError:
                stats["polyphonic_tracks_discarded"] += 1
                break
            # The next search starts on the bar boundary at or after this melody's end.
            start = melody.end_step + (-melody.end_step) % steps_per_bar
            if not melody:
                break
            if len(melody) < melody.steps_per_bar * rules.min_bars:
                stats["melodies_discarded_too_short"] += 1
                continue
            if len(melody) > rules.max_steps:
                melody.set_length(rules.max_steps)
                stats["melodies_truncated"] += 1
            if np.count_nonzero(melody.get_note_histogram()) < rules.min_unique_pitches:
                stats["melodies_discarded_too_few_pitches"] += 1
                continue
            melody.squash(rules.min_note, rules.max_note, rules.transpose_to_key)
            melodies.append(np.fromiter(melody, dtype=EVENT_DTYPE, count=len(melody)))
    return melodies


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


def load_melodies(
    folder: Path, rules: ExtractionRules | None = None, *, progress: bool = False
) -> MelodyCorpus:
    """Extract every training melody under ``folder``; unreadable files are skipped and counted."""
    rules = rules or ExtractionRules()
    corpus = MelodyCorpus()
    for path in tqdm(_music_files(folder), desc="melodies", unit="file", disable=not progress):
        stats: Counter[str] = Counter()
        try:
            melodies = [
                melody
                for sequence in _read_sequences(path, stats)
                for melody in melodies_from_sequence(sequence, rules, stats)
            ]
        except Exception as error:  # a file that fails anywhere is skipped, never a crash
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:160]
            corpus.skipped_files[path.relative_to(folder).as_posix()] = reason
            continue
        corpus.files_read += 1
        corpus.melodies += melodies
        corpus.stats += stats
    return corpus


def save_corpus(path: Path, melodies: Sequence[np.ndarray]) -> None:
    """Store melodies as one flat event array plus offsets (atomic write)."""
    lengths = np.fromiter((len(m) for m in melodies), dtype=np.int64, count=len(melodies))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    events = np.concatenate(melodies).astype(EVENT_DTYPE) if melodies else np.zeros(0, EVENT_DTYPE)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        np.savez_compressed(handle, events=events, offsets=offsets)
    os.replace(tmp, path)


def load_corpus(path: Path) -> list[np.ndarray]:
    """Melodies saved by :func:`save_corpus`, as read-only views of one array."""
    with np.load(path) as data:
        events, offsets = data["events"], data["offsets"]
    if offsets[0] != 0 or offsets[-1] != len(events) or np.any(np.diff(offsets) < 0):
        raise ValueError(f"{path}: offsets do not describe the events array")
    events.flags.writeable = False
    return [events[a:b] for a, b in itertools.pairwise(offsets)]


def build_corpus(
    src_folder: Path,
    out_npz: Path,
    rules: ExtractionRules | None = None,
    *,
    exclude: Path | None = None,
) -> MelodyCorpus:
    """CLI entry: extract ``src_folder`` into ``out_npz`` plus a ``.json`` account beside it.

    Melodies equal to one in the ``exclude`` corpus are dropped: pass the train corpus
    when building valid and test, because one tune transcribed twice (in two
    collections, or in two keys that squash makes equal) would flatter held-out scores.
    """
    rules = rules or ExtractionRules()
    started = time.perf_counter()
    corpus = load_melodies(src_folder, rules, progress=True)
    if exclude is not None:
        seen = {melody.tobytes() for melody in load_corpus(exclude)}
        kept = [melody for melody in corpus.melodies if melody.tobytes() not in seen]
        corpus.stats["melodies_discarded_in_excluded_corpus"] += len(corpus.melodies) - len(kept)
        corpus.melodies = kept
    save_corpus(out_npz, corpus.melodies)
    report = {
        "source": str(src_folder),
        "excluded_corpus": None if exclude is None else str(exclude),
        "rules": asdict(rules),
        "melodies": len(corpus.melodies),
        "steps": corpus.steps,
        "files_read": corpus.files_read,
        "files_skipped": len(corpus.skipped_files),
        "skipped_files": corpus.skipped_files,
        "stats": dict(sorted(corpus.stats.items())),
        "seconds": round(time.perf_counter() - started, 1),
    }
    out_npz.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    return corpus
