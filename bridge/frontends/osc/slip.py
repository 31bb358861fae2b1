"""SLIP framing (RFC 1055), which OSC 1.1 uses to delimit packets on a TCP stream."""

from __future__ import annotations

END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD


class FrameTooLarge(ValueError):
    """A peer sent more bytes without a frame end than the configured limit allows."""


def encode(packet: bytes) -> bytes:
    """One packet as a SLIP frame, with an END byte before and after (the 1.1 habit)."""
    escaped = packet.replace(bytes([ESC]), bytes([ESC, ESC_ESC]))
    escaped = escaped.replace(bytes([END]), bytes([ESC, ESC_END]))
    return bytes([END]) + escaped + bytes([END])


class Decoder:
    """Turns stream bytes into packets, holding at most `max_frame` bytes of a partial one."""

    def __init__(self, max_frame: int):
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the packets completed by them (empty frames skipped)."""
        *complete, rest = (bytes(self._buffer) + data).split(bytes([END]))
        self._buffer = bytearray(rest)
        if any(len(frame) > self.max_frame for frame in [*complete, rest]):
            self._buffer.clear()
            raise FrameTooLarge(f"an OSC packet over {self.max_frame} bytes was sent")
        return [_unescape(frame) for frame in complete if frame]


def _unescape(frame: bytes) -> bytes:
    if ESC not in frame:
        return frame
    out, escaped = bytearray(), False
    for byte in frame:
        if escaped:
            out.append({ESC_END: END, ESC_ESC: ESC}.get(byte, byte))
            escaped = False
        elif byte == ESC:
            escaped = True
        else:
            out.append(byte)
    return bytes(out)
