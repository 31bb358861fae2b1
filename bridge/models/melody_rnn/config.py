"""Magenta's MelodyRNN configurations, as data.

The numbers are Magenta's (melody_rnn_model.py): the [48, 84) pitch range, lookback
distances of one and two 16-step bars, and the default layer sizes. An official bundle
only stores its generator id, so these tables are what make it behave as in Magenta.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Encoding = Literal["one_hot", "lookback", "key_melody"]

DEFAULT_MIN_NOTE = 48
DEFAULT_MAX_NOTE = 84
STEPS_PER_BAR = 16  # Magenta's lookback and bar inputs assume 4/4 at 4 steps per quarter.


@dataclass(frozen=True)
class MelodyRnnConfig:
    """Everything needed to rebuild a MelodyRNN: its encoding and its network shape."""

    name: str
    encoding: Encoding
    layer_sizes: tuple[int, ...] = (128, 128)
    attn_length: int = 0
    min_note: int = DEFAULT_MIN_NOTE
    max_note: int = DEFAULT_MAX_NOTE
    transpose_to_key: int | None = 0
    lookback_distances: tuple[int, ...] = field(default=(STEPS_PER_BAR, 2 * STEPS_PER_BAR))
    binary_counter_bits: int = 5

    @property
    def note_range(self) -> int:
        return self.max_note - self.min_note

    @property
    def clip_norm(self) -> float:
        """Magenta's gradient clipping for the config: 3 with attention, 5 without."""
        return 3.0 if self.attn_length else 5.0

    def with_layers(self, layer_sizes: tuple[int, ...]) -> MelodyRnnConfig:
        return replace(self, layer_sizes=tuple(layer_sizes))


CONFIGS: dict[str, MelodyRnnConfig] = {
    "basic_rnn": MelodyRnnConfig("basic_rnn", "one_hot"),
    "mono_rnn": MelodyRnnConfig(
        "mono_rnn", "one_hot", min_note=0, max_note=128, transpose_to_key=None
    ),
    "lookback_rnn": MelodyRnnConfig("lookback_rnn", "lookback"),
    "attention_rnn": MelodyRnnConfig(
        "attention_rnn", "key_melody", attn_length=40, binary_counter_bits=7
    ),
}
