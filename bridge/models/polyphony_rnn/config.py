"""Magenta's PolyphonyRNN `polyphony` configuration, as data.

The numbers are Magenta's (polyphony_model.py): a one-hot PolyphonyOneHotEncoding of 259
event classes in and out, three 256-unit LSTM layers, no attention, 4 steps per quarter.
A `.mag` stores only the generator id, so this table is what makes an official bundle
behave as in Magenta; layer sizes come from its shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class PolyphonyRnnConfig:
    """Everything needed to rebuild a PolyphonyRNN: its network shape, grid and training."""

    name: str = "polyphony"
    layer_sizes: tuple[int, ...] = (256, 256, 256)
    attn_length: int = 0
    steps_per_quarter: int = 4
    # Magenta's generator asks for this many events per step still missing, then again
    # for what is still missing, until the sequence has its steps (polyphony_sequence_generator).
    events_per_step: int = 5
    # Magenta's training hparams, kept for native training.
    batch_size: int = 64
    dropout_keep_prob: float = 0.5
    clip_norm: float = 5.0
    learning_rate: float = 0.001

    def with_layers(self, layer_sizes: tuple[int, ...]) -> PolyphonyRnnConfig:
        return replace(self, layer_sizes=tuple(layer_sizes))


CONFIGS: dict[str, PolyphonyRnnConfig] = {"polyphony": PolyphonyRnnConfig()}
