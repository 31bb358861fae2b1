"""`magenta-bridge continue`: the Continue tool on a MIDI clip, in this process, with the
options of its parameter table, so the command line and OSC accept the same parameters."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.frontends.cli.common import add_model_options, add_param_options, output_paths

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `continue`; it takes --config before its name only, so not `config_option`."""
    from bridge.tools.registry import TOOLS

    tool = TOOLS["continue"]
    cont = commands.add_parser(
        "continue",
        help="continue a MIDI clip: melody, drums, chords or performance, by the model",
        description=f"{tool.summary[0].upper()}{tool.summary[1:]}, with the model's family: "
        "a melody model continues the melody, a drum model the drums, a polyphony or "
        "performance model all of it. Each variation is written as its own MIDI file "
        "holding only the new bars.",
    )
    cont.add_argument("input", type=Path, help="MIDI file to continue (the primer)")
    cont.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output MIDI file; with several variations, NAME-1.mid, NAME-2.mid...",
    )
    add_model_options(cont, tool.runs_on)
    add_param_options(cont, tool.params)
    cont.set_defaults(run=_continue)


def _continue(args: argparse.Namespace) -> int:
    from bridge.frontends.cli.common import tool_request
    from bridge.models.loading import load_model
    from bridge.music.midi import read_midi, write_midi
    from bridge.tools.registry import TOOLS

    tool = TOOLS["continue"]
    clip = read_midi(args.input)
    config, spec, why, params = tool_request(args, tool, clip)
    tool.check(spec, [clip], params, config.limits)
    model = load_model(spec)
    print(f"model {spec.name} ({model.config.name}, {why}) on {model.device}", file=sys.stderr)
    (clips,) = tool.run(model, spec, [([clip], params)], config.limits, lambda *_: None)
    for result, path in zip(clips, output_paths(args.output, len(clips)), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_midi(result, path)
        pitches = sorted({n.pitch for n in result.notes})
        print(
            f"{path}: {len(result.notes)} notes over {result.length:g} beats, "
            f"pitches {pitches[0] if pitches else '-'}-{pitches[-1] if pitches else '-'}"
        )
    return 0
