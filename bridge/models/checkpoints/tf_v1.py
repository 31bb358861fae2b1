"""Reader for TensorFlow's V1 single-file checkpoint, the format inside Magenta `.mag` bundles.

The file is a LevelDB-style sorted table. The entry with the empty key holds the metadata
(every tensor's name, shape and dtype); each other entry holds one slice of one tensor as a
`SavedTensorSlices` message. Tensors may be split into several slices, which are stitched
back together here. Only uncompressed tables are supported, which is what TensorFlow writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bridge.models.checkpoints.protowire import (
    FIXED32,
    LENGTH_DELIMITED,
    iter_fields,
    packed_floats,
    packed_varints,
    read_varint,
)

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5  # compression type byte + crc32c

# TensorFlow DataType enum values we can hold in numpy.
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 9: np.int64, 10: np.bool_}


class CheckpointError(ValueError):
    """A checkpoint file cannot be read; the message says why."""


@dataclass(frozen=True)
class _TensorMeta:
    name: str
    shape: tuple[int, ...]
    dtype: type


def read_v1_checkpoint(source: str | Path | bytes) -> dict[str, np.ndarray]:
    """Read every tensor of a V1 checkpoint into numpy arrays keyed by variable name."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    entries = _table_entries(data)
    if not entries or entries[0][0] != b"":
        raise CheckpointError("not a TensorFlow V1 checkpoint: no metadata entry")
    metas = _parse_metadata(entries[0][1])
    tensors = {name: np.zeros(meta.shape, dtype=meta.dtype) for name, meta in metas.items()}
    for _, value in entries[1:]:
        name, extents, values = _parse_slice(value)
        if name not in metas:
            raise CheckpointError(f"slice for unknown tensor {name!r}")
        meta = metas[name]
        index = tuple(
            slice(start, dim if length is None else start + length)
            for (start, length), dim in zip(
                extents or [(0, None)] * len(meta.shape), meta.shape, strict=True
            )
        )
        target = tensors[name][index] if meta.shape else tensors[name]
        if values.size != target.size:
            raise CheckpointError(
                f"slice of {name!r} holds {values.size} values, expected {target.size}"
            )
        if meta.shape:
            tensors[name][index] = values.astype(meta.dtype).reshape(target.shape)
        else:
            tensors[name] = values.astype(meta.dtype).reshape(())
    return tensors


def _table_entries(data: bytes) -> list[tuple[bytes, bytes]]:
    """All (key, value) pairs of the table, in key order."""
    if len(data) < FOOTER_SIZE:
        raise CheckpointError("file too short to be a TensorFlow checkpoint table")
    footer = data[-FOOTER_SIZE:]
    if int.from_bytes(footer[-8:], "little") != TABLE_MAGIC:
        raise CheckpointError("not a TensorFlow V1 checkpoint (bad table magic)")
    _, pos = read_varint(footer, 0)  # metaindex offset
    _, pos = read_varint(footer, pos)  # metaindex size
    index_offset, pos = read_varint(footer, pos)
    index_size, _ = read_varint(footer, pos)
    entries = []
    for _, handle in _block_entries(data, index_offset, index_size):
        offset, pos = read_varint(handle, 0)
        size, _ = read_varint(handle, pos)
        entries.extend(_block_entries(data, offset, size))
    return entries


def _block_entries(data: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    """Decode one prefix-compressed block of the table."""
    if offset + size + BLOCK_TRAILER_SIZE > len(data):
        raise CheckpointError("checkpoint table block runs past the end of the file")
    if data[offset + size] != 0:
        raise CheckpointError("compressed checkpoint tables are not supported")
    block = data[offset : offset + size]
    num_restarts = int.from_bytes(block[-4:], "little")
    limit = len(block) - 4 - 4 * num_restarts
    entries, pos, key = [], 0, b""
    while pos < limit:
        shared, pos = read_varint(block, pos)
        unshared, pos = read_varint(block, pos)
        value_size, pos = read_varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + value_size]))
        pos += value_size
    return entries


def _parse_metadata(message: bytes) -> dict[str, _TensorMeta]:
    metas = {}
    for field, _, meta_bytes in iter_fields(message):
        if field != 1:
            continue
        for tensor_field, _, tensor_bytes in iter_fields(meta_bytes):
            if tensor_field != 1:
                continue
            name, shape, dtype_code = "", (), 1
            for f, _, v in iter_fields(tensor_bytes):
                if f == 1:
                    name = v.decode()
                elif f == 2:
                    shape = _parse_shape(v)
                elif f == 3:
                    dtype_code = v
            if dtype_code not in DTYPES:
                raise CheckpointError(f"tensor {name!r} has unsupported dtype code {dtype_code}")
            metas[name] = _TensorMeta(name, shape, DTYPES[dtype_code])
    return metas


def _parse_shape(message: bytes) -> tuple[int, ...]:
    dims = []
    for field, _, dim in iter_fields(message):
        if field == 2:
            size = next((v for f, _, v in iter_fields(dim) if f == 1), 0)
            dims.append(size)
    return tuple(dims)


def _parse_slice(message: bytes) -> tuple[str, list[tuple[int, int | None]], np.ndarray]:
    """Return (tensor name, per-dimension (start, length) extents, flat values)."""
    for field, _, saved_slice in iter_fields(message):
        if field != 2:
            continue
        name, extents, values = "", [], np.zeros(0)
        for f, _, v in iter_fields(saved_slice):
            if f == 1:
                name = v.decode()
            elif f == 2:
                extents = [_parse_extent(e) for ef, _, e in iter_fields(v) if ef == 1]
            elif f == 3:
                values = _parse_tensor_values(v)
        return name, extents, values
    raise CheckpointError("checkpoint entry holds no tensor slice")


def _parse_extent(message: bytes) -> tuple[int, int | None]:
    start, length = 0, None
    for field, _, value in iter_fields(message):
        if field == 1:
            start = value
        elif field == 2:
            length = value
    return start, length


def _parse_tensor_values(message: bytes) -> np.ndarray:
    """The values of a TensorProto, whichever typed field TensorFlow filled."""
    floats: list[np.ndarray] = []
    ints: list[int] = []
    dtype_code, content = 1, None
    for field, wire_type, value in iter_fields(message):
        if field == 1:
            dtype_code = value
        elif field == 4:  # tensor_content: raw little-endian bytes
            content = value
        elif field == 5:  # float_val
            if wire_type == LENGTH_DELIMITED:
                floats.append(packed_floats(value))
            elif wire_type == FIXED32:
                floats.append(np.frombuffer(value.to_bytes(4, "little"), dtype="<f4"))
        elif field in (7, 10, 11):  # int_val, int64_val, bool_val
            raw = packed_varints(value) if wire_type == LENGTH_DELIMITED else [value]
            ints.extend(v - (1 << 64) if v >= 1 << 63 else v for v in raw)
    if content is not None:
        return np.frombuffer(content, dtype=np.dtype(DTYPES.get(dtype_code, np.float32))).copy()
    if floats:
        return np.concatenate(floats)
    return np.asarray(ints, dtype=np.int64)
