"""`magenta-bridge models`: what the config offers, and which are installed."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `models`, which shows what a `--model` may name and which weights are missing."""
    models = commands.add_parser("models", help="list the configured models")
    models.set_defaults(run=_models)


def _models(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.models.catalog import Catalog

    catalog = Catalog.of(load_config(args.config))
    for spec in [*catalog.models.values(), *catalog.missing.values()]:
        marker = "*" if spec.name == catalog.default_model else " "
        state = (
            "ok" if spec.installed else "optional, not installed" if spec.optional else "MISSING"
        )
        print(f"{marker} {spec.name:12} {spec.family:15} {spec.path}  [{state}]")
        if spec.description:
            print(f"    {spec.description}")
    for content, name in catalog.by_content.items():
        print(f"  {content} clips without a named model go to {name}")
    return 0
