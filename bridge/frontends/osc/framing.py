"""Which TCP framing a client speaks: OSC 1.1's SLIP, or OSC 1.0's length prefix.

OSC 1.0 prefixes each packet with its size as a big-endian int32 (liblo's `osc.tcp://`
and several OSC libraries still do); OSC 1.1 frames packets with SLIP. A length prefix
for any packet we accept starts with a zero byte, while a SLIP stream starts with END or
with the packet's own first byte ('/' or '#'), so the first byte tells them apart.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from bridge.frontends.osc import slip


class LengthPrefixDecoder:
    """Turns an OSC 1.0 stream into packets, refusing any larger than `max_frame`."""

    def __init__(self, max_frame: int):
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        packets = []
        while len(self._buffer) >= 4:
            (size,) = struct.unpack(">i", self._buffer[:4])
            if not 0 <= size <= self.max_frame:
                self._buffer.clear()
                raise slip.FrameTooLarge(f"an OSC packet over {self.max_frame} bytes was sent")
            if len(self._buffer) < 4 + size:
                break
            packets.append(bytes(self._buffer[4 : 4 + size]))
            del self._buffer[: 4 + size]
        return packets


def encode_length_prefixed(packet: bytes) -> bytes:
    return struct.pack(">i", len(packet)) + packet


def for_first_byte(
    byte: int, max_frame: int
) -> tuple[slip.Decoder | LengthPrefixDecoder, Callable[[bytes], bytes]]:
    """The decoder for the client's stream and the encoder for replies to it."""
    if byte == 0:
        return LengthPrefixDecoder(max_frame), encode_length_prefixed
    return slip.Decoder(max_frame), slip.encode
