"""Building OSC packets: one helper shared by the service, the transports and the client."""

from __future__ import annotations

from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder


def message(address: str, *args: Any) -> bytes:
    """An OSC message; ints travel as int32, floats as float32, text as strings."""
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram
