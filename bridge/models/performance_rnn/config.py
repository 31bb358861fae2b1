"""Magenta's PerformanceRNN configurations `performance` and `performance_with_dynamics`, as data.

The numbers are Magenta's (performance_model.py, performance_sequence_generator.py): both
configs feed the network a one-hot PerformanceOneHotEncoding of the last event
(OneHotEventSequenceEncoderDecoder; the modulo and note encodings belong to other configs)
and predict the next event's index; `performance_with_dynamics` adds 32 velocity bins.
Three 512-unit LSTM layers, no attention. A `.mag` stores only the generator id, so this
table is what makes an official bundle behave as in Magenta; layer sizes come from its
shapes. Magenta's `performance_with_dynamics_compact` config feeds the same one-hot input as
an index and bundles under the same id with the same variables, so it loads as
`performance_with_dynamics`. The conditioned configs (note density, pitch histogram) and
the modulo and note-based encodings are not ported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bridge.music.performance import MAX_NOTE_STEPS, STEPS_PER_SECOND, num_events


@dataclass(frozen=True)
class PerformanceRnnConfig:
    """Everything needed to rebuild a PerformanceRNN: its vocabulary, network and generation."""

    name: str
    num_velocity_bins: int = 0
    layer_sizes: tuple[int, ...] = (512, 512, 512)
    attn_length: int = 0
    steps_per_second: int = STEPS_PER_SECOND
    # PerformanceRnnSequenceGenerator: it asks for 4 RNN steps per note at this many notes
    # a second (performance_controls.DEFAULT_NOTE_DENSITY), and ends hanging notes.
    note_density: float = 15.0
    events_per_note: float = 4.0
    max_note_steps: int = MAX_NOTE_STEPS
    # Magenta's training hparams, kept for native training.
    batch_size: int = 64
    dropout_keep_prob: float = 1.0
    clip_norm: float = 3.0
    learning_rate: float = 0.001

    @property
    def num_classes(self) -> int:
        return num_events(self.num_velocity_bins)

    def with_layers(self, layer_sizes: tuple[int, ...]) -> PerformanceRnnConfig:
        return replace(self, layer_sizes=tuple(layer_sizes))


CONFIGS: dict[str, PerformanceRnnConfig] = {
    "performance": PerformanceRnnConfig("performance"),
    "performance_with_dynamics": PerformanceRnnConfig(
        "performance_with_dynamics", num_velocity_bins=32
    ),
}
