"""MelodyRNN's checkpoints: Magenta `.mag` bundles and the native safetensors format.

Both are read and written as every events-RNN family's are (`events_rnn.checkpoint`);
only the config table and the encoder are MelodyRNN's.
"""

from __future__ import annotations

from bridge.models.events_rnn.checkpoint import EventsRnnFamily
from bridge.models.melody_rnn.config import CONFIGS, MelodyRnnConfig
from bridge.models.melody_rnn.encoding import MelodyEncoder

FAMILY: EventsRnnFamily[MelodyRnnConfig] = EventsRnnFamily(
    "melody_rnn", "MelodyRNN", CONFIGS, MelodyEncoder
)
build_network = FAMILY.build_network
save_native = FAMILY.save_native
