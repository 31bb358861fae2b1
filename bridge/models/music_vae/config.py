"""The MusicVAE and GrooVAE configs the native engine knows, as Magenta's configs.py defines
them: what the data is, how long a sequence is, and how the decoder is built.

Layer and latent sizes are not listed: they are read from the checkpoint's shapes, so an
official checkpoint and a smaller one made for tests load alike.
"""

from __future__ import annotations

from dataclasses import dataclass

MELODY_DEPTH = 90  # OneHotMelodyConverter: no event, note off, pitches 21-108
DRUM_CLASSES_DEPTH = 512  # DrumsConverter's one-hot of the 9-class hit sets
DRUM_ROLL_DEPTH = 10  # DrumsConverter(roll_input=True): 9 hit bits and a rest bit
GROOVE_DEPTH = 27  # GrooveConverter: hits, velocities and offsets of 9 drums
KEY_LOCK_DATA = ("melody", "trio")  # data whose decoders draw pitches a key lock can mask


@dataclass(frozen=True)
class MusicVaeConfig:
    name: str
    data: str  # "melody", "drums", "trio" or "groove": which data converter
    input_depth: int
    output_depth: int
    max_seq_len: int  # steps (16ths) of one sequence
    decoder: str = "categorical"  # or "groove"
    level_lengths: tuple[int, ...] = ()  # hierarchical decoder: (segments, steps each)
    part_depths: tuple[int, ...] = ()  # split decoder: output depth of each part
    # GrooveConverter's input: "full" (the groove itself), "humanize" (hits only: the model
    # adds velocities and timing) or "tap" (each step's loudest hit on one drum: drumify).
    groove_input: str = "full"
    fixed_velocities: bool = False  # GrooveConverter(fixed_velocities): input velocities zeroed

    @property
    def bars(self) -> int:
        return self.max_seq_len // 16


def _groove(
    name: str, bars: int, groove_input: str = "full", fixed_velocities: bool = False
) -> MusicVaeConfig:
    return MusicVaeConfig(
        name,
        "groove",
        GROOVE_DEPTH,
        GROOVE_DEPTH,
        16 * bars,
        "groove",
        groove_input=groove_input,
        fixed_velocities=fixed_velocities,
    )


CONFIGS: dict[str, MusicVaeConfig] = {
    config.name: config
    for config in (
        MusicVaeConfig("cat-mel_2bar_small", "melody", MELODY_DEPTH, MELODY_DEPTH, 32),
        MusicVaeConfig("cat-mel_2bar_big", "melody", MELODY_DEPTH, MELODY_DEPTH, 32),
        MusicVaeConfig(
            "hierdec-mel_16bar", "melody", MELODY_DEPTH, MELODY_DEPTH, 256, level_lengths=(16, 16)
        ),
        MusicVaeConfig("cat-drums_2bar_small", "drums", DRUM_ROLL_DEPTH, DRUM_CLASSES_DEPTH, 32),
        MusicVaeConfig("cat-drums_2bar_big", "drums", DRUM_ROLL_DEPTH, DRUM_CLASSES_DEPTH, 32),
        MusicVaeConfig(
            "hierdec-trio_16bar",
            "trio",
            2 * MELODY_DEPTH + DRUM_CLASSES_DEPTH,
            2 * MELODY_DEPTH + DRUM_CLASSES_DEPTH,
            256,
            level_lengths=(16, 16),
            part_depths=(MELODY_DEPTH, MELODY_DEPTH, DRUM_CLASSES_DEPTH),
        ),
        _groove("groovae_2bar_humanize", 2, "humanize"),
        _groove("groovae_2bar_tap_fixed_velocity", 2, "tap", fixed_velocities=True),
        _groove("groovae_4bar", 4),
    )
}


def config_named(name: str) -> MusicVaeConfig:
    """The config of that name; unknown names list the known ones."""
    if name not in CONFIGS:
        raise ValueError(f"unknown MusicVAE config {name!r}; known: {', '.join(CONFIGS)}")
    return CONFIGS[name]
