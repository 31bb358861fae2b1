"""A loaded MelodyRNN: configuration, encoder and network on a device, ready to generate.

Loading, the network, the steppers and the sampler are every events-RNN family's
(`events_rnn`); MelodyRNN adds Magenta's squashing into the model's range and pitch
constraints.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np

from bridge.models.events_rnn.model import EventsGeneration, EventsRnn
from bridge.models.events_rnn.sampling import Extension, SamplingOptions
from bridge.models.melody_rnn.checkpoint import FAMILY
from bridge.models.melody_rnn.config import MelodyRnnConfig
from bridge.music.melody import Melody

Generation = EventsGeneration[Melody]  # a primer, its variations, sampling and pitches


class MelodyRnn(EventsRnn[MelodyRnnConfig, Melody]):
    """Magenta's MelodyRnnModel, natively: squash into range, extend, transpose back."""

    family = FAMILY

    def generate(
        self,
        primer: Melody,
        num_steps: int,
        variations: int = 1,
        options: SamplingOptions | None = None,
        allowed_pitches: Collection[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Melody]:
        """Continue `primer` by `num_steps` steps, `variations` times in one batch.

        As in Magenta, the primer is transposed toward C and into the model's pitch range
        first, and every result is transposed back. `allowed_pitches` (original pitches,
        e.g. a key's notes within a range) restricts which notes the model may start.
        """
        request = Generation(primer, variations, options or SamplingOptions(), allowed_pitches)
        return self.generate_batch([request], num_steps, progress)[0]

    def generate_batch(
        self,
        requests: Sequence[Generation],
        num_steps: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[list[Melody]]:
        """Several generations of equally long primers as one batch (see `extend_batch`)."""
        squashed, extensions = [], []
        for request in requests:
            melody, amount = request.primer.squash(
                self.config.min_note, self.config.max_note, self.config.transpose_to_key
            )
            squashed.append((melody.events, amount))
            allowed = self._allowed_events(request.allowed_pitches, amount)
            extensions.append(
                Extension(request.variations, request.options, allowed, request.texture)
            )
        rows = self.extend([events for events, _ in squashed], num_steps, extensions, progress)
        return [
            [
                Melody(
                    np.where(row >= 0, row - amount, row),
                    request.primer.steps_per_quarter,
                    request.primer.steps_per_bar,
                )
                for row in request_rows
            ]
            for request, request_rows, (_, amount) in zip(requests, rows, squashed, strict=True)
        ]

    def _allowed_events(
        self, allowed_pitches: Collection[int] | None, amount: int
    ) -> np.ndarray | None:
        """The allowed pitches, transposed like the primer, as a mask over events -2..127."""
        if allowed_pitches is None:
            return None
        allowed = np.zeros(130, dtype=bool)
        allowed[:2] = True  # no event and note off are always allowed
        for pitch in allowed_pitches:
            shifted = pitch + amount
            if self.config.min_note <= shifted < self.config.max_note:
                allowed[shifted + 2] = True
        if not allowed[2:].any():
            raise ValueError(
                "none of the allowed pitches fall inside the model's range "
                f"({self.config.min_note}-{self.config.max_note - 1} after "
                f"transposing the clip by {amount})"
            )
        return allowed
