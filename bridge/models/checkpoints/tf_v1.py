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

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.protowire import (
    FIXED32,
    LENGTH_DELIMITED,
    WireError,
    iter_fields,
    packed_floats,
    packed_varints,
)
from bridge.models.checkpoints.sstable import read_table
from bridge.models.checkpoints.tf_messages import DTYPES, parse_shape, parse_slice


@dataclass(frozen=True)
class _TensorMeta:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype


def read_v1_checkpoint(
    source: str | Path | bytes, origin: str = "V1 checkpoint"
) -> dict[str, np.ndarray]:
    """Read every tensor of a V1 checkpoint into numpy arrays keyed by variable name.

    `source` is a path or the file's bytes; `origin` names the bytes in error messages.
    """
    if isinstance(source, bytes):
        data = source
    else:
        origin = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as error:
            raise CheckpointError(f"cannot read {origin}: {error.strerror}") from error
    entries = read_table(data, origin)
    if not entries or entries[0][0] != b"":
        raise CheckpointError(f"{origin}: not a TensorFlow V1 checkpoint (no metadata entry)")
    try:
        return _assemble(entries, origin)
    except (WireError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{origin}: damaged checkpoint record ({error})") from error


def _assemble(entries: list[tuple[bytes, bytes]], origin: str) -> dict[str, np.ndarray]:
    """Stitch the slices of every tensor named in the metadata entry into whole arrays."""
    metas = _parse_metadata(entries[0][1], origin)
    tensors = {name: np.zeros(meta.shape, dtype=meta.dtype) for name, meta in metas.items()}
    for _, value in entries[1:]:
        name, extents, values = _parse_slice(value, origin)
        if name not in metas:
            raise CheckpointError(f"{origin}: slice for unknown tensor {name!r}")
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
                f"{origin}: slice of {name!r} holds {values.size} values, expected {target.size}"
            )
        if meta.shape:
            tensors[name][index] = values.astype(meta.dtype).reshape(target.shape)
        else:
            tensors[name] = values.astype(meta.dtype).reshape(())
    return tensors


def _parse_metadata(message: bytes, origin: str) -> dict[str, _TensorMeta]:
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
                    shape = parse_shape(v)
                elif f == 3:
                    dtype_code = v
            if dtype_code not in DTYPES:
                raise CheckpointError(
                    f"{origin}: tensor {name!r} has unsupported dtype code {dtype_code}"
                )
            metas[name] = _TensorMeta(name, shape, DTYPES[dtype_code])
    return metas


def _parse_slice(
    message: bytes, origin: str
) -> tuple[str, list[tuple[int, int | None]], np.ndarray]:
    """Return (tensor name, per-dimension (start, length) extents, flat values)."""
    for field, _, saved_slice in iter_fields(message):
        if field != 2:
            continue
        name, extents, values = "", [], np.zeros(0)
        for f, _, v in iter_fields(saved_slice):
            if f == 1:
                name = v.decode()
            elif f == 2:
                extents = parse_slice(v)
            elif f == 3:
                values = _parse_tensor_values(v)
        return name, extents, values
    raise CheckpointError(f"{origin}: checkpoint entry holds no tensor slice")


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
        return np.frombuffer(content, dtype=DTYPES.get(dtype_code, np.dtype(np.float32))).copy()
    if floats:
        return np.concatenate(floats)
    return np.asarray(ints, dtype=np.int64)
