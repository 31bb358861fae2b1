"""What Coconet trains and is scored on: crops of chorales as piano rolls, with masks.

Training follows lib_data's `get_featuremaps`: each chorale gives a random crop of
`crop_piece_len` steps (the whole chorale when shorter), encoded as a [time, pitch, voice]
roll, with a fresh mask from the `maskout_method` (coconet_train's default: orderless), and
a batch is padded to its longest crop, the crops' lengths kept for the loss. Each step
draws `batch_size` different chorales at random, where magenta walks through shuffled
epochs: the same in expectation. Magenta transposes nothing; `transpose` moves each crop
by a random number of semitones (within +-transpose, keeping every voice in 36-81), off
by default. Held-out chorales are cut into consecutive windows instead (64 steps, whatever
the training crop, so models trained on other crops are scored alike), never moved, and
their masks come from a fixed seed, so every evaluation sees the same problems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.models.coconet.config import JSB_MAX_PITCH, JSB_MIN_PITCH, CoconetConfig
from bridge.models.coconet.masks import bernoulli_mask, orderless_mask
from bridge.models.coconet.pianoroll import encode

MASKOUT_METHODS = ("orderless", "bernoulli")


@dataclass(frozen=True)
class Batch:
    """Rolls and masks [batch, time, pitch, voice] (float32) and each row's length."""

    rolls: np.ndarray
    masks: np.ndarray
    lengths: np.ndarray


def random_crop(piece: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """lib_util.random_crop: `length` steps from a uniformly drawn start (all if shorter)."""
    start = int(rng.integers(1 + max(0, len(piece) - length)))
    return piece[start : start + length]


def random_transposition(piece: np.ndarray, most: int, rng: np.random.Generator) -> np.ndarray:
    """The piece moved by a shift drawn uniformly from those within +-`most` semitones that
    keep every pitch in 36-81 (no shift when `most` is 0 or the piece is silent)."""
    sounding = piece[~np.isnan(piece)]
    if most <= 0 or not sounding.size:
        return piece
    low = max(-most, JSB_MIN_PITCH - int(sounding.min()))
    high = min(most, JSB_MAX_PITCH - int(sounding.max()))
    return piece + int(rng.integers(low, high + 1)) if low <= high else piece


def training_mask(
    shape: tuple[int, int, int], method: str, rng: np.random.Generator, ratio: float = 0.5
) -> np.ndarray:
    """lib_mask's training masks: "orderless" (1 to all variables) or "bernoulli" (each
    (step, voice) with probability `ratio`, coconet_train's corrupt_ratio)."""
    if method == "orderless":
        return orderless_mask(shape, rng)
    if method == "bernoulli":
        return bernoulli_mask(shape, ratio, rng)
    raise ValueError(f"mask method {method!r} is not one of {MASKOUT_METHODS}")


def stack(rolls: list[np.ndarray], masks: list[np.ndarray]) -> Batch:
    """lib_util.pad_and_stack: zero-pad rolls and masks to the longest, keep the lengths."""
    lengths = np.array([len(roll) for roll in rolls], np.int64)
    shape = (len(rolls), int(lengths.max()), *rolls[0].shape[1:])
    padded_rolls, padded_masks = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    for row, (roll, mask) in enumerate(zip(rolls, masks, strict=True)):
        padded_rolls[row, : len(roll)], padded_masks[row, : len(mask)] = roll, mask
    return Batch(padded_rolls, padded_masks, lengths)


def training_batch(
    pieces: tuple[np.ndarray, ...],
    config: CoconetConfig,
    batch_size: int,
    rng: np.random.Generator,
    method: str = "orderless",
    transpose: int = 0,
) -> Batch:
    """One step's batch: random chorales, a random crop of each (moved if `transpose`), a
    fresh training mask for each."""
    rows = rng.choice(len(pieces), size=min(batch_size, len(pieces)), replace=False)
    rolls, masks = [], []
    for row in rows:
        crop = random_crop(pieces[row], config.crop_piece_len, rng)
        crop = random_transposition(crop, transpose, rng)
        roll = encode(crop, config.min_pitch, config.max_pitch)
        rolls.append(roll)
        masks.append(training_mask(roll.shape, method, rng))
    return stack(rolls, masks)


def windows(pieces: tuple[np.ndarray, ...], length: int) -> list[np.ndarray]:
    """Every piece cut into consecutive windows of `length` steps (the last may be shorter)."""
    return [
        piece[start : start + length] for piece in pieces for start in range(0, len(piece), length)
    ]


def held_out_batches(
    pieces: tuple[np.ndarray, ...],
    config: CoconetConfig,
    length: int,
    draws: int,
    seed: int,
    batch_size: int = 64,
) -> list[Batch]:
    """Each `length`-step window of the held-out pieces `draws` times, each time under its
    own orderless mask, from `seed`: the same batches on every call."""
    rng = np.random.default_rng(seed)
    rolls = [encode(w, config.min_pitch, config.max_pitch) for w in windows(pieces, length)]
    rows = [(roll, orderless_mask(roll.shape, rng)) for roll in rolls for _ in range(draws)]
    return [
        stack(
            [roll for roll, _ in rows[i : i + batch_size]], [m for _, m in rows[i : i + batch_size]]
        )
        for i in range(0, len(rows), batch_size)
    ]
