"""CRC-32C (Castagnoli), the checksum TensorFlow puts on checkpoint tables and tensor data.

No declared dependency computes it (zlib's crc32 uses another polynomial), so it is done
here with numpy. A byte-at-a-time loop in Python manages 10-40 MB/s, too slow for
checkpoints of hundreds of MB, so a long input is cut into many lanes that are checksummed
side by side (a few numpy operations advance every lane by four bytes), and the lane
checksums are then folded together. That works because a CRC without its initial and final
inversion is linear over GF(2): crc(a + b) = shift(crc(a), len(b)) ^ crc(b), where `shift`
(feeding zero bytes) is a 32x32 bit matrix, and leading zero bytes leave it unchanged.
About 0.9 GB/s on one busy core of the development machine.
"""

from __future__ import annotations

from functools import cache

import numpy as np

POLYNOMIAL = 0x82F63B78  # bit-reflected Castagnoli polynomial
MASK_DELTA = 0xA282EAD8  # TensorFlow (like LevelDB) stores CRCs "masked", see `unmask`
LANE_BYTES = 128  # a power of two
MAX_LANES = 1 << 16  # chunks of 8 MiB keep the lanes' working set in cache
CHUNK_BYTES = LANE_BYTES * MAX_LANES
SHORT_INPUT = 2048  # below this the plain loop beats numpy's per-call overheads


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(POLYNOMIAL), table >> 1)
    return table.astype(np.uint32)


def _word_tables() -> tuple[np.ndarray, np.ndarray]:
    """What a state's low and high 16 bits become after four zero bytes (by linearity)."""
    halves = []
    for shift in (0, 16):
        state = np.arange(1 << 16, dtype=np.uint32) << np.uint32(shift)
        for _ in range(4):
            state = TABLE[state & 0xFF] ^ (state >> 8)
        halves.append(state)
    return halves[0], halves[1]


TABLE = _byte_table()
_TABLE_LIST = [int(v) for v in TABLE]
_LOW_WORD, _HIGH_WORD = _word_tables()
_BYTE_BITS = (np.arange(256, dtype=np.uint32)[:, None] >> np.arange(8, dtype=np.uint32)) & 1


def crc32c(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """The CRC-32C of `data`'s bytes (as TensorFlow's `crc32c::Value` computes it)."""
    raw = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    raw = np.ascontiguousarray(raw).reshape(-1).view(np.uint8)
    if raw.size < SHORT_INPUT:
        crc = 0xFFFFFFFF
        table = _TABLE_LIST
        for byte in raw.tobytes():
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF
    # Whole chunks at the end, so that every fold shifts by the same CHUNK_BYTES; the first
    # chunk carries the initial value in its first four bytes, so it needs at least four.
    first = raw.size % CHUNK_BYTES
    if first < 4:
        first += CHUNK_BYTES
    state = _raw_crc(raw[:first], initial=True)
    for start in range(first, raw.size, CHUNK_BYTES):
        folded = _apply(_shift_tables(MAX_LANES.bit_length() - 1), state)
        state = folded ^ _raw_crc(raw[start : start + CHUNK_BYTES], initial=False)
    return int(state[0]) ^ 0xFFFFFFFF


def unmask(masked: int) -> int:
    """Undo TensorFlow's CRC masking (its `crc32c::Mask`: rotate right 15 bits, add a delta)."""
    rotated = (masked - MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF


def _raw_crc(chunk: np.ndarray, initial: bool) -> np.ndarray:
    """The CRC of `chunk` from a zero state, without final inversion, as a 1-element array.

    With `initial`, the result is as if the state had started at 0xFFFFFFFF: for a reflected
    CRC that is the same as inverting the first four bytes.
    """
    lanes = 1 << (-(-chunk.size // LANE_BYTES) - 1).bit_length()  # a power of two
    padded = np.zeros(lanes * LANE_BYTES, dtype=np.uint8)
    start = padded.size - chunk.size  # zero padding in front changes nothing
    padded[start:] = chunk
    if initial:
        padded[start : start + 4] ^= np.uint8(0xFF)
    state = np.zeros(lanes, dtype=np.uint32)
    low = np.empty(lanes, dtype=np.uint32)
    # Four bytes a step: xor in a little-endian word, then feed four zero bytes by table.
    for row in np.ascontiguousarray(padded.view("<u4").reshape(lanes, LANE_BYTES // 4).T):
        state ^= row
        np.bitwise_and(state, 0xFFFF, out=low)
        state >>= 16
        state = _HIGH_WORD[state]
        state ^= _LOW_WORD[low]
    level = 0
    while state.size > 1:
        state = _apply(_shift_tables(level), state[0::2]) ^ state[1::2]
        level += 1
    return state


@cache
def _shift_tables(level: int) -> np.ndarray:
    """`_apply` tables that feed LANE_BYTES * 2**level zero bytes to CRC states."""
    return _tables(_shift_columns(level))


@cache
def _shift_columns(level: int) -> np.ndarray:
    """The same as a bit matrix: the 32 states that the 32 single-bit states become."""
    if level > 0:
        return _apply(_shift_tables(level - 1), _shift_columns(level - 1))
    bits = np.uint32(1) << np.arange(32, dtype=np.uint32)
    columns = TABLE[bits & 0xFF] ^ (bits >> 8)  # one zero byte
    for _ in range(LANE_BYTES.bit_length() - 1):
        columns = _apply(_tables(columns), columns)  # squared: twice as many zero bytes
    return columns


def _tables(columns: np.ndarray) -> np.ndarray:
    """For each byte of a state, what its 256 values contribute (the matrix is linear)."""
    return np.bitwise_xor.reduce(_BYTE_BITS[None] * columns.reshape(4, 1, 8), axis=2)


def _apply(tables: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Multiply each 32-bit state by the bit matrix behind `tables`."""
    return (
        tables[0][states & 0xFF]
        ^ tables[1][(states >> 8) & 0xFF]
        ^ tables[2][(states >> 16) & 0xFF]
        ^ tables[3][states >> 24]
    )
