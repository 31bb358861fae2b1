"""The bytes of a standard MIDI file, written directly.

A folder job writes thousands of files, and building a mido message object per note took
longer than the model's decoding; events here are their bytes from the start. The layout is
what mido writes (its running status included), so files are byte for byte the same.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

# One event of a track: its absolute tick, its order among events of that tick, its bytes.
Event = tuple[int, int, bytes]

NOTE_OFF_VELOCITY = 64  # what a note-off says when it has nothing to say
END_OF_TRACK = b"\xff\x2f\x00"
_ONE_BYTE = [bytes((value,)) for value in range(0x80)]


def note_on(channel: int, pitch: int, velocity: int) -> bytes:
    return bytes((0x90 | channel, pitch, velocity))


def note_off(channel: int, pitch: int) -> bytes:
    return bytes((0x80 | channel, pitch, NOTE_OFF_VELOCITY))


def track_chunk(events: Iterable[Event], length: int) -> bytes:
    """An MTrk chunk of the events in time order (ties by their order, then as given), ending
    at tick `length` or at its last event if that is later."""
    data = bytearray()
    tick, running = 0, None
    for event_tick, _, message in sorted(events, key=lambda event: event[:2]):
        data += _variable_length(event_tick - tick)
        tick = event_tick
        status = message[0]
        data += message[1:] if status == running else message
        running = status if status < 0xF0 else None  # meta and sysex events end running status
    data += _variable_length(max(0, length - tick)) + END_OF_TRACK
    return b"MTrk" + struct.pack(">I", len(data)) + data


def file_bytes(tracks: Iterable[bytes], ticks_per_beat: int) -> bytes:
    """A type 1 file of MTrk chunks."""
    tracks = list(tracks)
    header = struct.pack(">hhh", 1, len(tracks), ticks_per_beat)
    return b"MThd" + struct.pack(">I", len(header)) + header + b"".join(tracks)


def _variable_length(value: int) -> bytes:
    """MIDI's variable-length quantity: seven bits a byte, most significant first."""
    if value < 0x80:
        return _ONE_BYTE[value]
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))
