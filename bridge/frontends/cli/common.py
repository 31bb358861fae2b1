"""Helpers shared by several command modules: tool parameters as options, the model a tool
runs on, output names."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from bridge.config import Config
    from bridge.models.catalog import ModelSpec
    from bridge.music.clip import Clip
    from bridge.tools.registry import Tool

    # What `add_subparsers` returns, to which each command module adds its commands.
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def add_model_options(parser: argparse.ArgumentParser, runs_on: str) -> None:
    """--model and --device, for a command that runs a tool in this process."""
    parser.add_argument(
        "--model",
        default=None,
        help=f"configured model: {runs_on} (default: one made for the clip's content)",
    )
    parser.add_argument(
        "--device", default=None, help="auto, cpu, cuda, cuda:N or mps (default: config)"
    )


def add_worker_option(parser: argparse.ArgumentParser) -> None:
    """--workers, for a command that runs a folder in this machine's processes."""
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes running a folder here, each with the model (default: one a CPU core, "
        "up to 4; 1 on a GPU)",
    )


def tool_request(
    args: argparse.Namespace, tool: Tool, first: Clip | None
) -> tuple[Config, ModelSpec, str, dict[str, Any]]:
    """The config, the model the tool runs on (with why it was chosen) and the parameters,
    checked as the daemon checks them."""
    from dataclasses import replace

    from bridge.config import load_config
    from bridge.models.catalog import Catalog
    from bridge.tools.model_choice import choose_model
    from bridge.tools.params import parse_params

    config = load_config(args.config)
    catalog = Catalog.of(config)
    spec, why = choose_model(catalog, args.model, first, tool.serves)
    if not tool.serves(spec):
        raise ValueError(tool.refusal(spec, catalog.models.values(), catalog.missing.values()))
    if args.device:
        spec = replace(spec, device=args.device)
    return config, spec, why, parse_params(tool.params, given_params(args), config.limits)


def add_param_options(parser: argparse.ArgumentParser, params: Sequence[Any]) -> None:
    """One `--option` per tool parameter, from its declaration; unset ones stay None."""
    for param in params:
        parser.add_argument(
            f"--{param.name.replace('_', '-')}",
            dest=f"param_{param.name}",
            metavar=param.name.upper(),
            type=_param_type(param.kind),
            choices=param.choices or None,
            default=None,
            help=f"{param.help} ({param.describe()})",
        )


def given_params(args: argparse.Namespace) -> dict[str, Any]:
    """The tool parameters given on the command line, by name."""
    return {
        key.removeprefix("param_"): value
        for key, value in vars(args).items()
        if key.startswith("param_") and value is not None
    }


def _param_type(kind: type) -> Callable[[str], Any]:
    """Booleans read as 1/true/yes, since `bool("0")` would be true."""
    return (lambda text: text.lower() in ("1", "true", "yes")) if kind is bool else kind


def output_paths(output: Path, count: int) -> list[Path]:
    """OUTPUT itself for one result, else OUTPUT-1.mid, OUTPUT-2.mid...: one file each."""
    if count == 1:
        return [output]
    suffix = output.suffix or ".mid"
    return [output.with_name(f"{output.stem}-{i}{suffix}") for i in range(1, count + 1)]


def midi_files(paths: Sequence[Path]) -> list[Path]:
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


def first_clip(files: Sequence[Path]) -> Clip:
    """The first of the files that reads as a clip: it picks the model when none is named (a
    batch on Ray lists the files that do not read among its failures); when none reads, the
    first one's error."""
    from bridge.music.midi import read_midi

    for path in files:
        try:
            return read_midi(path)
        except (ValueError, OSError):
            continue
    return read_midi(files[0])
