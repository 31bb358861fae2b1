"""Writing new events between two times, around everything else the piece holds: the
reference sampler's procedure (continue, fill a span, accompany), for a batch of variations.

`prepare` poses the task as the reference does: the given events up to `start` are the
prompt (with rests up to `start`); given events after `start` and any extra controls (an
accompaniment's melody) become controls, anticipated into the sequence DELTA ticks ahead of
their time. `generate` then writes one triple at a time per variation: it takes in every
control now due, shows the network the latest window of the sequence (times shifted so the
window starts at 0), draws time, duration and note under the grammar (sampling.py), and
stops a variation at its first event at or past `end`.

Two differences from the reference, both written down where they act: every control is
kept (the reference drops controls in the first 5 ticks: it clips them from DELTA, a number
of seconds, read as ticks), and the window slides in strides: the reference shows the last
1017 tokens again for every token it draws, which a KV cache cannot reuse; here a full
window drops `slide` events at once and the cache is rebuilt then (slide=1 is the
reference's window exactly). A window whose times would span 100 s or more also drops its
oldest events, where the reference would write times past its vocabulary.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch

from bridge.models.transformer.arrival import (
    anticipate,
    between,
    by_time,
    due,
    last_time,
    with_rests,
    without_rests,
)
from bridge.models.transformer.events import Event
from bridge.models.transformer.sampling import (
    NOTE,
    TIME,
    allowed_instruments,
    check_sampling,
    draw,
    legal,
)
from bridge.models.transformer.vocab import (
    ANTICIPATE,
    AUTOREGRESS,
    CONTEXT,
    DURATION_OFFSET,
    INSTRUMENTS,
    MAX_DURATION,
    MAX_TIME,
    MAX_TRACK_INSTRUMENTS,
    NOTE_OFFSET,
    NOTES,
    REST_NOTE,
    TIME_OFFSET,
)
from bridge.music.clip import MAX_NOTES
from bridge.music.errors import ClipError

WINDOW_EVENTS = (CONTEXT - 1 - 6) // 3  # 339 triples: the reference's 1017-token lookback
SLIDE = WINDOW_EVENTS // 3  # events a full window drops at once
MAX_EVENTS = 4096  # events one variation may write before it is stopped

Progress = Callable[[float], None]


class Decoder(Protocol):
    """What generation needs of a network (decoding.CachedDecoder; a scripted one in tests)."""

    @property
    def full(self) -> bool: ...

    def start(self, rows: Sequence[Sequence[int]]) -> torch.Tensor: ...

    def extend(self, chunks: Sequence[Sequence[int]]) -> torch.Tensor: ...


class Model(Protocol):
    @property
    def vocab_size(self) -> int: ...

    def decoder(self) -> Decoder: ...


@dataclass(frozen=True)
class Prompt:
    """A task as the network starts it (prepare)."""

    sequence: list[Event]  # events (with rests) and the controls already due, interleaved
    waiting: list[Event]  # controls still to come, in time order
    future: list[Event]  # given events after `start`: anticipated, and kept as they are
    start: int
    end: int
    now: int  # the prompt's last time: nothing new may come before it
    task: int  # the first token: AUTOREGRESS, or ANTICIPATE when there are controls


@dataclass(frozen=True)
class Generated:
    """One variation: the whole piece (given events, new ones and the given future, in time
    order, without rests or controls), the new events alone, the seed and whether it
    reached `end` (False: stopped after max_events)."""

    events: list[Event]
    new: list[Event]
    seed: int
    complete: bool


def prepare(
    inputs: Sequence[Event],
    start: int,
    end: int,
    controls: Sequence[Event] = (),
    max_notes: int = MAX_NOTES,
) -> Prompt:
    """Pose writing [start, end) ticks around `inputs` (events of the piece) and `controls`
    (notes to accompany, which the result does not hold). ClipError for what the
    vocabulary cannot say or the limits refuse."""
    check_span(start, end)
    inputs, controls = by_time(inputs), by_time(controls)
    check_events(list(inputs) + list(controls), max_notes)
    prompt = with_rests(between(inputs, 0, start), start)
    future = between(inputs, start + 1)
    anticipated = by_time([event.as_control() for event in (*controls, *future)])
    sequence, waiting = anticipate(prompt, anticipated)
    task = ANTICIPATE if anticipated else AUTOREGRESS
    return Prompt(sequence, waiting, future, start, end, last_time(prompt), task)


def check_span(start: int, end: int) -> None:
    """ClipError unless 0 <= start < end, in whole ticks."""
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ClipError(f"span {name} {value!r} is not a whole number of ticks")
    if start < 0:
        raise ClipError(f"span start {start} is before the piece's start")
    if end <= start:
        raise ClipError(f"span [{start}, {end}) ticks is empty")


def check_events(events: Sequence[Event], max_notes: int = MAX_NOTES) -> None:
    """ClipError for more notes or instruments than allowed, or a note the vocabulary lacks."""
    if len(events) > max_notes:
        raise ClipError(f"{len(events)} notes; the limit is {max_notes}")
    for index, event in enumerate(events):
        if event.is_rest or event.control:
            raise ClipError(f"note {index} is a rest or a control; give plain notes")
        if not 0 <= event.note < NOTES:
            raise ClipError(
                f"note {index}: instrument {event.instrument} is not in the vocabulary "
                f"(General MIDI programs 0-127 and drums, {INSTRUMENTS - 1})"
            )
        if event.time < 0 or not 0 <= event.duration < MAX_DURATION:
            raise ClipError(
                f"note {index}: time {event.time} or duration {event.duration} "
                f"ticks outside the vocabulary (durations below {MAX_DURATION})"
            )
    instruments = {event.instrument for event in events}
    if len(instruments) > MAX_TRACK_INSTRUMENTS:
        raise ClipError(
            f"{len(instruments)} instruments; the model plays at most {MAX_TRACK_INSTRUMENTS} "
            "at once (MIDI's channels)"
        )


@dataclass
class _Row:
    """One variation being written."""

    history: list[Event]
    waiting: list[Event]
    now: int
    seed: int
    generator: torch.Generator
    seen: set[int]  # instruments of the history, events and controls
    window: int = 0  # the first history event the network sees
    offset: int = 0  # the time shown as 0
    low: int = 0  # the earliest time in the window
    fed: int = 0  # tokens of the window (and partial) the cache holds, after the task token
    partial: list[int] = field(default_factory=list)  # tokens drawn of the triple being written
    new: list[Event] = field(default_factory=list)
    done: bool = False

    def append(self, event: Event) -> None:
        self.low = event.time if len(self.history) == self.window else min(self.low, event.time)
        self.history.append(event)
        if not event.is_rest:
            self.seen.add(event.instrument)


def generate(
    model: Model,
    prompt: Prompt,
    *,
    variations: int = 1,
    seed: int | None = None,
    temperature: float = 1.0,
    top_p: float = 1.0,
    instruments: Collection[int] | None = None,
    max_events: int = MAX_EVENTS,
    slide: int = SLIDE,
    progress: Progress | None = None,
) -> list[Generated]:
    """`variations` continuations of the prompt, drawn as one batch. Variation i draws from
    a generator seeded `seed + i` (None: a random seed), so it is the same whether drawn
    alone or beside others. `instruments` keeps new notes to those instruments (program
    numbers, DRUMS for drums)."""
    check_sampling(temperature, top_p)
    if not 1 <= slide <= WINDOW_EVENTS:
        raise ValueError(f"slide {slide} must lie in 1-{WINDOW_EVENTS}")
    if variations < 1 or max_events < 1:
        raise ValueError("variations and max_events must be at least 1")
    if instruments is not None:
        instruments = set(instruments)
        bad = sorted(i for i in instruments if not (isinstance(i, int) and 0 <= i < INSTRUMENTS))
        if bad or not instruments:
            raise ClipError(
                f"instruments {bad or '(none)'} are not in the vocabulary: General MIDI "
                f"programs 0-127 and drums ({INSTRUMENTS - 1})"
            )
    first = secrets.randbits(31) if seed is None else seed
    rows = [_start_row(prompt, first + index) for index in range(variations)]
    decoder = model.decoder()
    restart = True
    for _ in range(max_events):
        active = [row for row in rows if not row.done]
        if not active:
            break
        for row in active:
            while row.waiting and due(row.waiting[0], row.now):
                row.append(row.waiting.pop(0))
            restart |= _place_window(row, prompt.start, slide)
        for slot in range(3):
            picks = [index for index, row in enumerate(rows) if not row.done]
            if not picks:
                break
            if restart or decoder.full:
                logits = decoder.start([_visible(row, prompt.task) for row in rows])
                restart = False
            else:
                logits = decoder.extend([[] if row.done else _unfed(row) for row in rows])
            floors = [max(prompt.start, rows[i].now) - rows[i].offset for i in picks]
            allowed = legal(
                slot,
                model.vocab_size,
                floors if slot == TIME else [0] * len(picks),
                [
                    allowed_instruments(rows[i].seen, instruments) if slot == NOTE else None
                    for i in picks
                ],
                logits.device,
            )
            tokens = draw(
                logits[picks], allowed, temperature, top_p, [rows[i].generator for i in picks]
            )
            for index, token in zip(picks, tokens, strict=True):
                row = rows[index]
                row.partial.append(token)
                if slot == TIME and token - TIME_OFFSET + row.offset >= prompt.end:
                    row.done = True
        for row in rows:
            if not row.done and len(row.partial) == 3:
                _complete(row)
        if progress is not None:
            span = prompt.end - prompt.start
            done = [1.0 if row.done else (row.now - prompt.start) / span for row in rows]
            progress(sum(min(1.0, max(0.0, part)) for part in done) / len(rows))
    return [_result(row, prompt) for row in rows]


def _start_row(prompt: Prompt, seed: int) -> _Row:
    generator = torch.Generator().manual_seed(seed)
    row = _Row([], list(prompt.waiting), prompt.now, seed, generator, set())
    for event in prompt.sequence:
        row.append(event)
    return row


def _place_window(row: _Row, start: int, slide: int) -> bool:
    """Move the row's window as it fills (and while its times would span MAX_TIME); whether
    the network must see the row from its start again."""
    size = len(row.history)
    window = row.window
    if size - window > WINDOW_EVENTS:
        window = size - WINDOW_EVENTS + slide - 1
    present = max(start, row.now)
    while window < size and (
        max(present, last_time(row.history[window:])) - _low(row, window) >= MAX_TIME
    ):
        window += 1
    low = _low(row, window)
    if window == row.window and low == row.offset:
        return False
    row.window, row.low, row.offset = window, low, low
    return True


def _low(row: _Row, window: int) -> int:
    """The earliest time from the window's start on (0 for an empty window)."""
    if window == row.window and window < len(row.history):
        return row.low
    return min((event.time for event in row.history[window:]), default=0)


def _shown(event: Event, offset: int) -> tuple[int, int, int]:
    """An event's tokens as the network sees them: its time less the window's offset."""
    return event._replace(time=event.time - offset).tokens()


def _visible(row: _Row, task: int) -> list[int]:
    """Everything the network sees of a row: the task token, the window, the partial triple."""
    tokens = [task]
    for event in row.history[row.window :]:
        tokens += _shown(event, row.offset)
    tokens += row.partial
    row.fed = len(tokens) - 1
    return tokens


def _unfed(row: _Row) -> list[int]:
    """What the row's cache lacks of what the network must see now."""
    history = 3 * (len(row.history) - row.window)
    tokens: list[int] = []
    index = row.fed
    while index < history:
        event = row.history[row.window + index // 3]
        tokens.append(_shown(event, row.offset)[index % 3])
        index += 1
    tokens += row.partial[index - history :]
    row.fed = history + len(row.partial)
    return tokens


def _complete(row: _Row) -> None:
    """The drawn triple as an event of the row (its time back on the piece's clock)."""
    time, duration, note = row.partial
    event = Event(time - TIME_OFFSET + row.offset, duration - DURATION_OFFSET, note - NOTE_OFFSET)
    row.partial = []
    row.append(event)
    row.now = event.time
    if event.note != REST_NOTE:
        row.new.append(event)


def _result(row: _Row, prompt: Prompt) -> Generated:
    events = without_rests([event for event in row.history if not event.control])
    return Generated(by_time(events + prompt.future), row.new, row.seed, row.done)
