"""Reader for TensorFlow's V2 checkpoints (tensor bundles), the format of MusicVAE and GrooVAE.

`<prefix>.index` is a sorted table (sstable.py). Its empty key holds a BundleHeaderProto
(shard count, byte order, format version); every other key is a tensor name whose
BundleEntryProto gives dtype, shape, shard, offset, size and the masked CRC-32C of the
tensor's raw bytes in `<prefix>.data-0000i-of-0000N`. A partitioned variable's entry lists
its slices instead, each stored under its own key (an OrderedCode of name and extents).
Field numbers: tensorflow/core/protobuf/tensor_bundle.proto. Where the files are (prefix,
folder, archive) is v2_files.py's business.

Tensors are read in file order, one at a time, straight into their numpy arrays, so memory
stays near the checkpoint's size and archives stream. String tensors (text settings, TF2's
object graph) are skipped: no model weight is a string. A caller may name the tensors it needs
(`keep`); the others' bytes are skipped unread and unchecked, so a training checkpoint's
optimizer slots (two more copies of every weight for Adam) cost neither time nor memory.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bridge.models.checkpoints.crc32c import crc32c, unmask
from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.protowire import WireError, iter_fields
from bridge.models.checkpoints.sstable import read_table
from bridge.models.checkpoints.tf_messages import DT_STRING, DTYPES, parse_shape, parse_slice
from bridge.models.checkpoints.v2_files import READ_ERRORS, CheckpointFiles, open_checkpoint

BUNDLE_VERSION = 1  # the format version this reader implements (TensorFlow's kTensorBundleVersion)
BIG_ENDIAN = 1  # BundleHeaderProto.Endianness
SLICE_KEY_START = b"\x00"  # every slice's key starts with OrderedCode's encoding of 0


@dataclass
class _Entry:
    """A BundleEntryProto."""

    dtype_code: int = 0
    shape: tuple[int, ...] = ()
    shard: int = 0
    offset: int = 0
    size: int = 0
    masked_crc: int = 0
    slices: list[list[tuple[int, int | None]]] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class _Read:
    """Bytes of one shard that fill `target` (a whole tensor, or a slice copied into one)."""

    name: str
    entry: _Entry
    target: np.ndarray
    into: np.ndarray | None = None
    index: tuple[slice, ...] = ()


def read_v2_checkpoint(
    source: str | Path, keep: Callable[[str], bool] | None = None
) -> dict[str, np.ndarray]:
    """Every tensor of a V2 checkpoint (string tensors aside), or those whose name `keep`
    accepts, keyed by variable name.

    `source` is a checkpoint prefix (`.../model.ckpt-44629`), its `.index` file, a folder
    holding one checkpoint (or a `checkpoint` file naming it), or a `.tar` / `.tar.gz` of
    either. Without `keep`, optimizer slots and global_step come back too.
    """
    with open_checkpoint(source) as files:
        index_name = f"{files.label}.index"
        entries = dict(read_table(files.read_index(), index_name))
        try:
            num_shards, byte_swap = _parse_header(entries.pop(b"", None), index_name)
            parsed = {key: _parse_entry(value) for key, value in entries.items()}
        except (WireError, UnicodeDecodeError) as error:
            raise CheckpointError(f"{index_name}: damaged entry ({error})") from error
        tensors, reads = _plan(parsed, index_name, keep)
        _read_shards(files, reads, num_shards, byte_swap)
    return tensors


def _parse_header(message: bytes | None, index_name: str) -> tuple[int, bool]:
    """(number of shards, whether values need byte-swapping) from the BundleHeaderProto."""
    if message is None:
        raise CheckpointError(f"{index_name} is not a TensorFlow V2 checkpoint index (no header)")
    num_shards, endianness, min_consumer, bad_consumers = 0, 0, 0, []
    for number, _, value in iter_fields(message):
        if number == 1:
            num_shards = value
        elif number == 2:
            endianness = value
        elif number == 3:  # VersionDef: producer 1, min_consumer 2, bad_consumers 3
            for f, _, v in iter_fields(value):
                if f == 2:
                    min_consumer = v
                elif f == 3:
                    bad_consumers.append(v)
    if min_consumer > BUNDLE_VERSION or BUNDLE_VERSION in bad_consumers:
        raise CheckpointError(
            f"{index_name}: written by a newer TensorFlow (format needs reader version "
            f">= {min_consumer}, this reader is version {BUNDLE_VERSION})"
        )
    if num_shards < 1:
        raise CheckpointError(f"{index_name}: header names no data shards")
    return num_shards, (endianness == BIG_ENDIAN) != (sys.byteorder == "big")


def _parse_entry(message: bytes) -> _Entry:
    entry = _Entry()
    for number, _, value in iter_fields(message):
        if number == 1:
            entry.dtype_code = value
        elif number == 2:
            entry.shape = parse_shape(value)
        elif number == 3:
            entry.shard = value
        elif number == 4:
            entry.offset = value
        elif number == 5:
            entry.size = value
        elif number == 6:  # fixed32
            entry.masked_crc = value
        elif number == 7:
            entry.slices.append(parse_slice(value))
    return entry


def _plan(
    entries: dict[bytes, _Entry], index_name: str, keep: Callable[[str], bool] | None
) -> tuple[dict[str, np.ndarray], list[_Read]]:
    """Allocate every tensor kept and list the reads that fill them, after checking the
    entries."""
    tensors: dict[str, np.ndarray] = {}
    reads: list[_Read] = []
    for key, entry in entries.items():
        if key.startswith(SLICE_KEY_START) or entry.dtype_code == DT_STRING:
            continue  # slices are read through their tensor's entry; strings are skipped
        name = key.decode()
        if keep is not None and not keep(name):
            continue
        dtype = _dtype(entry, name, index_name)
        if not entry.slices:
            _check_size(entry, name, dtype, index_name)
            tensors[name] = np.empty(entry.shape, dtype)
            reads.append(_Read(name, entry, tensors[name]))
            continue
        parts = [_slice_part(key, entry, extents, entries, index_name) for extents in entry.slices]
        for part, _ in parts:
            _check_size(part, name, dtype, index_name)
        if sum(math.prod(part.shape) for part, _ in parts) != math.prod(entry.shape):
            raise CheckpointError(f"{index_name}: the slices of {name!r} do not cover it")
        tensors[name] = whole = np.zeros(entry.shape, dtype)
        for part, index in parts:
            if whole[index].shape != part.shape:
                raise CheckpointError(f"{index_name}: a slice of {name!r} has the wrong shape")
            reads.append(_Read(name, part, np.empty(part.shape, dtype), whole, index))
    return tensors, reads


def _slice_part(
    key: bytes,
    whole: _Entry,
    extents: list[tuple[int, int | None]],
    entries: dict[bytes, _Entry],
    index_name: str,
) -> tuple[_Entry, tuple[slice, ...]]:
    """The entry of one stored slice of a partitioned tensor, and where it goes in the whole."""
    part = entries.get(_slice_key(key, extents))
    if part is None or len(extents) != len(whole.shape):
        raise CheckpointError(
            f"{index_name}: slice {extents} of {key.decode()!r} is listed but not stored"
        )
    index = tuple(
        slice(start, None if length is None else start + length) for start, length in extents
    )
    return part, index


def _dtype(entry: _Entry, name: str, index_name: str) -> np.dtype:
    if entry.dtype_code not in DTYPES:
        raise CheckpointError(
            f"{index_name}: tensor {name!r} has dtype code {entry.dtype_code} "
            "(TensorFlow's DataType enum), which this reader does not support"
        )
    return DTYPES[entry.dtype_code]


def _check_size(entry: _Entry, name: str, dtype: np.dtype, index_name: str) -> None:
    if any(dim < 0 for dim in entry.shape):
        raise CheckpointError(f"{index_name}: tensor {name!r} has an invalid shape")
    expected = math.prod(entry.shape) * dtype.itemsize
    if entry.size != expected:
        raise CheckpointError(
            f"{index_name}: tensor {name!r} stores {entry.size} bytes, "
            f"but shape {list(entry.shape)} of {dtype} needs {expected}"
        )


def _read_shards(
    files: CheckpointFiles, reads: list[_Read], num_shards: int, byte_swap: bool
) -> None:
    """Fill every target from the data shards, checking each tensor's CRC-32C."""
    for shard in sorted({read.entry.shard for read in reads}):
        if shard >= num_shards:
            raise CheckpointError(
                f"{files.label}.index: an entry names shard {shard} of {num_shards}"
            )
        file, size, shard_name = files.open_shard(shard, num_shards)
        with file:
            in_order = sorted(
                (r for r in reads if r.entry.shard == shard), key=lambda r: r.entry.offset
            )
            for read in in_order:
                end = read.entry.offset + read.entry.size
                if end > size:
                    raise CheckpointError(
                        f"{shard_name} is truncated: {read.name!r} needs bytes up to {end}, "
                        f"the file has {size}"
                    )
                raw = read.target.reshape(-1).view(np.uint8)
                _read_into(file, read.entry.offset, raw, shard_name)
                stored, computed = unmask(read.entry.masked_crc), crc32c(raw)
                if computed != stored:
                    raise CheckpointError(
                        f"{shard_name}: tensor {read.name!r} fails its CRC-32C check "
                        f"(stored {stored:08x}, computed {computed:08x}); the file is damaged"
                    )
                if byte_swap:
                    read.target.byteswap(inplace=True)
                if read.into is not None:
                    read.into[read.index] = read.target


def _read_into(file: BinaryIO, offset: int, raw: np.ndarray, shard_name: str) -> None:
    try:
        file.seek(offset)
        view, done = memoryview(raw), 0
        while done < raw.size:
            count = file.readinto(view[done:])
            if not count:
                raise CheckpointError(f"{shard_name} is truncated")
            done += count
    except READ_ERRORS as error:
        raise CheckpointError(f"cannot read {shard_name}: {error}") from error


def _slice_key(name: bytes, extents: list[tuple[int, int | None]]) -> bytes:
    """The table key of one stored slice: TensorFlow's EncodeTensorNameSlice (an OrderedCode).

    That is the number 0, the name with bytes 0x00 and 0xff escaped and a 0x00 0x01 end
    mark, the rank, then each dimension's start and length (-1 for a whole dimension).
    """
    escaped = re.sub(rb"[\x00\xff]", lambda m: m.group() + bytes([0xFF - m.group()[0]]), name)
    key = SLICE_KEY_START + escaped + b"\x00\x01" + _ordered_unsigned(len(extents))
    for start, length in extents:
        key += _ordered_signed(start) + _ordered_signed(-1 if length is None else length)
    return key


def _ordered_unsigned(value: int) -> bytes:
    """OrderedCode's WriteNumIncreasing: a length byte, then the big-endian value."""
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(body)]) + body


def _ordered_signed(value: int) -> bytes:
    """OrderedCode's WriteSignedNumIncreasing.

    n bytes hold values in [-2**(7n-1), 2**(7n-1)): the two's complement in 8n bits with
    its top n bits flipped, which leaves a sign bit and n-1 length bits in front.
    """
    n = 1
    while not -(1 << (7 * n - 1)) <= value < 1 << (7 * n - 1):
        n += 1
    header = ((1 << n) - 1) << (7 * n)
    return ((value & ((1 << (8 * n)) - 1)) ^ header).to_bytes(n, "big")
