"""`magenta-bridge ports`: the MIDI systems and ports this machine offers the daemon."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bridge.config import MIDI_APIS

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `ports`, which also takes --config after its name."""
    ports = commands.add_parser(
        "ports",
        parents=[config_option],
        help="list the MIDI systems and the ports they offer",
        description="List the MIDI systems python-rtmidi was built with and the ports of the "
        "configured one (midi.api), or of --api. Ports are named as midi.in_port and "
        "midi.out_port take them when midi.virtual is false (Windows: loopMIDI ports).",
    )
    ports.add_argument(
        "--api", choices=MIDI_APIS, default=None, help="MIDI system (default: config's midi.api)"
    )
    ports.set_defaults(run=_ports)


def _ports(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.frontends.midi.ports import available_ports, compiled_apis, resolve_api

    print(f"MIDI systems in python-rtmidi: {', '.join(compiled_apis()) or 'none'}")
    api = args.api or load_config(args.config).midi.api
    ports = available_ports(api)  # MidiUnavailable: one error line, exit status 1
    print(f"{resolve_api(api)} ports{' (auto)' if api == 'auto' else ''}:")
    for kind, what in (("inputs", "they send MIDI"), ("outputs", "they take MIDI")):
        print(f"  {kind} ({what}):")
        for name in ports[kind] or ["none"]:
            print(f"    {name}")
    return 0
