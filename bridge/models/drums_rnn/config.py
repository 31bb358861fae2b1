"""Magenta's DrumsRNN `drum_kit` configuration, as data.

The numbers are Magenta's (drums_rnn_model.py): the nine-class MultiDrumOneHotEncoding
inside a LookbackEventSequenceEncoderDecoder given an *empty* list of lookbacks (not the
default one- and two-bar distances) and a 6-bit counter; three 256-unit LSTM layers with
attention over the last 32 outputs. A `.mag` stores only the generator id, so this table
is what makes an official bundle behave as in Magenta; layer sizes come from its shapes.
Magenta's other drum config, `one_drum` (all drums as one class, 2 steps per quarter),
is not ported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class DrumsRnnConfig:
    """Everything needed to rebuild a DrumsRNN: its encoding, network shape and training."""

    name: str = "drum_kit"
    layer_sizes: tuple[int, ...] = (256, 256, 256)
    attn_length: int = 32
    binary_counter_bits: int = 6
    steps_per_quarter: int = 4
    # Magenta's training hparams, kept for native training.
    batch_size: int = 128
    dropout_keep_prob: float = 0.5
    clip_norm: float = 3.0
    learning_rate: float = 0.001

    def with_layers(self, layer_sizes: tuple[int, ...]) -> DrumsRnnConfig:
        return replace(self, layer_sizes=tuple(layer_sizes))


CONFIGS: dict[str, DrumsRnnConfig] = {"drum_kit": DrumsRnnConfig()}
