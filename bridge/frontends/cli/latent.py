"""`magenta-bridge generate`, `interpolate`, `vary`, `groove` and `drumify`: the MusicVAE
tools, in this process, over one clip, two, or batches of files (trio models included)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.frontends.cli.common import add_model_options, add_param_options, add_worker_option
from bridge.frontends.cli.ray_batch import add_ray_options

if TYPE_CHECKING:  # imported lazily at run time: `--help` must not load the models
    from bridge.frontends.cli.common import Commands

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
        if inputs == ["inputs"]:
            add_worker_option(command)
            add_ray_options(command)
        command.set_defaults(run=_latent, tool=name)


def _latent(args: argparse.Namespace) -> int:
    from bridge.frontends.cli.common import first_clip, midi_files, tool_request
    from bridge.frontends.cli.file_jobs import FileJob, check_all, run_all
    from bridge.frontends.cli.file_pool import worker_count
    from bridge.models.loading import load_model
    from bridge.tools.registry import TOOLS

    tool = TOOLS[args.tool]
    if LATENT_INPUTS[args.tool][0] == ["inputs"]:
        sources = [((path,), path.stem) for path in midi_files(args.inputs)]
    elif args.tool == "interpolate":
        sources = [((args.start, args.end), "interpolate")]
    else:
        sources = [((), "generate")]
    named = [path for paths, _ in sources for path in paths]
    first = first_clip(named) if named else None  # it picks the model
    config, spec, why, params = tool_request(args, tool, first)
    job = FileJob.of(tool.name, spec, params, config.limits, clip_tool=False)
    bases = [args.output / f"{stem}.mid" for _, stem in sources]
    if getattr(args, "ray", None) is not None:
        from bridge.frontends.cli.ray_batch import run_on_ray

        return run_on_ray(job, [paths[0] for paths, _ in sources], bases, args)
    calls = [
        (tuple(one for path in paths for one in job.read(path, str(path))), base)
        for (paths, _), base in zip(sources, bases, strict=True)
    ]
    check_all(job, calls, name_always=job.kind == "trio")
    model = load_model(spec)
    print(f"model {spec.name} ({spec.config}, {why}) on {model.device}", file=sys.stderr)
    workers = worker_count(getattr(args, "workers", None), str(model.device))
    run_all(job, model, calls, workers)
    return 0
