"""LevelDB-style sorted tables: the V1 checkpoint file and the V2 checkpoint's `.index` file.

TensorFlow's table format (lib/io/table, a copy of LevelDB's): data blocks of key/value
entries, then a metaindex block, an index block whose values locate the data blocks, and a
48-byte footer holding the two blocks' handles and a magic number. Inside a block each key
shares a prefix with the one before it. Every block is followed by a compression byte and
the masked CRC-32C of block and byte, checked here so that a damaged file is reported as
such rather than misread. TensorFlow writes its checkpoint tables uncompressed, so only
those are read.
"""

from __future__ import annotations

from bridge.models.checkpoints.crc32c import crc32c, unmask
from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.protowire import WireError, read_varint

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5  # compression type byte + masked crc32c


def read_table(data: bytes, origin: str) -> list[tuple[bytes, bytes]]:
    """All (key, value) pairs of the table in `data`, in key order; `origin` names it in errors."""
    if len(data) < FOOTER_SIZE:
        raise CheckpointError(f"{origin}: too short to be a TensorFlow checkpoint table")
    footer = data[-FOOTER_SIZE:]
    if int.from_bytes(footer[-8:], "little") != TABLE_MAGIC:
        raise CheckpointError(f"{origin}: not a TensorFlow checkpoint table (bad magic number)")
    try:
        _, pos = read_varint(footer, 0)  # metaindex offset
        _, pos = read_varint(footer, pos)  # metaindex size
        index_offset, pos = read_varint(footer, pos)
        index_size, _ = read_varint(footer, pos)
        entries = []
        for _, handle in _block_entries(data, index_offset, index_size, origin):
            offset, pos = read_varint(handle, 0)
            size, _ = read_varint(handle, pos)
            entries.extend(_block_entries(data, offset, size, origin))
    except WireError as error:
        raise CheckpointError(f"{origin}: damaged checkpoint table ({error})") from error
    return entries


def _block_entries(data: bytes, offset: int, size: int, origin: str) -> list[tuple[bytes, bytes]]:
    """Decode one prefix-compressed block of the table, after checking its checksum."""
    end = offset + size
    if end + BLOCK_TRAILER_SIZE > len(data):
        raise CheckpointError(f"{origin}: a table block runs past the end of the file")
    if data[end] != 0:
        raise CheckpointError(f"{origin}: compressed checkpoint tables are not supported")
    stored = unmask(int.from_bytes(data[end + 1 : end + BLOCK_TRAILER_SIZE], "little"))
    if crc32c(memoryview(data)[offset : end + 1]) != stored:
        raise CheckpointError(f"{origin}: a table block fails its CRC-32C check (file damaged)")
    block = data[offset:end]
    num_restarts = int.from_bytes(block[-4:], "little")
    limit = len(block) - 4 - 4 * num_restarts
    entries, pos, key = [], 0, b""
    while pos < limit:
        shared, pos = read_varint(block, pos)
        unshared, pos = read_varint(block, pos)
        value_size, pos = read_varint(block, pos)
        if pos + unshared + value_size > limit:
            raise CheckpointError(f"{origin}: a table entry runs past the end of its block")
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + value_size]))
        pos += value_size
    return entries
