"""The TensorFlow messages both checkpoint formats share: data types, shapes and slices.

Field numbers come from tensorflow/core/framework/{types,tensor_shape,tensor_slice}.proto.
"""

from __future__ import annotations

import numpy as np

from bridge.models.checkpoints.protowire import iter_fields

# TensorFlow's DataType enum -> numpy, for every type stored as raw fixed-size values that
# numpy can hold (not bfloat16, the quantized types, strings, resources or variants).
DTYPES: dict[int, np.dtype] = {
    code: np.dtype(kind)
    for code, kind in {
        1: np.float32,
        2: np.float64,
        3: np.int32,
        4: np.uint8,
        5: np.int16,
        6: np.int8,
        8: np.complex64,
        9: np.int64,
        10: np.bool_,
        17: np.uint16,
        18: np.complex128,
        19: np.float16,
        22: np.uint32,
        23: np.uint64,
    }.items()
}
DT_STRING = 7


def parse_shape(message: bytes) -> tuple[int, ...]:
    """The dimensions of a TensorShapeProto (dim = 2, Dim.size = 1); -1 marks an unknown one."""
    dims = []
    for field, _, dim in iter_fields(message):
        if field == 2:
            size = next((v for f, _, v in iter_fields(dim) if f == 1), 0)
            dims.append(size - (1 << 64) if size >= 1 << 63 else size)  # an int64 varint
    return tuple(dims)


def parse_slice(message: bytes) -> list[tuple[int, int | None]]:
    """Per-dimension (start, length) of a TensorSliceProto; length None means the whole dim."""
    extents = []
    for field, _, extent in iter_fields(message):
        if field != 1:
            continue
        start, length = 0, None
        for f, _, value in iter_fields(extent):
            if f == 1:
                start = value
            elif f == 2:
                length = value
        extents.append((start, length))
    return extents
