"""The `magenta-bridge` command line: one subcommand per job, help text on every option.

This module holds the top-level parser and its global options; each command lives in the
module named after its domain, which adds it to the parser (`add_commands`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge.frontends.cli import (
    clip_tools,
    daemon,
    doctor,
    evaluation,
    latent,
    midi,
    models,
    training,
)

EXAMPLE = """examples:
  magenta-bridge continue examples/folk_melody.mid -o out.mid --bars 4 --variations 4 --seed 7
  magenta-bridge continue in.mid -o out.mid --key A:minor --pitch-low 55 --pitch-high 84
  magenta-bridge groove loops/ -o grooved/ --variations 2
  magenta-bridge drumify rhythm.mid -o drums/ --variations 4 --seed 3
  magenta-bridge models
  magenta-bridge ports --api jack
"""


# In the order `--help` lists their commands.
COMMAND_MODULES = (clip_tools, training, evaluation, models, latent, daemon, midi, doctor)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its errors become one line and exit status 1, not a traceback."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (ValueError, OSError, RuntimeError) as error:  # ClipError, ClientError, RenderError...
        print(f"magenta-bridge: error: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="magenta-bridge",
        description="Magenta's music models, warm and native, for your DAW.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML config (default: config/default.yaml of this checkout)",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    # serve, history and client also take --config after their name, where users type it.
    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="YAML config (as before COMMAND)"
    )
    for module in COMMAND_MODULES:
        module.add_commands(commands, config_option)
    return parser
