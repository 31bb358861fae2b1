"""The n-gram baseline as a generator: it continues the same primers a model continues.

`bridge.training.ngram` scores held-out events; here the same model draws them, one event at
a time, so its continuations are measured by the same musical statistics as a model's. It
reads and writes each kind of music as the family's generator does: melodies squashed toward
C into MelodyRNN's range and transposed back, drum steps as the nine-class sets on the clip's
own kit, polyphony as PolyphonyRNN's events counted in steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bridge.music.clip import Clip
from bridge.music.drums import DrumKit, DrumTrack, extract_drum_track
from bridge.music.melody import NO_EVENT, Melody, extract_melody
from bridge.music.polyphony import END, START, STEP_END, PolyphonicSequence
from bridge.music.polyphony import extract_polyphonic_sequence as extract_polyphony
from bridge.training.events_rnn.trainable import family_of_config
from bridge.training.ngram import NGramModel

# The family config whose corpus pipeline and vocabulary the baseline uses for each content.
CONTENT_CONFIGS = {"melody": "attention_rnn", "drums": "drum_kit", "polyphony": "polyphony"}
MAX_EVENTS_PER_STEP = 32  # polyphony: a step longer than this is closed (never in real music)


@dataclass(frozen=True)
class NGramBaseline:
    """An n-gram fitted on a content's training sequences, and the config that read them."""

    content: str
    ngram: NGramModel
    config: Any

    @property
    def name(self) -> str:
        return f"{self.ngram.order}-gram"

    @classmethod
    def fit(cls, content: str, train: Path, order: int) -> NGramBaseline:
        """Fit on a training folder or `.npz` corpus of melodies, drum tracks or polyphony."""
        if content not in CONTENT_CONFIGS:
            raise ValueError(
                f"the n-gram baseline knows {', '.join(CONTENT_CONFIGS)}, not {content}"
            )
        family = family_of_config(CONTENT_CONFIGS[content])
        config = family.checkpoints.configs[CONTENT_CONFIGS[content]]
        sequences = family.read_sequences(train, config)
        return cls(
            content, NGramModel.fit(sequences, order, vocabulary=family.vocabulary(config)), config
        )

    def read_sequences(self, source: Path) -> list[np.ndarray]:
        """Held-out sequences as this baseline's corpus pipeline reads them (for its NLL)."""
        family = family_of_config(CONTENT_CONFIGS[self.content])
        return family.read_sequences(source, self.config, held_out=True)

    def continue_clip(self, primer: Clip, bars: int, seed: int) -> Clip:
        """`bars` new bars after `primer`, drawn with a generator seeded by `seed`."""
        rng = np.random.default_rng(seed)
        steps = bars * round(primer.beats_per_bar * 4)
        if self.content == "melody":
            notes = self._melody(primer, steps, rng)
        elif self.content == "drums":
            track = extract_drum_track(primer)
            events = self._extend(track.events.tolist(), steps, rng)
            notes = DrumTrack(np.array(events), 4, track.steps_per_bar).to_notes(
                DrumKit.from_clip(primer)
            )
        else:
            notes = self._polyphony(primer, steps, rng)
        return Clip.from_notes(
            notes,
            length=bars * primer.beats_per_bar,
            qpm=primer.qpm,
            time_signature=primer.time_signature,
            drums=self.content == "drums",
        )

    def _melody(self, primer: Clip, steps: int, rng: np.random.Generator) -> list:
        config = self.config
        melody = extract_melody(primer)
        squashed, amount = melody.squash(config.min_note, config.max_note, config.transpose_to_key)
        primer_steps = round(primer.length * 4)
        context = squashed.events.tolist()[:primer_steps]
        context += [NO_EVENT] * (primer_steps - len(context))
        new = np.array(self._extend(context, steps, rng))
        result = Melody(np.where(new >= 0, new - amount, new), 4, melody.steps_per_bar)
        return result.to_notes(velocity=_velocity(primer))

    def _polyphony(self, primer: Clip, steps: int, rng: np.random.Generator) -> list:
        sequence = extract_polyphony(primer)
        events = sequence.events.tolist()
        done, in_step = 0, 0
        while done < steps:
            event = self.ngram.sample_next(events, rng, exclude=(START, END))
            if in_step == MAX_EVENTS_PER_STEP:
                event = STEP_END
            events.append(event)
            done, in_step = (done + 1, 0) if event == STEP_END else (done, in_step + 1)
        finished = PolyphonicSequence(np.array([*events, END]), 4, sequence.steps_per_bar)
        return finished.to_notes(_velocity(primer), first_step=sequence.num_steps)

    def _extend(self, context: list[int], steps: int, rng: np.random.Generator) -> list[int]:
        """`steps` events drawn after `context`; only the new ones are returned."""
        events = list(context)
        for _ in range(steps):
            events.append(self.ngram.sample_next(events, rng))
        return events[len(context) :]


def _velocity(clip: Clip) -> int:
    return round(float(np.mean([note.velocity for note in clip.audible_notes])))
