"""`magenta-bridge continue`, `harmonize` and `infill`: a tool on one MIDI clip, in this
process, with the options of its parameter table, so the command line and OSC accept the
same parameters. Each variation becomes one MIDI file; a variation of several voices (a
harmonization) is one file with a track and channel per voice."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.frontends.cli.common import add_model_options, add_param_options, output_paths

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands
    from bridge.music.clip import Clip

CLIP_TOOLS = {
    "continue": "continue a MIDI clip: melody, drums, chords or performance, by the model",
    "harmonize": "harmonize a melody in four voices, the melody on top (Coconet)",
    "infill": "write a span of a one- to four-voice clip again, keeping the rest (Coconet)",
}


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add the one-clip tools; they take --config before their name only."""
    from bridge.tools.registry import TOOLS

    for name, help_text in CLIP_TOOLS.items():
        tool = TOOLS[name]
        command = commands.add_parser(
            name,
            help=help_text,
            description=f"{tool.summary[0].upper()}{tool.summary[1:]}; runs on {tool.runs_on}. "
            "Each variation is written as its own MIDI file.",
        )
        command.add_argument("input", type=Path, help="MIDI file to work on")
        command.add_argument(
            "-o",
            "--output",
            type=Path,
            required=True,
            help="output MIDI file; with several variations, NAME-1.mid, NAME-2.mid...",
        )
        add_model_options(command, tool.runs_on)
        add_param_options(command, tool.params)
        command.set_defaults(run=_run_tool, tool=name)


def _run_tool(args: argparse.Namespace) -> int:
    from bridge.frontends.cli.common import tool_request
    from bridge.models.loading import load_model
    from bridge.music.midi import read_midi
    from bridge.tools.registry import TOOLS

    tool = TOOLS[args.tool]
    clip = read_midi(args.input)
    config, spec, why, params = tool_request(args, tool, clip)
    tool.check(spec, [clip], params, config.limits)
    model = load_model(spec)
    print(f"model {spec.name} ({model.config.name}, {why}) on {model.device}", file=sys.stderr)
    (clips,) = tool.run(model, spec, [([clip], params)], config.limits, lambda *_: None)
    voices = len(clips) // params["variations"]
    variations = [clips[i : i + voices] for i in range(0, len(clips), voices)]
    for variation, path in zip(variations, output_paths(args.output, len(variations)), strict=True):
        _write(variation, path)
    return 0


def _write(voices: list[Clip], path: Path) -> None:
    """One clip as a plain MIDI file; several voices as one file, a track and channel each."""
    from bridge.music.midi import MidiPart, write_midi, write_midi_parts

    path.parent.mkdir(parents=True, exist_ok=True)
    if len(voices) == 1:
        write_midi(voices[0], path)
    else:
        write_midi_parts([MidiPart(v, 0, f"voice {i}") for i, v in enumerate(voices, 1)], path)
    notes = [note for voice in voices for note in voice.notes]
    pitches = sorted({note.pitch for note in notes})
    span = f"{pitches[0]}-{pitches[-1]}" if pitches else "-"
    print(
        f"{path}: {len(notes)} notes in {len(voices)} voice(s) over {voices[0].length:g} beats, "
        f"pitches {span}"
    )
