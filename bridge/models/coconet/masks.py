"""Which positions of a piano roll Coconet fills in (magenta's lib_mask and the maskers of
lib_sampling), in numpy.

A mask has the piano roll's shape ([..., time, pitch, voice]); 1 marks a position to fill,
0 the context the model hears. With separated voices a mask is the same across pitch: a
voice at a step is masked whole. The Gibbs sampler draws its own masks inside these (with
the device's random numbers: sampling.py).
"""

from __future__ import annotations

import numpy as np


def apply_mask(pianorolls: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The context the model hears: the rolls with the masked positions blanked out."""
    if np.shape(pianorolls) != np.shape(masks):
        raise ValueError(f"rolls {np.shape(pianorolls)} and masks {np.shape(masks)} differ")
    return pianorolls * (1 - masks)


def harmonization_mask(shape: tuple[int, ...]) -> np.ndarray:
    """Every voice but the first (the soprano) masked: harmonize a melody."""
    masks = np.zeros(shape, np.float32)
    masks[..., 1:] = 1.0
    return masks


def voice_mask(shape: tuple[int, ...], voice: int) -> np.ndarray:
    """One voice masked everywhere (lib_sampling's InstrumentMasker)."""
    masks = np.zeros(shape, np.float32)
    masks[..., voice] = 1.0
    return masks


def transition_mask(shape: tuple[int, ...]) -> np.ndarray:
    """The middle half of the time steps masked in every voice (TransitionMasker)."""
    masks = np.zeros(shape, np.float32)
    steps = shape[-3]
    masks[..., int(steps * 0.25) : int(steps * 0.75), :, :] = 1.0
    return masks


def completion_mask(pianorolls: np.ndarray) -> np.ndarray:
    """Each voice masked where it is silent (CompletionMasker): fill in what is missing."""
    silent = ~(np.asarray(pianorolls) > 0).any(axis=-2, keepdims=True)
    return np.broadcast_to(silent, np.shape(pianorolls)).astype(np.float32)


def span_mask(shape: tuple[int, ...], start: int, end: int) -> np.ndarray:
    """Every voice masked on steps [start, end)."""
    masks = np.zeros(shape, np.float32)
    masks[..., start:end, :, :] = 1.0
    return masks


def bernoulli_mask(
    shape: tuple[int, int, int], ratio: float, rng: np.random.Generator
) -> np.ndarray:
    """lib_mask's "bernoulli" training mask: each (step, voice) masked with probability
    `ratio`."""
    steps, _, voices = shape
    masked = rng.random((steps, 1, voices)) < ratio
    return np.broadcast_to(masked, shape).astype(np.float32)


def orderless_mask(shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """lib_mask's "orderless" training mask (orderless NADE): a uniformly drawn number of
    (step, voice) variables, from 1 to all, masked at random places."""
    steps, _, voices = shape
    count = steps * voices
    chosen = rng.choice(count, size=rng.integers(count) + 1, replace=False)
    masked = np.zeros(count, np.float32)
    masked[chosen] = 1.0
    return np.broadcast_to(masked.reshape(steps, 1, voices), shape).astype(np.float32)
