"""Just enough of the protobuf wire format to read TensorFlow checkpoint records.

TensorFlow's checkpoint messages (SavedTensorSlices, TensorProto) are not shipped by any
light package, and importing TensorFlow for them would defeat the point of a native
engine, so the few fields we need are decoded here directly.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at `pos`; return (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise WireError("varint too long")


def iter_fields(data: bytes | memoryview) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (field number, wire type, value) for every field of a message.

    Varints come back as ints, fixed-width values as raw little-endian ints, and
    length-delimited fields as bytes (sub-messages, strings or packed arrays).
    """
    data = memoryview(data)
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        field, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = read_varint(data, pos)
        elif wire_type == FIXED64:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire_type == FIXED32:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        elif wire_type == LENGTH_DELIMITED:
            size, pos = read_varint(data, pos)
            if pos + size > len(data):
                raise WireError(f"field {field} runs past the end of the message")
            value, pos = bytes(data[pos : pos + size]), pos + size
        else:
            raise WireError(f"unsupported wire type {wire_type} in field {field}")
        yield field, wire_type, value


def packed_varints(data: bytes) -> list[int]:
    """Decode a packed repeated varint field."""
    values, pos = [], 0
    while pos < len(data):
        value, pos = read_varint(data, pos)
        values.append(value)
    return values


def packed_floats(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").copy()


def fixed32_to_float(raw: int) -> float:
    return struct.unpack("<f", raw.to_bytes(4, "little"))[0]
