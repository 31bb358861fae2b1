"""`magenta-bridge generate`, `interpolate`, `vary`, `groove` and `drumify`: the MusicVAE
tools, in this process, over one clip, two, or batches of files (trio models included)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.frontends.cli.common import add_model_options, add_param_options

if TYPE_CHECKING:  # imported lazily at run time: `--help` must not load the models
    from bridge.frontends.cli.common import Commands
    from bridge.models.catalog import ModelSpec
    from bridge.models.music_vae.trio_data import Trio

LATENT_INPUTS = {
    "generate": ([], "sample new clips from a MusicVAE's prior"),
    "interpolate": (["start", "end"], "morph from one clip to another through a MusicVAE"),
    "vary": (["inputs"], "variations of each clip (a batch form: many files, one folder)"),
    "groove": (["inputs"], "humanize drum clips: velocities and timing (files or folders)"),
    "drumify": (["inputs"], "drums to the rhythm of each clip (files or folders)"),
}


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add generate, interpolate, vary, groove and drumify: options from the tools'
    parameter tables, so the command line and OSC accept the same parameters."""
    from bridge.tools.registry import TOOLS

    for name, (inputs, summary) in LATENT_INPUTS.items():
        tool = TOOLS[name]
        command = commands.add_parser(
            name,
            parents=[config_option],
            help=summary,
            description=f"{tool.summary[0].upper()}{tool.summary[1:]}. Each result is written "
            "as its own MIDI file in the output folder.",
        )
        for input_name in inputs:
            batch = input_name == "inputs"
            command.add_argument(
                input_name,
                type=Path,
                nargs="+" if batch else None,
                help="MIDI files or folders of them" if batch else "MIDI file",
            )
        command.add_argument("-o", "--output", type=Path, required=True, help="output folder")
        add_model_options(command, tool.runs_on)
        add_param_options(command, tool.params)
        command.set_defaults(run=_latent, tool=name)


def _latent(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bridge.frontends.cli.common import tool_request
    from bridge.models.loading import load_model
    from bridge.models.music_vae.config import config_named
    from bridge.music.midi import read_midi, write_midi
    from bridge.tools.registry import TOOLS

    tool = TOOLS[args.tool]
    if LATENT_INPUTS[args.tool][0] == ["inputs"]:
        calls = [((read_midi(path),), path.stem) for path in _midi_files(args.inputs)]
    elif args.tool == "interpolate":
        calls = [((read_midi(args.start), read_midi(args.end)), "interpolate")]
    else:
        calls = [((), "generate")]
    first = calls[0][0][0] if calls[0][0] else None
    config, spec, why, params = tool_request(args, tool, first)
    if spec.config and config_named(spec.config).data == "trio":
        return _latent_trios(args, spec, why, params)
    for clips, stem in calls:
        try:
            tool.check(spec, clips, params, config.limits)
        except ValueError as error:
            if len(calls) > 1:  # say which file of the batch, before any work
                raise ValueError(f"{stem}: {error}") from error
            raise
    model = load_model(spec)
    print(f"model {spec.name} ({spec.config}, {why}) on {model.device}", file=sys.stderr)
    args.output.mkdir(parents=True, exist_ok=True)
    for clips, stem in tqdm(calls, desc=tool.name, unit="clip", disable=len(calls) < 2):
        (results,) = tool.run(model, spec, [(clips, params)], config.limits, lambda *_: None)
        warning = tool.warn(clips, params, results) if tool.warn else ""
        if warning:
            print(f"warning: {stem}: {warning}", file=sys.stderr)
        for index, clip in enumerate(results, start=1):
            path = args.output / f"{stem}-{index}.mid"
            write_midi(clip, path)
            if len(calls) < 2:
                print(f"{path}: {len(clip.notes)} notes over {clip.length:g} beats")
    return 0


def _latent_trios(
    args: argparse.Namespace, spec: ModelSpec, why: str, params: dict[str, Any]
) -> int:
    """generate, interpolate and vary on a trio model: each input a multi-track MIDI file (its
    first melody, bass and drum instruments), each result one too."""
    from tqdm import tqdm

    from bridge.models.loading import load_model
    from bridge.models.music_vae.config import config_named
    from bridge.models.music_vae.model import allowed_classes
    from bridge.models.music_vae.trio_data import trio_from_parts, trio_parts, trio_to_chunks
    from bridge.music.midi import read_midi_parts, write_midi_parts
    from bridge.tools.latent import run_request
    from bridge.tools.pitch_lock import pitch_lock

    def trio(path: Path) -> Trio:
        return trio_from_parts(read_midi_parts(path), f"MIDI file '{path}'")

    if args.tool == "vary":
        calls = [((trio(path),), path.stem) for path in _midi_files(args.inputs)]
    elif args.tool == "interpolate":
        calls = [((trio(args.start), trio(args.end)), "interpolate")]
    else:
        calls = [((), "generate")]
    model_config = config_named(spec.config or "")
    pitches = pitch_lock(params) if "key" in params else None
    if pitches is not None:
        allowed_classes(model_config, pitches)  # a key leaving a part nothing: refused now
    for trios, stem in calls:
        for one in trios:
            try:
                trio_to_chunks(one, model_config)  # refused before any work
            except ValueError as error:
                raise ValueError(f"{stem}: {error}") from error
    model = load_model(spec)
    print(f"model {spec.name} ({spec.config}, {why}) on {model.device}", file=sys.stderr)
    args.output.mkdir(parents=True, exist_ok=True)
    for trios, stem in tqdm(calls, desc=args.tool, unit="song", disable=len(calls) < 2):
        for index, result in enumerate(run_request(args.tool, model, trios, params), start=1):
            path = args.output / f"{stem}-{index}.mid"
            write_midi_parts(trio_parts(result), path)
            if len(calls) < 2:
                notes = sum(len(part.notes) for part in result.parts)
                print(f"{path}: a trio of {notes} notes over {result.length:g} beats")
    return 0


def _midi_files(paths: Sequence[Path]) -> list[Path]:
    """The paths given, a folder standing for its MIDI files (sorted by name)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in (".mid", ".midi"))
            if not found:
                raise OSError(f"{path} holds no .mid or .midi file")
            files += found
        else:
            files.append(path)
    return files
