"""`magenta-bridge continue`, `harmonize` and `infill`: a tool on one MIDI clip (or on each
of a folder), in this process or on a Ray cluster (`--ray`), with the options of its parameter
table, so the command line and OSC accept the same parameters. Each variation becomes one MIDI
file; a variation of several voices (a harmonization) is one file with a track and channel
per voice."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.frontends.cli.common import add_model_options, add_param_options, add_worker_option
from bridge.frontends.cli.ray_batch import add_ray_options

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands

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
        command.add_argument("input", type=Path, help="MIDI file, or a folder of them, to work on")
        command.add_argument(
            "-o",
            "--output",
            type=Path,
            required=True,
            help="output MIDI file; with several variations, NAME-1.mid, NAME-2.mid...; "
            "for a folder, the output folder (FILE.mid, or FILE-1.mid, FILE-2.mid... each)",
        )
        add_model_options(command, tool.runs_on)
        add_param_options(command, tool.params)
        add_worker_option(command)
        add_ray_options(command)
        command.set_defaults(run=_run_tool, tool=name)


def _run_tool(args: argparse.Namespace) -> int:
    from bridge.frontends.cli.common import first_clip, midi_files, tool_request
    from bridge.frontends.cli.file_jobs import FileJob, check_all, run_all
    from bridge.frontends.cli.file_pool import worker_count
    from bridge.models.loading import load_model
    from bridge.tools.registry import TOOLS

    tool = TOOLS[args.tool]
    folder = args.input.is_dir()
    files = midi_files([args.input]) if folder else [args.input]
    # A folder's results go in the output folder, named after each file; a file's at OUTPUT.
    bases = [args.output / f"{path.stem}.mid" for path in files] if folder else [args.output]
    config, spec, why, params = tool_request(args, tool, first_clip(files))
    job = FileJob.of(tool.name, spec, params, config.limits, clip_tool=True)
    if getattr(args, "ray", None) is not None:
        from bridge.frontends.cli.ray_batch import run_on_ray

        return run_on_ray(job, files, bases, args)
    calls = [(job.read(path, str(path)), base) for path, base in zip(files, bases, strict=True)]
    check_all(job, calls)
    model = load_model(spec)
    print(f"model {spec.name} ({model.config.name}, {why}) on {model.device}", file=sys.stderr)
    workers = worker_count(getattr(args, "workers", None), str(model.device))
    run_all(job, model, calls, workers)
    return 0
