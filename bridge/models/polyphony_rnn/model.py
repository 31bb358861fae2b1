"""A loaded PolyphonyRNN: configuration, encoder and network on a device, ready to generate.

Loading, the network, the steppers and the sampler are every events-RNN family's
(`events_rnn`); generation follows the rules of Magenta's PolyphonyRnnSequenceGenerator:

- The primer loses its trailing END (trim_trailing_end_events) and goes to the network whole
  (condition_on_primer); nothing is injected while generating.
- A step takes a varying number of events, so the length asked for is counted in STEP_ENDs:
  Magenta asks for 5 events per step still missing, and asks again, from the sequence so far,
  for 5 per step still missing until the sequence has enough steps; then `set_length` cuts
  it after its last wanted STEP_END (or pads it) and closes it with END. Each request is a
  fresh beam search, as in Magenta. Rows that need another request are continued on their
  own, each with a seed derived from the request's seed, its variation and the round, so a
  seed gives the same result whether a request runs alone or batched. Unlike Magenta, the
  loop gives up (ValueError) after MAX_ROUNDS requests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bridge.models.events_rnn.checkpoint import EventsRnnFamily
from bridge.models.events_rnn.model import EventsGeneration, EventsRnn, check_steps_per_quarter
from bridge.models.events_rnn.sampling import Extension, SamplingOptions
from bridge.models.events_rnn.texture import TextureRule
from bridge.models.polyphony_rnn.config import CONFIGS, PolyphonyRnnConfig
from bridge.models.polyphony_rnn.encoding import PolyphonyEncoder, allowed_events
from bridge.music.polyphony import END, PITCHES, START, STEP_END, PolyphonicSequence

# Magenta asks again as long as steps are missing; a model that (almost) never ends a step
# would keep a job busy for ever, so the native loop gives up after this many requests.
MAX_ROUNDS = 100


FAMILY: EventsRnnFamily[PolyphonyRnnConfig] = EventsRnnFamily(
    "polyphony_rnn", "PolyphonyRNN", CONFIGS, PolyphonyEncoder
)
PolyphonyGeneration = EventsGeneration[PolyphonicSequence]


@dataclass(frozen=True)
class _Work:
    """Rows to extend in one round: a request's variations (round 1) or one variation."""

    request: int
    variation: int | None  # None: all the request's variations, from its primer
    events: np.ndarray
    missing_steps: int
    options: SamplingOptions


class PolyphonyRnn(EventsRnn[PolyphonyRnnConfig, PolyphonicSequence]):
    """Magenta's PolyphonyRnnModel with its sequence generator's rules, natively."""

    family = FAMILY

    def generate_batch(
        self,
        requests: Sequence[PolyphonyGeneration],
        num_steps: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[list[PolyphonicSequence]]:
        """Continue each primer by `num_steps` steps (not events), as batches of rows.

        Each result holds the primer followed by the new steps and ends with STEP_END, END,
        as Magenta's do. Primers of equal length in events share a batch;
        `progress(done, total)` counts generated events, and `total` grows when Magenta's
        rule asks for more.
        """
        if num_steps < 0:
            raise ValueError(f"num_steps must not be negative, got {num_steps}")
        check_steps_per_quarter(self.config.steps_per_quarter, [r.primer for r in requests])
        primers = [request.primer.without_trailing_end() for request in requests]
        targets = [primer.num_steps + num_steps for primer in primers]
        results: list[list[PolyphonicSequence | None]] = [
            [None] * request.variations for request in requests
        ]
        work = [
            _Work(i, None, primer.events, num_steps, request.options)
            for i, (primer, request) in enumerate(zip(primers, requests, strict=True))
        ]
        counter = _Progress(progress)
        round_index = 0
        while work:
            round_index += 1
            if round_index > MAX_ROUNDS:
                raise ValueError(
                    f"the model ended only {targets[work[0].request] - work[0].missing_steps} "
                    f"of {targets[work[0].request]} steps after {MAX_ROUNDS} requests for more "
                    "events; try a lower temperature"
                )
            unfinished = []
            for group in _groups(work):
                events = group[0].missing_steps * self.config.events_per_step
                rows = self.extend(
                    [item.events for item in group],
                    events,
                    [
                        Extension(
                            request.variations if item.variation is None else 1,
                            item.options,
                            _mask(request.allowed_pitches, request.texture),
                            request.texture,
                        )
                        for item in group
                        for request in [requests[item.request]]
                    ],
                    counter.call(events),
                )
                for item, item_rows in zip(group, rows, strict=True):
                    for offset, row in enumerate(item_rows):
                        variation = offset if item.variation is None else item.variation
                        still = targets[item.request] - int(np.count_nonzero(row == STEP_END))
                        if still > 0:
                            options = _round_options(
                                requests[item.request].options, round_index + 1, variation
                            )
                            unfinished.append(_Work(item.request, variation, row, still, options))
                        else:
                            results[item.request][variation] = replace(
                                primers[item.request], events=row
                            )
            work = unfinished
        return [
            [result.set_length(target) for result in request_results]
            for request_results, target in zip(results, targets, strict=True)
        ]


def _mask(pitches: Collection[int] | None, texture: TextureRule | None) -> np.ndarray | None:
    """The request's allowed pitches as a mask, if it has any. With a texture, START and END
    are not drawn either: mid-continuation they mean nothing, and a row whose density and
    polyphony leave it only those would stall instead of yielding its density."""
    if pitches is None and texture is None:
        return None
    allowed = allowed_events(range(PITCHES) if pitches is None else pitches)
    if texture is not None:
        allowed[[START, END]] = False
    return allowed


def _groups(work: list[_Work]) -> list[list[_Work]]:
    """Work items that can share one batch: equally long, missing as many steps, with the
    same beam search settings."""
    groups: dict[tuple[int, ...], list[_Work]] = {}
    for item in work:
        search = item.options
        key = (len(item.events), item.missing_steps, search.beam_size, search.branch_factor)
        groups.setdefault((*key, search.steps_per_iteration), []).append(item)
    return list(groups.values())


def _round_options(options: SamplingOptions, round_index: int, variation: int) -> SamplingOptions:
    """The options for continuing one variation in a later round: its own derived seed."""
    if options.seed is None:
        return options
    seed = np.random.SeedSequence([options.seed, round_index, variation]).generate_state(1)[0]
    return replace(options, seed=int(seed))


class _Progress:
    """Adds up the events of several extend_batch calls for one progress callback."""

    def __init__(self, progress: Callable[[int, int], None] | None):
        self.progress = progress
        self.done = 0
        self.total = 0

    def call(self, events: int) -> Callable[[int, int], None] | None:
        if self.progress is None:
            return None
        base = self.done
        self.total += events

        def report(done: int, _: int) -> None:
            self.done = base + done
            self.progress(self.done, self.total)

        return report
