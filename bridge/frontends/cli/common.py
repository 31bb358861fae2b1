"""Helpers shared by several command modules: tool parameters as options, output names."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    # What `add_subparsers` returns, to which each command module adds its commands.
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def add_param_options(parser: argparse.ArgumentParser, params: Sequence[Any]) -> None:
    """One `--option` per tool parameter, from its declaration; unset ones stay None."""
    for param in params:
        parser.add_argument(
            f"--{param.name.replace('_', '-')}",
            dest=f"param_{param.name}",
            metavar=param.name.upper(),
            type=_param_type(param.kind),
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
