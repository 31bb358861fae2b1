"""A loaded PerformanceRNN: configuration, encoder and network on a device, ready to generate.

Loading, the network, the steppers and the sampler are every events-RNN family's
(`events_rnn`); only the encoder differs. The length is counted as Magenta's
PerformanceRnnSequenceGenerator counts it: the request is a number of 10 ms steps of time;
the model is asked for 4 events per note at 15 notes a second for the steps still missing
(60 events a second), and the result is cut (or padded with time shifts) to exactly the
requested steps. The generator's own default, which Magenta's generate script uses, asks
again for the steps still missing until the time is filled; the generator map (and so
bundles served by the magenta backend) asks once and pads the rest with silence
(`fill=False`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

import numpy as np

from bridge.models.events_rnn.checkpoint import EventsRnnFamily
from bridge.models.events_rnn.model import EventsGeneration, EventsRnn
from bridge.models.events_rnn.sampling import Extension, SamplingOptions
from bridge.models.events_rnn.texture import TextureRule
from bridge.models.performance_rnn.config import CONFIGS, PerformanceRnnConfig
from bridge.models.performance_rnn.encoding import PerformanceEncoder
from bridge.music.performance import NOTE_ON, NUM_PITCHES, Performance

MAX_FILL_ROUNDS = 32


FAMILY: EventsRnnFamily[PerformanceRnnConfig] = EventsRnnFamily(
    "performance_rnn", "PerformanceRNN", CONFIGS, PerformanceEncoder
)
PerformanceGeneration = EventsGeneration[Performance]


class PerformanceRnn(EventsRnn[PerformanceRnnConfig, Performance]):
    """Magenta's PerformanceRnnModel with its sequence generator's length rules, natively."""

    family = FAMILY

    def events_for(self, num_steps: int) -> int:
        """How many events the generator asks for to fill `num_steps` steps of time."""
        density = max(1.0, self.config.note_density)
        return math.ceil(
            self.config.events_per_note * density * num_steps / self.config.steps_per_second
        )

    def generate(
        self,
        primer: Performance,
        num_steps: int,
        variations: int = 1,
        options: SamplingOptions | None = None,
        progress: Callable[[int, int], None] | None = None,
        fill: bool = True,
        allowed_pitches: Collection[int] | None = None,
        texture: TextureRule | None = None,
    ) -> list[Performance]:
        """Continue `primer` by `num_steps` steps of time, `variations` times in one batch,
        starting notes only at `allowed_pitches` if given, with the `texture` if given.

        Each result holds the primer followed by the new events and lasts exactly
        `primer.num_steps + num_steps` steps, as Magenta's do.
        """
        request = PerformanceGeneration(
            primer, variations, options or SamplingOptions(), allowed_pitches, texture
        )
        return self.generate_batch([request], num_steps, progress, fill)[0]

    def generate_batch(
        self,
        requests: Sequence[PerformanceGeneration],
        num_steps: int,
        progress: Callable[[int, int], None] | None = None,
        fill: bool = True,
    ) -> list[list[Performance]]:
        """Several primers of as many events, each extended by `num_steps` steps of time.

        The first request for events runs all rows as one batch (see `extend_batch`); a row
        that has not filled its time yet asks again alone, from its own seed stream
        (derived from the request's seed, the row and the round), so a seeded row gives the
        same result batched or alone.
        """
        if num_steps < 1:
            raise ValueError(f"the generated section must last at least one step, got {num_steps}")
        bins = self.config.num_velocity_bins
        for request in requests:
            if request.primer.num_velocity_bins != bins:
                raise ValueError(
                    f"the model {self.config.name} uses {bins} velocity bins, the primer "
                    f"{request.primer.num_velocity_bins}"
                )
        first = self.events_for(num_steps)
        rows = self.extend(
            [request.primer.events for request in requests],
            first,
            [
                Extension(request.variations, request.options, self._mask(request), request.texture)
                for request in requests
            ],
            progress,
        )
        results = []
        for request, request_rows in zip(requests, rows, strict=True):
            total = request.primer.num_steps + num_steps
            performances = []
            for row, events in enumerate(request_rows):
                performance = Performance(events, bins)
                if fill:
                    performance = self._fill(performance, total, request, row, progress)
                performances.append(performance.set_length(total))
            results.append(performances)
        return results

    def _mask(self, request: PerformanceGeneration) -> np.ndarray | None:
        """The request's allowed pitches as a mask over this model's events, if it has any."""
        if request.allowed_pitches is None:
            return None
        return _note_on_mask(self.encoder.num_classes, request.allowed_pitches)

    def _fill(
        self,
        performance: Performance,
        total: int,
        request: PerformanceGeneration,
        row: int,
        progress: Callable[[int, int], None] | None,
    ) -> Performance:
        """Ask again for the steps still missing, as Magenta's generator does, until filled.

        Magenta would ask forever of a model that never moves time on; after
        MAX_FILL_ROUNDS requests the rest is left to set_length's silence. `progress`
        counts each of these requests on its own.
        """
        rounds = 1
        while performance.num_steps < total and rounds < MAX_FILL_ROUNDS:
            more = self.events_for(total - performance.num_steps)
            options = request.options
            seeded = replace(options, seed=_round_seed(options.seed, row, rounds))
            extension = Extension(1, seeded, self._mask(request), request.texture)
            ((events,),) = self.extend([performance.events], more, [extension], progress)
            performance = Performance(events, self.config.num_velocity_bins)
            rounds += 1
        return performance


def _note_on_mask(num_classes: int, pitches: Collection[int]) -> np.ndarray:
    """A mask over performance events that lets notes start only at these pitches: every
    NOTE_OFF, TIME_SHIFT and VELOCITY stays allowed, so held notes can always end."""
    allowed = np.ones(num_classes, dtype=bool)
    allowed[NOTE_ON : NOTE_ON + NUM_PITCHES] = False
    for pitch in pitches:
        if 0 <= pitch < NUM_PITCHES:
            allowed[NOTE_ON + pitch] = True
    return allowed


def _round_seed(seed: int | None, row: int, round_: int) -> int | None:
    """A seed for a row's later request for events, independent of the rest of the batch."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, row, round_]).generate_state(1)[0])
