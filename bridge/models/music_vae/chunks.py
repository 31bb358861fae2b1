"""What a MusicVAE reads and writes: a clip cut into spans, one-hot, with its drum kit.

Its own module so every converter (melody, drums, groove, trio) builds on it without
importing another converter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.music.drums import DrumKit


@dataclass(frozen=True)
class Chunks:
    """A clip as the model reads it: `[chunks, steps, depth]` inputs and outputs."""

    inputs: np.ndarray
    outputs: np.ndarray  # one-hot targets, what teacher forcing and reconstruction use
    steps_per_bar: int
    kit: DrumKit | None = None  # drums: the clip's own pitches and velocities per class
