"""Models measured side by side on the same held-out music, seeds and baseline.

One function makes every row: each model's teacher-forced scores on the held-out folder and
the musical statistics of its samples (`samples.py`, `metrics.py`), the n-gram baseline's
continuations of the same primers and its NLL, and the held-out music itself, whose own
distances are between its two halves (even and odd pieces): what a model as good as the data
would score with this few samples. Rows of four-voice samples (harmonizations) also get the
part-writing statistics of `chorale_metrics.py`, and so do the held-out pieces when they are
four-track chorales. `evaluate` is this with one model, `compare` with several.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bridge.config import Limits
from bridge.evaluation.baseline import NGramBaseline
from bridge.evaluation.chorale_metrics import chorale_statistics
from bridge.evaluation.heldout import HeldOutPiece, read_held_out
from bridge.evaluation.metrics import interpolation_smoothness, sample_statistics
from bridge.evaluation.samples import SampleOptions, Samples, baseline_samples, model_samples
from bridge.models.catalog import ModelSpec
from bridge.music.clip import Clip
from bridge.training.scoring import held_out_scores

HELD_OUT = "held-out"
DEFAULT_OPTIONS, DEFAULT_LIMITS = SampleOptions(), Limits()


@dataclass(frozen=True)
class Entry:
    """One row: a model, the baseline or the held-out music."""

    name: str
    role: str  # "model", "baseline" or "held-out"
    description: str
    samples: Samples
    statistics: dict[str, float]
    likelihood: dict[str, Any] = field(default_factory=dict)
    smoothness: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Everything but the clips, for JSON."""
        return {
            "role": self.role,
            "description": self.description,
            "task": self.samples.task,
            "samples": len(self.samples.clips),
            "refused": self.samples.refused,
            "statistics": self.statistics,
            "likelihood": self.likelihood,
            "smoothness": self.smoothness,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Comparison:
    content: str
    data: Path
    pieces: list[HeldOutPiece]
    options: SampleOptions
    entries: list[Entry]

    def summary(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "data": str(self.data),
            "pieces": [piece.name for piece in self.pieces],
            "options": self.options.__dict__,
            "entries": {entry.name: entry.summary() for entry in self.entries},
        }


def compare_models(
    specs: Sequence[ModelSpec],
    data: Path,
    train: Path,
    options: SampleOptions = DEFAULT_OPTIONS,
    order: int = 5,
    limits: Limits = DEFAULT_LIMITS,
    teacher_forced: bool = True,
) -> Comparison:
    """Every model of `specs` (one kind of music), the `order`-gram fitted on `train` and the
    held-out pieces of `data`, measured alike (`teacher_forced=False`: samples only, for a
    caller that scores the models itself)."""
    from bridge.models.loading import load_model

    contents = {spec.content for spec in specs}
    if len(contents) != 1:
        kinds = ", ".join(f"{spec.name}: {spec.content}" for spec in specs)
        raise ValueError(f"compare models of one kind of music on one data set, not {kinds}")
    content = contents.pop()
    pieces = read_held_out(data, options.count, options.primer_bars, options.bars, options.seed)
    references = [piece.reference for piece in pieces]
    entries = []
    for spec in specs:
        model = load_model(spec)
        try:
            samples = model_samples(model, spec, pieces, options, limits)
        finally:
            close = getattr(model, "close", None)  # the magenta backend's worker process
            if close is not None:
                close()
        notes = [f"could not read {error}" for error in samples.errors]
        scores: dict[str, Any] = {}
        if spec.backend != "native":
            notes.append("no teacher-forced scores on the magenta backend (see likelihood.py)")
        elif teacher_forced:
            scores = held_out_scores(spec, data)
        entries.append(
            Entry(
                spec.name,
                "model",
                _describe(spec),
                samples,
                sample_statistics(samples.clips, references) | _part_writing(samples.voices),
                scores,
                _smoothness(samples.interpolations),
                notes,
            )
        )
    baseline = NGramBaseline.fit(content, train, order)
    samples = baseline_samples(baseline, pieces, options)
    entries.append(
        Entry(
            baseline.name,
            "baseline",
            f"interpolated Kneser-Ney {baseline.name} fitted on {train}",
            samples,
            sample_statistics(samples.clips, references),
            {"model": baseline.ngram.evaluate(baseline.read_sequences(data))}
            if teacher_forced
            else {},
        )
    )
    voiced = any(entry.samples.voices for entry in entries)
    entries.append(_held_out_entry(pieces, data, options, voiced))
    return Comparison(content, data, pieces, options, entries)


def _held_out_entry(
    pieces: list[HeldOutPiece], data: Path, options: SampleOptions, voiced: bool
) -> Entry:
    references = [piece.reference for piece in pieces]
    statistics = sample_statistics(references, references)
    halves = sample_statistics(references[1::2], references[0::2])
    for name in ("pitch_class_distance", "onset_position_distance"):
        statistics[name] = halves[name]
    voices, notes = _held_out_voices(pieces, data, options) if voiced else ([], [])
    return Entry(
        HELD_OUT,
        "held-out",
        f"the real bars that follow each primer in {data} (distances: odd pieces to even)",
        Samples("reference", references, voices=voices),
        statistics | _part_writing(voices),
        notes=notes,
    )


def _held_out_voices(
    pieces: list[HeldOutPiece], data: Path, options: SampleOptions
) -> tuple[list[np.ndarray], list[str]]:
    """The references' voices as their files' tracks hold them (soprano first), and a note
    for each piece that is not a four-track chorale."""
    from bridge.training.coconet.corpus import ChoraleError, chorale_pitches

    steps_per_bar = 16  # 16ths in a 4/4 bar: held-out pieces are 4/4
    start = options.primer_bars * steps_per_bar
    voices, notes = [], []
    for piece in pieces:
        try:
            pitches = chorale_pitches(data / piece.name)
        except (ChoraleError, OSError) as error:
            notes.append(f"{piece.name}: no part-writing statistics ({error})")
            continue
        voices.append(pitches[start : start + options.bars * steps_per_bar])
    return voices, notes


def _part_writing(voices: Sequence[np.ndarray]) -> dict[str, float]:
    """Chorale statistics of four-voice samples (none for other music)."""
    return chorale_statistics(voices) if voices else {}


def _smoothness(paths: Sequence[list[Clip]]) -> dict[str, float]:
    """Each smoothness figure averaged over the interpolations (none: empty)."""
    if not paths:
        return {}
    each = [interpolation_smoothness(path) for path in paths]
    return {name: float(np.mean([one[name] for one in each])) for name in each[0]}


def _describe(spec: ModelSpec) -> str:
    kind = spec.family + (f" {spec.config}" if spec.config else "")
    backend = ", magenta backend" if spec.backend == "magenta" else ""
    path = Path(spec.path)
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    return f"{kind}{backend}: {shown}"
