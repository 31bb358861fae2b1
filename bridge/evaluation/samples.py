"""Samples for evaluation, made through the same tools the daemon serves.

A model makes music the way a user would get it: an events RNN (native or on the magenta
backend) continues each held-out primer (`continue`), a MusicVAE samples its prior
(`generate`) and interpolates between held-out references (`interpolate`), a GrooVAE drumifies
or grooves each reference, a Coconet harmonizes each reference's top voice (`harmonize`; its
four voices are kept apart for the part-writing statistics). Every call has its own seed (the
run's seed plus the piece's index), so the samples are the same on every run and the baseline
meets the same primers. A row with Continue's controls (`controls.py`) passes them with every
continuation, and each call is checked by its tool before it runs, as the daemon checks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from tqdm import tqdm

from bridge.config import Limits
from bridge.evaluation.baseline import NGramBaseline
from bridge.evaluation.controls import NO_CONTROLS, Controls
from bridge.evaluation.heldout import HeldOutPiece
from bridge.models.catalog import ModelSpec
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.tools.params import parse_params
from bridge.tools.registry import TOOLS


@dataclass(frozen=True)
class SampleOptions:
    count: int = 16  # held-out pieces (and prior samples)
    primer_bars: int = 2
    bars: int = 4  # bars each sample and reference holds
    seed: int = 0
    temperature: float = 1.0  # events RNNs and the n-gram baseline
    vae_temperature: float = 0.5  # MusicVAE decoding (the tools' default)
    interpolation_steps: int = 5


@dataclass(frozen=True)
class Samples:
    task: str  # the tool that made them
    clips: list[Clip]
    interpolations: list[list[Clip]] = field(default_factory=list)
    voices: list[np.ndarray] = field(default_factory=list)  # four-voice samples: [step, voice]
    refused: int = 0  # pieces the model could not read (their message is in `errors`)
    errors: list[str] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)  # each clip's held-out piece (none: prior)


# The first of these a model serves makes its samples.
SAMPLE_TOOLS = ("continue", "groove", "drumify", "generate", "harmonize")


def task_for(spec: ModelSpec) -> str:
    """The tool that makes a model's samples: what the model is for."""
    if spec.content == "trio":
        raise ValueError(f"{spec.name}: trio models are not evaluated on clips")
    for name in SAMPLE_TOOLS:
        if TOOLS[name].serves(spec):
            return name
    raise ValueError(f"{spec.name}: no tool makes samples of a {spec.family} model")


def model_samples(
    model: Any,
    spec: ModelSpec,
    pieces: Sequence[HeldOutPiece],
    options: SampleOptions,
    limits: Limits,
    controls: Controls = NO_CONTROLS,
) -> Samples:
    """The model's samples for these pieces (see the module's docstring), continued under
    `controls` if any."""
    task = task_for(spec)
    if controls and task != "continue":
        raise ValueError(f"{spec.name}: controls are Continue's; its samples come from {task}")
    if task == "generate":
        params = {"variations": len(pieces), "bars": options.bars, "seed": options.seed}
        clips = _run(
            task, model, spec, [], {**params, "temperature": options.vae_temperature}, limits
        )
        return Samples(task, clips, _interpolations(model, spec, pieces, options, limits))
    if task == "harmonize":
        return _harmonizations(model, spec, pieces, options, limits)
    clips, errors, sources = [], [], []
    for index, piece in enumerate(tqdm(pieces, desc=f"{spec.name}: {task}", unit="piece")):
        seed = options.seed + index
        try:
            if task == "continue":
                inputs = [piece.primer]
                params = {"bars": options.bars, "temperature": options.temperature, "seed": seed}
                params |= controls.params(piece.primer)
            else:
                inputs, params = [piece.reference], {"variations": 1, "seed": seed}
            made = _run(task, model, spec, inputs, params, limits)
        except ClipError as error:
            errors.append(f"{piece.name}: {error}")
            continue
        clips += made
        sources += [index] * len(made)
    return Samples(task, clips, refused=len(errors), errors=errors, sources=sources)


def _harmonizations(
    model: Any,
    spec: ModelSpec,
    pieces: Sequence[HeldOutPiece],
    options: SampleOptions,
    limits: Limits,
) -> Samples:
    """Four voices under each reference's top voice (its soprano), at the sampling
    temperature the tool defaults to: one clip of every voice, and the voices apart."""
    from bridge.models.coconet.generator import read_voices, voice_pitches

    clips, voices, errors, sources = [], [], [], []
    for index, piece in enumerate(tqdm(pieces, desc=f"{spec.name}: harmonize", unit="piece")):
        params = {"variations": 1, "seed": options.seed + index, "voices_apart": True}
        try:
            soprano = read_voices(piece.reference)[0]
            chorale = _run("harmonize", model, spec, [soprano], params, limits)
        except ClipError as error:
            errors.append(f"{piece.name}: {error}")
            continue
        notes = [note for voice in chorale for note in voice.notes]
        clips.append(replace(piece.reference, notes=tuple(sorted(notes, key=_onset))))
        voices.append(voice_pitches(chorale, piece.reference.length))
        sources.append(index)
    return Samples("harmonize", clips, [], voices, len(errors), errors, sources)


def _onset(note: Note) -> tuple[float, int]:
    return note.start, -note.pitch


def baseline_samples(
    baseline: NGramBaseline, pieces: Sequence[HeldOutPiece], options: SampleOptions
) -> Samples:
    """The n-gram's continuations of the same primers, seeded as a model's are."""
    clips = [
        baseline.continue_clip(piece.primer, options.bars, options.seed + index)
        for index, piece in enumerate(tqdm(pieces, desc=f"{baseline.name}: continue"))
    ]
    return Samples("continue", clips, sources=list(range(len(clips))))


def _interpolations(
    model: Any,
    spec: ModelSpec,
    pieces: Sequence[HeldOutPiece],
    options: SampleOptions,
    limits: Limits,
) -> list[list[Clip]]:
    """A MusicVAE's interpolations between pairs of references (1 and 2, 3 and 4...)."""
    paths = []
    for pair in range(len(pieces) // 2):
        start, end = pieces[2 * pair].reference, pieces[2 * pair + 1].reference
        params = {
            "steps": options.interpolation_steps,
            "temperature": options.vae_temperature,
            "seed": options.seed + pair,
        }
        paths.append(_run("interpolate", model, spec, [start, end], params, limits))
    return paths


def _run(
    task: str,
    model: Any,
    spec: ModelSpec,
    inputs: list[Clip],
    given: Mapping[str, Any],
    limits: Limits,
) -> list[Clip]:
    """One call of a tool from the registry, its parameters and inputs checked as the daemon
    checks them."""
    tool = TOOLS[task]
    params = parse_params(tool.params, dict(given), limits)
    tool.check(spec, inputs, params, limits)
    (results,) = tool.run(model, spec, [(inputs, params)], limits, lambda *_: None)
    return results
