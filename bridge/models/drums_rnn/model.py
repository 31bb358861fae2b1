"""A loaded DrumsRNN: configuration, encoder and network on a device, ready to generate.

Loading, the network, the steppers and the sampler are every events-RNN family's
(`events_rnn`); only the encoder and the config table differ from MelodyRNN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bridge.models.drums_rnn.config import CONFIGS, DrumsRnnConfig
from bridge.models.drums_rnn.encoding import DrumEncoder
from bridge.models.events_rnn.checkpoint import EventsRnnFamily
from bridge.models.events_rnn.model import EventsGeneration, EventsRnn, check_steps_per_quarter
from bridge.models.events_rnn.sampling import Extension
from bridge.music.drums import DrumTrack

FAMILY: EventsRnnFamily[DrumsRnnConfig] = EventsRnnFamily(
    "drums_rnn", "DrumsRNN", CONFIGS, DrumEncoder
)
DrumGeneration = EventsGeneration[DrumTrack]


class DrumsRnn(EventsRnn[DrumsRnnConfig, DrumTrack]):
    """Magenta's DrumsRnnModel, natively."""

    family = FAMILY

    def generate_batch(
        self,
        requests: Sequence[DrumGeneration],
        num_steps: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[list[DrumTrack]]:
        """Continue equally long primers by `num_steps` steps, as one batch of rows.

        Each result holds the primer followed by the new steps, as Magenta's do.
        """
        check_steps_per_quarter(self.config.steps_per_quarter, [r.primer for r in requests])
        rows = self.extend(
            [request.primer.events for request in requests],
            num_steps,
            [
                Extension(request.variations, request.options, texture=request.texture)
                for request in requests
            ],
            progress,
        )
        return [
            [replace(request.primer, events=events) for events in request_rows]
            for request, request_rows in zip(requests, rows, strict=True)
        ]
