"""Seeded random clips for property-style tests."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from bridge.music.clip import Clip, Note

TIME_SIGNATURES = [(4, 4), (3, 4), (6, 8), (7, 8), (5, 4), (2, 2), (12, 16)]

RandomClip = Callable[..., Clip]


@pytest.fixture
def random_clip() -> RandomClip:
    """A factory: random_clip(seed, grid=..., mute_rate=..., ...) -> Clip.

    Times are multiples of 1/grid beat (grid=None: any float), so round trips can be exact.
    """

    def make(
        seed: int,
        *,
        grid: int | None = 480,
        max_notes: int = 40,
        mute_rate: float = 0.2,
        max_duration: float = 3.0,
        pitches: tuple[int, int] = (0, 127),
    ) -> Clip:
        rng = random.Random(seed)
        time_signature = rng.choice(TIME_SIGNATURES)
        beats_per_bar = time_signature[0] * 4 / time_signature[1]
        length = rng.randint(1, 8) * beats_per_bar

        def beats(low: float, high: float) -> float:
            if grid is None:
                return rng.uniform(low, high)
            return rng.randint(round(low * grid), round(high * grid)) / grid

        notes = []
        for _ in range(rng.randint(1, max_notes)):
            start = beats(0, length - 1 / 64)
            duration = max(beats(0, min(max_duration, length - start)), 1 / (grid or 64))
            notes.append(
                Note(
                    rng.randint(*pitches),
                    start,
                    duration,
                    rng.randint(1, 127),
                    rng.random() < mute_rate,
                )
            )
        qpm = round(rng.uniform(40, 300), rng.choice([0, 1, 2]))
        return Clip(tuple(notes), length, qpm, time_signature)

    return make
