"""Models measured side by side on the same held-out music, seeds and baseline.

One function makes every row: each model's teacher-forced scores on the held-out folder and
the musical statistics of its samples (`samples.py`, `metrics.py`), the n-gram baseline's
continuations of the same primers and its NLL, and the held-out music itself, whose own
distances are between its two halves (even and odd pieces): what a model as good as the data
would score with this few samples. Rows of four-voice samples (harmonizations) also get the
part-writing statistics of `chorale_metrics.py`, and so do the held-out pieces when they are
four-track chorales. A model row may sample under Continue's controls (`controls.py`): it
is labelled as written, and its held-out scores are its model's, so they are left to the
plain row. `evaluate` is this with one model, `compare` with several.
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
from bridge.evaluation.model_argument import ModelRow
from bridge.evaluation.samples import SampleOptions, Samples, baseline_samples, model_samples
from bridge.models.catalog import ModelSpec
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.music.scales import Key, estimate_key
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
    controls: dict[str, Any] = field(default_factory=dict)  # Continue's, as the row gave them

    def summary(self) -> dict[str, Any]:
        """Everything but the clips, for JSON."""
        return {
            "role": self.role,
            "description": self.description,
            "controls": self.controls,
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
    models: Sequence[ModelSpec | ModelRow],
    data: Path,
    train: Path,
    options: SampleOptions = DEFAULT_OPTIONS,
    order: int = 5,
    limits: Limits = DEFAULT_LIMITS,
    teacher_forced: bool = True,
) -> Comparison:
    """Every model row (one kind of music; a bare spec is a row without controls), the
    `order`-gram fitted on `train` and the held-out pieces of `data`, measured alike
    (`teacher_forced=False`: samples only, for a caller that scores the models itself)."""
    from bridge.models.loading import load_model

    rows = [model if isinstance(model, ModelRow) else ModelRow(model) for model in models]
    contents = {row.spec.content for row in rows}
    if len(contents) != 1:
        kinds = ", ".join(f"{row.name}: {row.spec.content}" for row in rows)
        raise ValueError(f"compare models of one kind of music on one data set, not {kinds}")
    names = [row.name for row in rows]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"each row once: {', '.join(twice)} is given twice")
    content = contents.pop()
    pieces = read_held_out(data, options.count, options.primer_bars, options.bars, options.seed)
    references = [piece.reference for piece in pieces]
    keys = _primer_keys(pieces)
    entries = []
    for row in rows:
        spec = row.spec
        model = load_model(spec)
        try:
            samples = model_samples(model, spec, pieces, options, limits, row.controls)
        finally:
            close = getattr(model, "close", None)  # the magenta backend's worker process
            if close is not None:
                close()
        notes = [f"could not read {error}" for error in samples.errors]
        scores: dict[str, Any] = {}
        if row.controls:
            notes.append(
                f"held-out scores: those of {spec.name} (controls act only while sampling)"
            )
        elif spec.backend != "native":
            notes.append("no teacher-forced scores on the magenta backend (see likelihood.py)")
        elif teacher_forced:
            scores = held_out_scores(spec, data)
        entries.append(
            Entry(
                row.name,
                "model",
                _describe(spec)
                + (f", continued with {row.controls.describe()}" if row.controls else ""),
                samples,
                _statistics(samples, references, keys) | _part_writing(samples.voices),
                scores,
                _smoothness(samples.interpolations),
                notes,
                dict(row.controls.values),
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
            _statistics(samples, references, keys),
            {"model": baseline.ngram.evaluate(baseline.read_sequences(data))}
            if teacher_forced
            else {},
        )
    )
    voiced = any(entry.samples.voices for entry in entries)
    entries.append(_held_out_entry(pieces, data, options, voiced, keys))
    return Comparison(content, data, pieces, options, entries)


def _primer_keys(pieces: Sequence[HeldOutPiece]) -> list[Key | None]:
    """Each piece's primer's estimated key, as `key=primer` locks to it (None: drums, or no
    audible note to estimate from)."""
    keys: list[Key | None] = []
    for piece in pieces:
        try:
            keys.append(None if piece.primer.drums else estimate_key(piece.primer))
        except ClipError:
            keys.append(None)
    return keys


def _statistics(
    samples: Samples, references: Sequence[Clip], keys: Sequence[Key | None]
) -> dict[str, float]:
    """`sample_statistics`, each sample in the key of the primer it answers (prior samples,
    which answer none: no key)."""
    sample_keys = [keys[source] for source in samples.sources] if samples.sources else None
    return sample_statistics(samples.clips, references, sample_keys)


def _held_out_entry(
    pieces: list[HeldOutPiece],
    data: Path,
    options: SampleOptions,
    voiced: bool,
    keys: Sequence[Key | None],
) -> Entry:
    references = [piece.reference for piece in pieces]
    statistics = sample_statistics(references, references, keys)
    halves = sample_statistics(references[1::2], references[0::2])
    for name in ("pitch_class_distance", "onset_position_distance"):
        statistics[name] = halves[name]
    voices, notes = _held_out_voices(pieces, data, options) if voiced else ([], [])
    return Entry(
        HELD_OUT,
        "held-out",
        f"the real bars that follow each primer in {data} (distances: odd pieces to even)",
        Samples("reference", references, voices=voices, sources=list(range(len(pieces)))),
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
