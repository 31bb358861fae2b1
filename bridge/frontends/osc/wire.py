"""Building OSC packets: one helper shared by the service, the transports and the client."""

from __future__ import annotations

import struct
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder


def message(address: str, *args: Any) -> bytes:
    """An OSC message; ints travel as int32, floats as float32, text as strings."""
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class ReplyTooLarge(ValueError):
    """A reply does not fit in one datagram to this peer."""


def first_argument(packet: bytes) -> str | int | float | None:
    """The first argument of a packet's first message, read from its head alone: enough to
    name the request id of a packet refused unread (too large, truncated, or arriving when
    the daemon is busy). None when the head does not say."""
    if packet.startswith(b"#bundle\x00"):
        packet = packet[20:]  # header, time tag, and the first element's size
    try:
        address_end = packet.index(b"\x00")
        tags_start = (address_end + 4) & ~3
        tags_end = packet.index(b"\x00", tags_start)
        if packet[tags_start : tags_start + 1] != b"," or tags_end == tags_start + 1:
            return None
        tag = packet[tags_start + 1 : tags_start + 2]
        start = (tags_end + 4) & ~3
        if tag == b"s":
            return packet[start : packet.index(b"\x00", start)].decode("utf-8", "replace")
        if tag in (b"i", b"f"):
            (value,) = struct.unpack(">" + tag.decode(), packet[start : start + 4])
            return value
    except (ValueError, struct.error):
        pass
    return None
