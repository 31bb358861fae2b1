"""A comparison written out: a Markdown report with tables, PNG figures, optional WAVs.

Figures are drawn with matplotlib's Agg backend (no display needed), small enough to commit:
metric bars per model, pitch-class (or drum-class) and onset-position histograms, and piano
rolls of the first samples of each row. WAVs are rendered by FluidSynth through
`bridge.render`, for a listening test beside the numbers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bridge.evaluation.chorale_metrics import VOICES
from bridge.evaluation.comparison import Comparison, Entry
from bridge.evaluation.metrics import (
    STEPS_PER_QUARTER,
    onset_position_histogram,
    pitch_class_histogram,
)
from bridge.music.clip import Clip
from bridge.music.drums import DRUM_CLASS_NAMES, drum_class

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
BARS = (  # metric, label: the bars figure
    ("pitch_class_distance", "pitch-class distance (lower: closer)"),
    ("onset_position_distance", "rhythm distance (lower: closer)"),
    ("pitch_range", "pitch range (semitones)"),
    ("note_density", "notes per bar"),
    ("in_scale_ratio", "in-scale ratio"),
    ("in_primer_key_ratio", "in the primer's key"),
    ("max_simultaneous_notes", "most notes at once"),
    ("repeated_bar_rate", "repeated-bar rate"),
)
ROLLS = 4  # samples drawn per row in the piano rolls
DPI = 72


def strict_json(data: object) -> str:
    """JSON with a statistic a clip cannot have (NaN) written as null: Python reads NaN, but
    strict readers (JavaScript, jq) refuse it."""

    def clean(value: object) -> object:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [clean(item) for item in value]
        return value

    return json.dumps(clean(data), indent=1, default=str, allow_nan=False)


def write_report(
    comparison: Comparison,
    out: Path,
    command: str,
    render: bool = False,
    soundfont: Path | None = None,
    listen: int = 4,
) -> Path:
    """Write `out/report.md`, its figures, `results.json` (and `audio/*.wav` if `render`)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(strict_json(comparison.summary()))
    figures = [
        _metric_bars(comparison.entries, out / "metrics.png"),
        _histograms(comparison.entries, out / "histograms.png"),
        _piano_rolls(comparison.entries, out / "piano_rolls.png"),
    ]
    audio = _render(comparison.entries, out / "audio", soundfont, listen) if render else []
    report = out / "report.md"
    report.write_text(_markdown(comparison, command, figures, audio, out))
    return report


def _markdown(
    comparison: Comparison, command: str, figures: list[Path], audio: list[Path], out: Path
) -> str:
    """The report: what was compared and how, a table per kind of score (those no row has
    are left out), the rows' descriptions, then the figures and WAVs, linked relative to
    `out` so the folder can move."""
    entries = comparison.entries
    lines = _introduction(comparison, command)
    lines += _likelihood_table(entries)
    lines += _reconstruction_table(entries)
    lines += _orderless_table(entries)
    lines += _statistics_table(comparison)
    lines += _texture_table(entries)
    lines += _part_writing_table(entries)
    lines += _smoothness_table(entries, comparison.options.interpolation_steps)
    lines += _rows(entries)
    lines += _media(figures, audio, out)
    return "\n".join(lines) + "\n"


def _introduction(comparison: Comparison, command: str) -> list[str]:
    """Title, command and the held-out protocol, so the report can be reproduced."""
    options = comparison.options
    return [
        f"# Model comparison: {comparison.content}",
        "",
        f"Made by `{command}`.",
        "",
        f"Held-out music: {len(comparison.pieces)} pieces in 4/4 of `{comparison.data}` "
        f"(listed in `results.json`), each cut into a {options.primer_bars}-bar primer and the "
        f"{options.bars} bars after it (the reference). Seed {options.seed}: piece i is "
        f"continued with seed {options.seed} + i by every model and the baseline. Metric "
        "definitions: `docs/evaluation.md`.",
        "",
    ]


def _likelihood_table(entries: Sequence[Entry]) -> list[str]:
    """Events RNNs and their n-gram baseline, scored per event; none if no row has steps."""
    rnn = [e for e in entries if "steps" in e.likelihood.get("model", {})]
    if not rnn:
        return []
    lines = [
        "## Held-out likelihood (teacher forced, per event)",
        "",
        "| model | NLL per event (nats) | event accuracy | NLL per class | class accuracy "
        "| scored events |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in rnn:
        m = entry.likelihood["model"]
        if entry.role == "baseline":  # an n-gram predicts events: its classes are events
            events = (m["nll_per_step"], m["accuracy"])
        else:
            events = (m["event_nll_per_step"], m["event_accuracy"])
        lines.append(
            f"| {entry.name} | {_f(events[0])} | {_f(events[1])} | {_f(m['nll_per_step'])} | "
            f"{_f(m['accuracy'])} | {int(m['steps']):,} |"
        )
    return [*lines, ""]


def _reconstruction_table(entries: Sequence[Entry]) -> list[str]:
    """MusicVAEs' held-out KL and reconstruction; none if no row is a MusicVAE."""
    vae = [e for e in entries if "kl_bits" in e.likelihood]
    if not vae:
        return []
    lines = [
        "## Held-out reconstruction (MusicVAE, posterior mean)",
        "",
        "| model | windows | KL (bits) | reconstruction loss | teacher-forced accuracy "
        "| greedy reconstruction accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in vae:
        v = entry.likelihood
        lines.append(
            f"| {entry.name} | {v['test_windows']:,} | {_f(v['kl_bits'], 1)} | "
            f"{_f(v['r_loss'], 2)} | {_f(v['accuracy'])} | {_f(v['greedy_accuracy'])} |"
        )
    return [*lines, ""]


def _orderless_table(entries: Sequence[Entry]) -> list[str]:
    """Coconets' held-out scores (training/coconet/evaluation.py); none if no row is one."""
    rows = [
        (e.name, e.likelihood["model"])
        for e in entries
        if "harmonization_nll" in e.likelihood.get("model", {})
    ]
    if not rows:
        return []
    lines = [
        "## Held-out likelihood (Coconet, orderless masks, per note)",
        "",
        "| model | NLL per note (nats) | accuracy | harmonization NLL |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, m in rows:
        lines.append(
            f"| {name} | {_f(m['nll'])} | {_f(m['accuracy'])} | {_f(m['harmonization_nll'])} |"
        )
    return [*lines, ""]


def _part_writing_table(entries: Sequence[Entry]) -> list[str]:
    """Part-writing statistics of the four-voice rows; none if no row has voices."""
    voiced = [e for e in entries if "crossing_share" in e.statistics]
    if not voiced:
        return []
    lines = [
        "## Part writing (four voices)",
        "",
        "| row | voice crossings | parallel fifths | parallel octaves | in key "
        "| outside textbook ranges | soprano | alto | tenor | bass |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for entry in voiced:
        s = entry.statistics
        ranges = " | ".join(
            f"{_f(s[f'{voice}_lowest'], 0)}-{_f(s[f'{voice}_highest'], 0)}" for voice in VOICES
        )
        lines.append(
            f"| {entry.name} | {_f(s['crossing_share'])} | {_f(s['parallel_fifths_share'])} | "
            f"{_f(s['parallel_octaves_share'])} | {_f(s['in_key_ratio'])} | "
            f"{_f(s['out_of_range_share'])} | {ranges} |"
        )
    return [*lines, ""]


def _statistics_table(comparison: Comparison) -> list[str]:
    """Every row's musical statistics (drum classes in place of pitch classes for drums)."""
    classes = "drum-class" if comparison.content == "drums" else "pitch-class"
    lines = [
        "## Musical statistics of the samples",
        "",
        f"| row | task | samples | {classes} distance | rhythm distance | pitch range "
        "| notes per bar | in-scale ratio | repeated-bar rate | silent |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in comparison.entries:
        s = entry.statistics
        lines.append(
            f"| {entry.name} | {entry.samples.task} | {len(entry.samples.clips)} | "
            f"{_f(s['pitch_class_distance'])} | {_f(s['onset_position_distance'])} | "
            f"{_f(s['pitch_range'], 1)} | {_f(s['note_density'], 2)} | "
            f"{_f(s['in_scale_ratio'])} | {_f(s['repeated_bar_rate'])} | "
            f"{_f(s['silent_share'], 2)} |"
        )
    return [*lines, ""]


def _texture_table(entries: Sequence[Entry]) -> list[str]:
    """What Continue's controls act on: notes per bar and their spread over the bars, notes
    sounding at once, the share in each primer's key; each row's controls beside."""
    lines = [
        "## Density, notes at once and key",
        "",
        "| row | controls | notes per bar | sd over bars | most notes at once (mean) "
        "| most notes at once (any sample) | in the primer's key |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in entries:
        s = entry.statistics
        controls = ", ".join(f"{name}={value}" for name, value in entry.controls.items())
        lines.append(
            f"| {entry.name} | {controls or '-'} | {_f(s['note_density'], 2)} | "
            f"{_f(s['note_density_sd'], 2)} | {_f(s['simultaneous_notes'], 2)} | "
            f"{_f(s['max_simultaneous_notes'], 0)} | {_f(s['in_primer_key_ratio'])} |"
        )
    return [*lines, ""]


def _smoothness_table(entries: Sequence[Entry], interpolation_steps: int) -> list[str]:
    """How smoothly the interpolating rows move; none if no row interpolates."""
    smooth = [e for e in entries if e.smoothness]
    if not smooth:
        return []
    lines = [
        "## Interpolation smoothness",
        "",
        f"Between references 1 and 2, 3 and 4...: {interpolation_steps} clips each, "
        "ends included; distance = 1 - Jaccard similarity of the onsets.",
        "",
        "| model | mean neighbour distance | largest jump | endpoint distance |",
        "| --- | ---: | ---: | ---: |",
    ]
    for entry in smooth:
        m = entry.smoothness
        lines.append(
            f"| {entry.name} | {_f(m['neighbour_distance'])} | {_f(m['largest_jump'])} | "
            f"{_f(m['endpoint_distance'])} |"
        )
    return [*lines, ""]


def _rows(entries: Sequence[Entry]) -> list[str]:
    """What each row is, then every row's notes (caveats a reader needs beside the numbers)."""
    lines = ["## Rows", ""]
    lines += [f"- **{entry.name}**: {entry.description}" for entry in entries]
    notes = [(entry.name, note) for entry in entries for note in entry.notes]
    return lines + [f"- {name}: {note}" for name, note in notes]


def _media(figures: list[Path], audio: list[Path], out: Path) -> list[str]:
    """Figures inline and WAVs as links (a Listen section only when audio was rendered)."""
    lines = ["", "## Figures", ""]
    lines += [f"![{path.stem}]({path.relative_to(out)})" for path in figures]
    if audio:
        lines += ["", "## Listen", ""]
        lines += [f"- [{path.stem}]({path.relative_to(out)})" for path in audio]
    return lines


def _f(value: float, digits: int = 3) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _pyplot():  # imported on first use: evaluate without a report never loads matplotlib
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _metric_bars(entries: Sequence[Entry], path: Path) -> Path:
    plt = _pyplot()
    shown = [
        (key, label) for key, label in BARS if any(_finite(e.statistics[key]) for e in entries)
    ]
    figure, axes = plt.subplots(1, len(shown), figsize=(2.3 * len(shown), 2.8), squeeze=False)
    names = [entry.name for entry in entries]
    colours = [f"C{index}" for index in range(len(entries))]
    for axis, (key, label) in zip(axes[0], shown, strict=True):
        values = [entry.statistics[key] for entry in entries]
        axis.bar(range(len(values)), np.nan_to_num(values), color=colours)
        axis.set_title(label, fontsize=8)
        axis.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        axis.tick_params(axis="y", labelsize=7)
    return _save(plt, figure, path)


def _histograms(entries: Sequence[Entry], path: Path) -> Path:
    plt = _pyplot()
    figure, (pitch, rhythm) = plt.subplots(1, 2, figsize=(10, 3))
    drums = all(clip.drums for entry in entries for clip in entry.samples.clips)
    width = 0.8 / len(entries)
    for index, entry in enumerate(entries):
        histogram = pitch_class_histogram(entry.samples.clips)
        positions = np.arange(len(histogram)) + index * width - 0.4 + width / 2
        pitch.bar(positions, histogram, width, label=entry.name, color=f"C{index}")
        onsets_per_step = onset_position_histogram(entry.samples.clips)
        rhythm.plot(onsets_per_step, marker="o", markersize=3, label=entry.name, color=f"C{index}")
    labels = DRUM_CLASS_NAMES if drums else PITCH_NAMES
    pitch.set_xticks(range(len(labels)), labels, fontsize=7, rotation=45 if drums else 0)
    pitch.set_title("drum classes" if drums else "pitch classes", fontsize=9)
    rhythm.set_title("onsets per 16th of the bar", fontsize=9)
    rhythm.set_xlabel("16th step in the bar", fontsize=8)
    for axis in (pitch, rhythm):
        axis.tick_params(labelsize=7)
    pitch.legend(fontsize=7)
    return _save(plt, figure, path)


def _piano_rolls(entries: Sequence[Entry], path: Path) -> Path:
    plt = _pyplot()
    rows, columns = len(entries), ROLLS
    figure, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 1.3 * rows), squeeze=False)
    for row, entry in enumerate(entries):
        for column in range(columns):
            axis = axes[row][column]
            axis.set_xticks([])
            axis.tick_params(labelsize=6)
            clips = entry.samples.clips
            if column < len(clips):
                _roll(axis, clips[column], f"C{row}")
            if column == 0:
                axis.set_ylabel(entry.name, fontsize=7)
    return _save(plt, figure, path, pad=0.3)


def _save(plt, figure, path: Path, pad: float = 1.08) -> Path:
    """Lay the figure out (matplotlib's default padding unless `pad`), write it, free it."""
    figure.tight_layout(pad=pad)
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def _roll(axis, clip: Clip, colour: str) -> None:
    """Notes as bars (drums: a 16th on the row of their drum class), bar lines dotted."""
    for note in clip.audible_notes:
        key = drum_class(note.pitch) if clip.drums else note.pitch
        if key is not None:
            length = 1 / STEPS_PER_QUARTER if clip.drums else note.duration
            axis.broken_barh([(note.start, length)], (key - 0.4, 0.8), color=colour)
    for bar in np.arange(0, clip.length + 1e-9, clip.beats_per_bar):
        axis.axvline(bar, color="0.7", linewidth=0.5, linestyle=":")
    axis.set_xlim(0, clip.length)


def _render(
    entries: Sequence[Entry], folder: Path, soundfont: Path | None, listen: int
) -> list[Path]:
    """The first `listen` samples of each row as WAVs."""
    from bridge.render.fluidsynth_render import render_clip
    from bridge.render.soundfont import find_soundfont

    font = find_soundfont(soundfont)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in entries:
        for index, clip in enumerate(entry.samples.clips[:listen], start=1):
            wav = folder / f"{_slug(entry.name)}-{index}.wav"
            written.append(render_clip(clip, wav, font, is_drum=clip.drums))
    return written


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _finite(value: float) -> bool:
    return not math.isnan(value)
