"""The events-RNN families training knows: checkpoints, corpus extraction, n-gram vocabulary.

Training, evaluation and the CLI look a family up here by one of its config names or by a
checkpoint; another family (PerformanceRNN) trains once it has an extractor and an entry in
`TRAINABLE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bridge.models.checkpoints.bundle import read_bundle
from bridge.models.checkpoints.native import read_native_meta
from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.drums_rnn.model import FAMILY as DRUMS
from bridge.models.events_rnn.checkpoint import NATIVE_SUFFIXES, EventsRnnFamily
from bridge.models.melody_rnn.checkpoint import FAMILY as MELODY
from bridge.models.polyphony_rnn.model import FAMILY as POLYPHONY
from bridge.music.drums import NUM_DRUM_EVENTS
from bridge.music.polyphony import NUM_POLYPHONIC_EVENTS, STEP_END
from bridge.training.corpus import Extraction, load_corpus, read_folder
from bridge.training.drums_rnn.corpus import DrumExtractionRules
from bridge.training.melody_rnn.corpus import ExtractionRules
from bridge.training.ngram import Vocabulary, class_vocabulary, melody_vocabulary
from bridge.training.polyphony_rnn.corpus import MAGENTA_TRANSPOSITIONS, PolyphonyExtractionRules


@dataclass(frozen=True)
class TrainableFamily:
    """A family's checkpoints, and what a config of it trains and is scored on."""

    checkpoints: EventsRnnFamily[Any]
    # (config, held_out) -> magenta's pipeline rules for it; held-out data is not augmented
    extraction: Callable[[Any, bool], Extraction]
    vocabulary: Callable[[Any], Vocabulary]  # config -> the n-gram baseline's events

    def read_sequences(self, source: Path, config: Any, held_out: bool = False) -> list[np.ndarray]:
        """Sequences of a `.npz` corpus, or extracted from a folder of music files (held-out
        folders without the training set's augmentation, so each piece is scored once)."""
        if source.suffix == ".npz":
            return load_corpus(source)
        corpus = read_folder(source, self.extraction(config, held_out), progress=True)
        if not corpus.sequences:
            raise ValueError(f"no usable {self.checkpoints.title} sequence found under {source}")
        return corpus.sequences


TRAINABLE: dict[str, TrainableFamily] = {
    family.checkpoints.name: family
    for family in (
        TrainableFamily(
            MELODY,
            # magenta's EncoderPipeline squashes into the config's range and key
            lambda config, held_out: ExtractionRules(
                min_note=config.min_note,
                max_note=config.max_note,
                transpose_to_key=config.transpose_to_key,
            ),
            lambda config: melody_vocabulary(config.min_note, config.max_note),
        ),
        TrainableFamily(
            DRUMS,
            lambda config, held_out: DrumExtractionRules(
                steps_per_quarter=config.steps_per_quarter
            ),
            lambda config: class_vocabulary(NUM_DRUM_EVENTS),
        ),
        TrainableFamily(
            POLYPHONY,
            # Magenta transposes into 9 keys (its eval split too); held-out data stays in its key
            lambda config, held_out: PolyphonyExtractionRules(
                steps_per_quarter=config.steps_per_quarter,
                transpositions=(0,) if held_out else MAGENTA_TRANSPOSITIONS,
            ),
            lambda config: class_vocabulary(NUM_POLYPHONIC_EVENTS, default=STEP_END),
        ),
    )
}


def family_of_config(name: str) -> TrainableFamily:
    """The trainable family with a config of that name (attention_rnn, drum_kit, ...)."""
    for family in TRAINABLE.values():
        if name in family.checkpoints.configs:
            return family
    known = ", ".join(c for f in TRAINABLE.values() for c in f.checkpoints.configs)
    raise ValueError(f"unknown config {name!r}: training knows {known}")


def family_of_checkpoint(path: Path) -> TrainableFamily:
    """The family of a `.mag` bundle (by its generator id) or a native model (by its JSON)."""
    if path.suffix == ".mag":
        return family_of_config(read_bundle(path).generator_id)
    if path.suffix in NATIVE_SUFFIXES:
        return family_named(str(read_native_meta(path).get("family")))
    raise CheckpointError(f"{path}: expected a Magenta .mag bundle or a .safetensors file")


def family_named(name: str) -> TrainableFamily:
    """The trainable family a config file or native checkpoint names (melody_rnn, ...)."""
    if name not in TRAINABLE:
        raise ValueError(f"family {name!r} cannot be trained or evaluated natively yet")
    return TRAINABLE[name]
